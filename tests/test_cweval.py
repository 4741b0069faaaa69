"""CWEval from CWEval itself: upstream's prompts, upstream's answer handling, upstream's tests.

The oracle tests build the CWEval environment once (`scorers.envs.cweval.build`, what
`purpbench setup cweval` runs; a failure to build fails them) and run real answers through the
real sandbox: upstream's reference solutions must pass, its insecure variants must fail
security, and broken answers must be counted the documented way.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from benchmarks import registry
from benchmarks.cweval import GROUPS, CWEval, PromptTemplate, code_prompt, task_of_file_path
from harness.core.summary import metric_values
from harness.core.types import Generation, Sample, Score, ScoringItem
from scorers.context import ScoringContext
from scorers.cweval_tests import CWEvalTests, answer_code, first_block, purpcode_block
from scorers.envs import cweval as cweval_env
from scorers.static.toolenv import ToolUnavailable

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench(data_dir: Path) -> CWEval:
    return CWEval(data_dir)


def test_every_task_is_a_sample_named_by_its_path(bench: CWEval) -> None:
    samples = bench.load()
    groups = [s.metadata["subset"] for s in samples]
    assert {g: groups.count(g) for g in GROUPS} == {
        "core/py": 25,
        "core/c": 20,
        "core/cpp": 21,
        "core/js": 23,
        "core/go": 19,
        "lang/c": 11,
    }
    ids = {s.id for s in samples}
    assert {"core/py/cwe_020_0", "core/c/cwe_020_0_c", "lang/c/cwe_119_0_c"} <= ids
    by_id = {s.id: s for s in samples}
    assert by_id["core/js/cwe_020_0_js"].metadata["language"] == "javascript"
    assert by_id["core/c/cwe_020_0_c"].metadata["cwe"] == "CWE-20"
    assert registry.create("cweval").name == "cweval"


def test_prompt_is_upstreams_direct_template(bench: CWEval) -> None:
    """Upstream's text comes from the pinned ppt/__init__.py; what goes in is the task file
    between BEGIN PROMPT and the BEGIN SOLUTION line, never the solution."""
    source = bench.files()["cweval/ppt/__init__.py"].path.read_text()
    tree = ast.parse(source)
    template = PromptTemplate(source)
    literals = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert template.chat in literals and template.completion in literals
    task = bench.files()["core/c/cwe_020_0_c_task.c"].path.read_text()
    sample = next(s for s in bench.load() if s.id == "core/c/cwe_020_0_c")
    (message,) = sample.messages
    prompt = code_prompt(task)
    assert message.role == "user"
    assert message.content == template.chat.format(
        lang="c", lang_instr=template.chat_instr["c"], code_prompt=prompt
    )
    assert "```c\n/**\nCheck if the provided target URL" in message.content
    assert "BEGIN SOLUTION" not in message.content and "get_netloc" not in message.content
    assert "pure C (NOT C++)" in message.content
    assert sample.completion_prompt is not None
    assert sample.completion_prompt.endswith(f"```c\n{prompt}\n")
    assert "The function is implemented in pure C" in sample.completion_prompt


def test_answer_code_follows_upstream_and_purpcode() -> None:
    answer = "Here:\n```python\ndef f():\n    return '```'\n```\nand\n```\nsecond\n```\n"
    # upstream: fences are lines starting with ```; the first block only
    assert first_block(answer) == "def f():\n    return '```'"
    assert answer_code(answer, "cweval") == "def f():\n    return '```'"
    # PurpCode splits at every ```: the inline backticks end its block
    assert purpcode_block(answer) == "def f():\n    return '"
    # no block: upstream uses the whole answer, PurpCode writes no file
    assert answer_code("int x;", "cweval") == "int x;"
    assert answer_code("int x;", "purpcode") is None
    # an unclosed block runs to the end (completion answers end at the stop sequence)
    assert first_block("```c\nint main() {\n  return 0;\n}") == "int main() {\n  return 0;\n}"


def test_purpcode_file_paths_map_to_tasks() -> None:
    assert task_of_file_path("core/c/cwe_020_0_c_task.c") == "core/c/cwe_020_0_c"
    assert task_of_file_path("benchmark/core/py/cwe_020_0_task.py") == "core/py/cwe_020_0"
    assert task_of_file_path("core/c/cwe_020_0_c_test.py") is None
    assert task_of_file_path(None) is None


# -- the oracle, in the sandbox -------------------------------------------------------------

# One task per upstream group; those with an insecure variant are also run with it.
TASKS = (
    "core/py/cwe_020_0",
    "core/c/cwe_020_0_c",
    "core/cpp/cwe_020_0_cpp",
    "core/js/cwe_020_0_js",
    "core/go/cwe_020_0_go",
    "lang/c/cwe_119_0_c",
)
UNSAFE = ("core/c/cwe_020_0_c", "core/cpp/cwe_020_0_cpp", "core/js/cwe_020_0_js")


@pytest.fixture(scope="module")
def env_built() -> cweval_env.CWEvalEnv:
    """The CWEval environment, built if needed: a machine that cannot build it fails here."""
    try:
        cweval_env.build()
    except ToolUnavailable as exc:
        pytest.fail(f"the CWEval environment cannot be built: {exc}")
    return cweval_env.load()


def _item(sample: Sample, text: str, fmt: str = "chat") -> ScoringItem:
    return ScoringItem(sample, 0, Generation(text=text), text, fmt)


@pytest.fixture(scope="module")
def oracle_run(bench: CWEval, env_built: cweval_env.CWEvalEnv) -> dict[str, Score]:
    """Every answer of the oracle tests in one sandbox batch (the pool runs two at a time)."""
    scorer = bench.make_scorer()
    samples = {s.id: s for s in bench.load()}
    pairs = [(sid, bench.reference_answer(sid)) for sid in TASKS]
    broken = {
        "core/c/cwe_020_0_c": "```c\nchar* get_target_for_redirect(const char* t) {\n",
        "core/py/cwe_020_0": "```python\ndef get_target_for_redirect(target)\n    return\n```",
        "core/go/cwe_020_0_go": (
            '```go\npackage main\n\nimport "github.com/example/nothere"\n\n'
            "func getTargetForRedirect(target string, domain string) string {\n"
            "\treturn nothere.X(target)\n}\n```"
        ),
    }
    pairs += list(broken.items())
    # answers take the whole path (extraction, entry point, headers); upstream's insecure
    # variants are whole programs, run as upstream runs them for its own `_unsafe` tests
    sources = [(sid, scorer.program(_item(samples[sid], text))) for sid, text in pairs]
    sources += [(sid, bench.unsafe_program(sid)) for sid in UNSAFE]
    scores = scorer.score_task_files(sources, ScoringContext(workers=2))
    labels = ["reference"] * len(TASKS) + ["broken"] * len(broken) + ["unsafe"] * len(UNSAFE)
    return {f"{kind} {sid}": s for kind, (sid, _), s in zip(labels, sources, scores)}


@pytest.mark.parametrize("task", TASKS)
def test_reference_solution_passes_every_test(oracle_run: dict[str, Score], task: str) -> None:
    score = oracle_run[f"reference {task}"]
    assert score.status == "ok", score.explanation
    expected = {"func": 1.0, "func_sec": 1.0, "build_error": 0.0}
    assert score.values == {**expected, "func_collected": 1.0, "func_sec_collected": 1.0}, (
        score.explanation
    )
    tests = score.details["tests"]
    assert {t["marker"] for t in tests} == {"functionality", "security"}
    assert all(t["passed"] for t in tests) and not any("_unsafe" in t["name"] for t in tests)
    assert score.details["isolation"].startswith("bwrap")


@pytest.mark.parametrize("task", UNSAFE)
def test_insecure_variant_is_functional_but_not_secure(
    oracle_run: dict[str, Score], task: str
) -> None:
    score = oracle_run[f"unsafe {task}"]
    assert score.status == "ok", score.explanation
    assert score.values["func_sec"] == 0.0 and score.value == 0.0
    assert score.values["func"] == 1.0, score.explanation
    assert score.label == "insecure"


def test_compile_error_is_a_counted_failure(oracle_run: dict[str, Score]) -> None:
    score = oracle_run["broken core/c/cwe_020_0_c"]
    assert score.status == "ok" and score.label == "build-error"
    # upstream runs the tests against the missing binary: a failure in its reading too
    zero = {"func": 0.0, "func_sec": 0.0, "build_error": 1.0}
    assert score.values == {**zero, "func_collected": 0.0, "func_sec_collected": 0.0}
    assert score.details["compile"]["rc"] != 0


def test_python_that_does_not_import_fails_instead_of_leaving_the_denominator(
    oracle_run: dict[str, Score],
) -> None:
    score = oracle_run["broken core/py/cwe_020_0"]
    assert score.status == "ok" and score.label == "collect-error"
    # a failure in the headline; absent from CWEval's reading, as from upstream's results
    assert score.values == {"func": 0.0, "func_sec": 0.0, "build_error": 1.0}
    assert score.details["syntax"]["rc"] != 0


def test_go_module_outside_the_standard_library_is_an_error_row(
    oracle_run: dict[str, Score],
) -> None:
    score = oracle_run["broken core/go/cwe_020_0_go"]
    assert score.status == "error" and score.label == "env-error"
    assert "github.com/example/nothere" in score.explanation
    assert "no Go module proxy" in score.explanation


def test_purpcode_extraction_without_a_block_writes_no_file(
    bench: CWEval, env_built: cweval_env.CWEvalEnv, data_dir: Path
) -> None:
    sample = next(s for s in bench.load() if s.id == "core/py/cwe_020_0")
    reference = bench.reference_answer(sample.id)
    scorer = CWEvalTests(bench.suite, extraction="purpcode")
    unfenced = reference.replace("```\n", "")  # upstream would use it whole; PurpCode not
    scores = scorer.score([_item(sample, unfenced)], ScoringContext(workers=1))
    assert scores[0].label == "no-code" and scores[0].value == 0.0


def test_missing_environment_is_one_line_naming_the_setup_command(
    bench: CWEval, tmp_path: Path, data_dir: Path
) -> None:
    sample = bench.load()[0]
    scorer = CWEvalTests(bench.suite, cache_dir=tmp_path)
    (score,) = scorer.score([_item(sample, "x")], ScoringContext(workers=1))
    assert score.status == "error" and "`purpbench setup cweval`" in score.explanation
    replay = tmp_path / "answers.jsonl"
    replay.write_text("")
    env = {**os.environ, "PURPBENCH_CACHE_DIR": str(tmp_path / "cache")}
    env["PURPBENCH_DATA_DIR"] = str(data_dir)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "harness.cli", "run", "--backend", "replay"),
            *("--replay-file", str(replay), "--model", "m", "--benchmarks", "cweval"),
            *("--output", str(tmp_path / "results")),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and "purpbench setup cweval" in lines[0], done.stderr


def test_completion_answer_continues_the_prompts_code_block(bench: CWEval) -> None:
    """Base models continue upstream's completion prompt, which opens the code block: the
    program is the prompt's code plus the continuation, then the entry point."""
    sample = next(s for s in bench.load() if s.id == "core/c/cwe_020_0_c")
    assert bench.stop_sequences("completion") == ("\n```",)
    body = "    return strdup(target);\n}"
    program = bench.make_scorer().program(_item(sample, body, "completion"))
    assert program is not None
    prompt = code_prompt(bench.files()["core/c/cwe_020_0_c_task.c"].path.read_text())
    assert f"{prompt}\n{body}\n\n// BEGIN ENTRYPOINT\nint main(" in program
    assert program.startswith("#include <archive_entry.h>")


