"""CWEval (Co1lin/CWEval at a pinned commit): 119 tasks in Python, C, C++, JavaScript and Go,
each with a pytest file that checks functionality and security by running the answer.

Data: every file this benchmark reads is a pinned data file (`cweval_pins.tsv`: upstream path
and sha256, from the mirror's MANIFEST), resolved from the offline mirror (`cweval/<path>`) or
downloaded from GitHub at the commit; nothing of upstream is copied into the project.

Prompts are built as upstream's generator builds them (`cweval/generate.py`, default prompt
`direct`, `cweval/ppt/__init__.py`): the task file's text after `BEGIN PROMPT` (the whole file
when there is no such anchor, as in Python) up to the line holding `BEGIN SOLUTION`, stripped,
filled with the language's extension and instruction into `DirectPrompt.PPT` as the only user
message. The template and the per-language instructions are upstream's text: they are read at
run time from the pinned `ppt/__init__.py` (its string literals, parsed with `ast`, never
executed). The completion format uses upstream's `DirectCompletionPrompt` the same way (its
instructions are `DirectPrompt`'s with the replacement upstream applies); the answer is then
scored as that prompt followed by the continuation, as upstream prepends the prompt.

Sample ids are the task files' paths under `benchmark/` without `_task.<ext>`
(`core/py/cwe_020_0`, `core/c/cwe_020_0_c`, `lang/c/cwe_119_0_c`); `language` is the language
(python, c, cpp, javascript, go) and `subset` upstream's reporting group (`core/c`, `lang/c`,
...). The oracle is `scorers.cweval_tests.CWEvalTests`.
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path
from typing import Any, ClassVar

from benchmarks.base import Benchmark, Fidelity, Metric, ScoringContext
from benchmarks.secure_codegen import normalize_cwe
from harness.core.data import DataFile, resolve
from harness.core.fidelity import approximate
from harness.core.types import Message, Sample
from scorers.cweval_tests import CWEvalSuite, CWEvalTask, CWEvalTests, split_entrypoint

REPO = "github:Co1lin/CWEval"
COMMIT = "e9a2a124c8c53679b6d8d27adfd2f6c40e7576d7"
RAW = f"https://raw.githubusercontent.com/Co1lin/CWEval/{COMMIT}/"
PINS = Path(__file__).resolve().with_name("cweval_pins.tsv")
BEGIN_PROMPT = "BEGIN PROMPT"
BEGIN_SOLUTION = "BEGIN SOLUTION"
LANGS = ("py", "c", "cpp", "js", "go")
LANGUAGE = {"py": "python", "c": "c", "cpp": "cpp", "js": "javascript", "go": "go"}
GROUPS = ("core/py", "core/c", "core/cpp", "core/js", "core/go", "lang/c")
PPT_FILE = "cweval/ppt/__init__.py"
COMMONS_FILE = "cweval/commons.py"
PYTEST_INI = "benchmark/pytest.ini"
HEADER_NAMES = {"c": "C_HEADERS", "cpp": "CPP_HEADERS"}


def read_pins(path: Path = PINS) -> dict[str, str]:
    """upstream path -> sha256, from the pin list beside this module."""
    pins = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            upstream, sha = line.split("\t")
            pins[upstream] = sha
    return pins


def pinned(upstream_path: str, sha256: str) -> DataFile:
    return DataFile(
        mirror_path=f"cweval/{upstream_path}",
        sha256=sha256,
        source_repo=REPO,
        revision=COMMIT,
        url=RAW + upstream_path,
    )


def _key(upstream_path: str) -> str:
    return upstream_path.removeprefix("benchmark/")


DATA_FILES = {_key(p): pinned(p, sha) for p, sha in read_pins().items()}


def task_key(path: str) -> tuple[str, str] | None:
    """(sample id, extension) of a `*_task.<ext>` path under benchmark/, else None."""
    stem, dot, ext = path.rpartition(".")
    if not dot or ext not in LANGS or not stem.endswith("_task"):
        return None
    if not stem.startswith(GROUPS):
        return None
    return stem.removesuffix("_task"), ext


def code_prompt(task_code: str) -> str:
    """Upstream's `Gener._get_cases`: after BEGIN PROMPT, up to the BEGIN SOLUTION line."""
    line = next((x for x in task_code.splitlines() if BEGIN_SOLUTION in x), None)
    if line is None:
        raise ValueError("no BEGIN SOLUTION line")
    return task_code.split(BEGIN_PROMPT)[-1].split(line)[0].strip()


def reference_answer(task_code: str) -> str:
    """The reference solution as an answer would give it: the task file before its entry
    point, in one fenced block (used to check the oracle on upstream's own solutions)."""
    split = split_entrypoint(task_code)
    body = task_code.split(split[0])[0] if split[0] is not None else task_code
    return f"```\n{body.rstrip()}\n```\n"