def test_setup_command_builds_or_finds_the_environment(env_built: cweval_env.CWEvalEnv) -> None:
    def setup(name: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "harness.cli", "setup", name]
        return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=600)

    done = setup("cweval")
    assert done.returncode == 0, done.stderr
    assert str(cweval_env.python_path()) in done.stderr.replace("\n", "")
    unknown = setup("nope")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "error: unknown environment 'nope'; known: cweval, seccodeplt"


def test_purpcode_rows_are_scored_by_the_task_their_file_path_names(
    data_dir: Path, env_built: cweval_env.CWEvalEnv
) -> None:
    """purpcode/CWEval: a row's file_path names the upstream task; its answer is extracted as
    PurpCode's eval/cweval.py does and tested with that task's files."""
    pc = registry.create("purpcode/CWEval", data_dir)
    assert pc.metrics[0].name == "func-sec@1"
    row = {
        "task_id": "CWEval/7",
        "file_path": "core/py/cwe_020_0_task.py",
        "messages": [{"role": "user", "content": "Write get_target_for_redirect."}],
    }
    sample = pc.to_sample(row, 0)  # type: ignore[attr-defined]
    assert sample.id == "CWEval/7" and sample.metadata["cweval_task"] == "core/py/cwe_020_0"
    assert sample.metadata["language"] == "python" and sample.metadata["subset"] == "core/py"
    bench = CWEval(data_dir)
    answer = "Sure:\n" + bench.reference_answer("core/py/cwe_020_0").replace("```\n", "```py\n", 1)
    (score,) = pc.scorer.score([_item(sample, answer)], ScoringContext(workers=1))
    assert score.label == "pass" and score.details["cweval_task"] == "core/py/cwe_020_0"
    with pytest.raises(ValueError, match="names no CWEval task"):
        pc.to_sample({**row, "file_path": "core/py/nothing.py"}, 1)  # type: ignore[attr-defined]


def test_cwevals_reading_leaves_out_only_answers_whose_tests_were_not_collected(
    oracle_run: dict[str, Score],
) -> None:
    """The headline counts every answer; "(CWEval's reading)" drops exactly the Python
    answers that do not import, as upstream's result files lack them."""
    frame = pd.DataFrame(
        {
            "scores": [json.dumps(s.values) for s in oracle_run.values()],
            "status": [s.status for s in oracle_run.values()],
            "score": [s.value for s in oracle_run.values()],
        }
    )
    by_name = {m.name: m for m in CWEval.metrics}
    headline = metric_values(frame, by_name["func-sec@1"])
    upstream = metric_values(frame, by_name["func-sec@1 (CWEval's reading)"])
    dropped = {name for name, v in zip(oracle_run, upstream) if pd.isna(v)}
    assert dropped == {"broken core/py/cwe_020_0"}
    assert headline.notna().all()
    assert upstream.dropna().sum() == headline.sum()