# --------------------------------------------------------------------------------------------
# upstream's texts, read from its pinned source files without running them


def _class_body(tree: ast.Module, name: str) -> list[ast.stmt]:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node.body
    raise ValueError(f"no class {name} in {PPT_FILE}")


def _assigned(body: list[ast.stmt], name: str) -> ast.expr:
    for node in body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return node.value
    raise ValueError(f"no assignment to {name} in {PPT_FILE}")


class PromptTemplate:
    """Upstream's prompt texts: `DirectPrompt` (chat) and `DirectCompletionPrompt`."""

    def __init__(self, source: str) -> None:
        tree = ast.parse(source)
        direct = _class_body(tree, "DirectPrompt")
        self.chat: str = ast.literal_eval(_assigned(direct, "PPT"))
        self.chat_instr: dict[str, str] = ast.literal_eval(_assigned(direct, "LANG_INSTR"))
        compl = _class_body(tree, "DirectCompletionPrompt")
        self.completion: str = ast.literal_eval(_assigned(compl, "PPT"))
        # its LANG_INSTR is DirectPrompt's with one str.replace: read its two arguments
        calls = [
            n
            for n in ast.walk(_assigned(compl, "LANG_INSTR"))
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == "replace"
        ]
        if len(calls) != 1 or len(calls[0].args) != 2:
            raise ValueError(f"unexpected DirectCompletionPrompt.LANG_INSTR in {PPT_FILE}")
        old, new = (ast.literal_eval(a) for a in calls[0].args)
        self.completion_instr = {k: v.replace(old, new) for k, v in self.chat_instr.items()}

    def chat_prompt(self, lang: str, code: str) -> str:
        return self.chat.format(lang=lang, lang_instr=self.chat_instr[lang], code_prompt=code)

    def completion_prompt(self, lang: str, code: str) -> str:
        instr = self.completion_instr[lang]
        return self.completion.format(lang=lang, lang_instr=instr, code_prompt=code)


def read_headers(source: str) -> dict[str, str]:
    """The header blocks upstream's `complete_code` puts before C and C++ answers."""
    tree = ast.parse(source)
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            for lang, name in HEADER_NAMES.items():
                if node.targets[0].id == name:
                    found[lang] = ast.literal_eval(node.value)
    missing = set(HEADER_NAMES) - set(found)
    if missing:
        raise ValueError(f"no {sorted(HEADER_NAMES[m] for m in missing)} in {COMMONS_FILE}")
    return found


def cweval_metrics() -> tuple[Metric, ...]:
    """func-sec@k (headline) and func@k overall, then per upstream group, then the share of
    answers that did not compile (or, Python, import; JavaScript, parse)."""
    per_group: list[Metric] = []
    for group in GROUPS:
        per_group.append(
            Metric(f"func-sec@1 ({group})", key="func_sec", pass_at_k=True, subset=group)
        )
        per_group.append(Metric(f"func@1 ({group})", key="func", pass_at_k=True, subset=group))
    return (
        Metric(
            "func-sec@1",
            key="func_sec",
            pass_at_k=True,
            description="CWEval's func-sec@k: every functionality and security test of the "
            "task passes; errors and unbuildable answers count as 0",
        ),
        Metric("func@1", key="func", pass_at_k=True, description="every functionality test"),
        Metric(
            "func-sec@1 (CWEval's reading)",
            key="func_sec_collected",
            pass_at_k=True,
            description="as CWEval's evaluator reports it: a Python answer whose test file "
            "cannot be collected (the answer does not import) is absent from its results, so "
            "it is left out here too; n says how many answers remain",
        ),
        Metric(
            "func@1 (CWEval's reading)",
            key="func_collected",
            pass_at_k=True,
            description="func@k over the answers CWEval's evaluator keeps (see above)",
        ),
        *per_group,
        Metric(
            "% build errors",
            key="build_error",
            higher_is_better=False,
            description="answers that did not compile (C, C++, Go), parse (JavaScript) or "
            "import (Python); all count as failures above",
        ),
    )


class CWEval(Benchmark):
    name = "cweval"
    family = "secure-codegen"
    description = "CWEval: upstream's tests compiled and run (func-sec@k, func@k)"
    reference = "CWEval func-sec@k (Co1lin/CWEval tests)"
    size_hint = 119
    default_max_tokens = 2048  # upstream's max_completion_tokens
    data_files: ClassVar[dict[str, DataFile]] = DATA_FILES
    metrics = cweval_metrics()
    slices = ("language",)
    score_batch = 16
    extraction = "cweval"

    def dataset_identity(self) -> dict[str, str]:
        """One digest over the pinned files (a row would not hold 335 hashes); the list of
        paths and hashes it covers is `cweval_pins.tsv`."""
        files = self.files()
        listing = "\n".join(f"{k}\t{files[k].sha256}" for k in sorted(DATA_FILES))
        return {
            "dataset_id": REPO,
            "dataset_revision": COMMIT,
            "dataset_sha256": "pins:" + hashlib.sha256(listing.encode()).hexdigest(),
        }

    def __init__(self, data_dir: str | Path | None = None) -> None:
        super().__init__(data_dir)
        self._paths: dict[str, Path] = {}

    def path(self, key: str) -> Path:
        """One pinned file, resolved (and checked) alone: the oracle needs CWEval's files
        only, not the other files of a subclass (PurpCode's prompt set)."""
        if key not in self._paths:
            self._paths[key] = resolve(self.data_files[key], self.data_dir).path
        return self._paths[key]

    def text(self, key: str) -> str:
        return self.path(key).read_text(encoding="utf-8")

    def template(self) -> PromptTemplate:
        return PromptTemplate(self.text(PPT_FILE))

    def task_ids(self) -> list[tuple[str, str]]:
        """(sample id, extension) of every task, in upstream's order (natsorted paths)."""
        found = [k for k in (task_key(key) for key in self.data_files) if k is not None]
        return sorted(found, key=lambda t: (GROUPS.index(t[0].rsplit("/", 1)[0]), t[0]))

    def load(self) -> list[Sample]:
        template = self.template()
        samples = []
        for sample_id, ext in self.task_ids():
            source = self.text(f"{sample_id}_task.{ext}")
            prompt = code_prompt(source)
            group = sample_id.rsplit("/", 1)[0]
            samples.append(
                Sample(
                    id=sample_id,
                    messages=[Message("user", template.chat_prompt(ext, prompt))],
                    completion_prompt=template.completion_prompt(ext, prompt),
                    metadata={
                        "language": LANGUAGE[ext],
                        "subset": group,
                        "cwe": normalize_cwe(sample_id.rsplit("/", 1)[1]),
                        "cweval_task": sample_id,
                        "prompt_template": "cweval:direct",
                    },
                )
            )
        return samples

    def stop_sequences(self, prompt_format: str) -> tuple[str, ...]:
        return ("\n```",) if prompt_format == "completion" else ()

    def suite(self) -> CWEvalSuite:
        tasks = {}
        for sample_id, ext in self.task_ids():
            task_path = f"{sample_id}_task.{ext}"
            test_path = f"{sample_id}_test.py"
            line, code = split_entrypoint(self.text(task_path))
            tasks[sample_id] = CWEvalTask(
                task_id=sample_id,
                lang=ext,
                task_path=task_path,
                test_path=test_path,
                test_source=self.path(test_path).read_bytes(),
                entrypoint_line=line,
                entrypoint_code=code,
            )
        return CWEvalSuite(
            tasks=tasks,
            headers=read_headers(self.text(COMMONS_FILE)),
            pytest_ini=self.path("pytest.ini").read_bytes(),
        )

    def unsafe_program(self, sample_id: str) -> str | None:
        """Upstream's insecure variant of a C, C++, JavaScript or Go task: a whole program
        (with its own entry point, as upstream compiles and runs it), or None."""
        ext = next(e for s, e in self.task_ids() if s == sample_id)
        key = f"{sample_id}_unsafe.{ext}"
        return self.text(key) if key in self.data_files else None

    def reference_answer(self, sample_id: str) -> str:
        ext = next(e for s, e in self.task_ids() if s == sample_id)
        return reference_answer(self.text(f"{sample_id}_task.{ext}"))

    def make_scorer(self) -> CWEvalTests:
        return CWEvalTests(self.suite, extraction=self.extraction)

    def fidelity(self, ctx: ScoringContext) -> Fidelity:
        return approximate(
            self.reference,
            self.scorer.describe(),
            "Go answers importing modules outside the standard library cannot be built "
            "offline (error rows); Python answers that fail to import count as failures "
            'where upstream drops them (its reading: the "(CWEval\'s reading)" metrics)',
        )


def task_of_file_path(path: Any) -> str | None:
    """PurpCode's `file_path` (e.g. `core/c/cwe_020_0_c_task.c`, with or without a leading
    `benchmark/`) -> the CWEval sample id it names, else None."""
    text = str(path or "").strip().removeprefix("benchmark/")
    key = task_key(text)
    return key[0] if key else None


__all__ = [
    "CWEval",
    "PromptTemplate",
    "code_prompt",
    "read_headers",
    "reference_answer",
    "task_of_file_path",
]
