"""The PurpCode evaluation sets, by their Hugging Face ids (`purpcode/<set>`).

Each set is one Parquet file (`data/test-00000-of-00001.parquet`, split `test`) whose rows hold
at least `task_id` and `messages` (a list of {role, content}; a leading system message is kept
as that row's system prompt). The sets are scored here with the project's open oracles:
static analyzers for code security (PurpCode used Amazon CodeGuru, discontinued in
November 2025), the refusal and malicious-assistance classifiers (rules, or the LLM judge when
the run names one), and the EvalPlus tests for HumanEval+ and MBPP+. Run them with
`--preset purpcode` for PurpCode's protocol; `--benchmarks purpcode` runs the whole table.

Pinning: none of these sets is pinned to a commit. The project knows no Hugging Face commit of
any of them: the offline mirror holds none of them (its README lists PurpCode's sets under "Not
mirrored"), and its MANIFEST revisions are GitHub commits of the upstream benchmarks, not of
these Parquet files. A download therefore reads the `main` branch (the `revision` below, which
`hf_hub_download` receives), `purpbench list` says "unpinned" and why, and the sha256 of the
bytes actually read is recorded on every row. Where a set's sha256 is known it is checked. When a
commit becomes known, pass it as `hf_set(name, revision=<commit>)`: the download, the cache key
and the recorded `dataset_revision` all use it. Offline, provide the file in a mirror under
`purpcode/<set>/`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from benchmarks.base import Fidelity, Metric, ScoringContext
from benchmarks.cweval import LANGUAGE, CWEval, task_of_file_path
from benchmarks.humaneval_plus import HumanEvalPlus
from benchmarks.judged import (
    MALICIOUS_KAPPA,
    REFUSAL_KAPPA,
    MaliciousBenchmark,
    RefusalBenchmark,
    answered_metrics,
    judge_name,
    safe_metrics,
)
from benchmarks.mbpp_plus import MbppPlus
from benchmarks.secure_codegen import (
    NO_CODE_CYBERSECEVAL,
    SecureCodegenBenchmark,
    deciding_oracle,
    normalize_cwe,
    secure_codegen_metrics,
)
from harness.core.data import DataFile
from harness.core.fidelity import approximate, reference
from harness.core.types import Message, Sample, ScoringItem
from scorers.base import Scorer
from scorers.code_extract import normalize_language
from scorers.compose import AllOf
from scorers.cweval_tests import CWEvalTests
from scorers.icd import InsecureCodeDetector
from scorers.oracles import SideBySide, agreement_metrics
from scorers.purpcode_codeql import UpstreamCodeQL
from scorers.refusal import RefusalScorer
from scorers.security import ANALYZER_METRICS, StaticSecurity
from scorers.upstream_judges import XSCODE

PARQUET = "data/test-00000-of-00001.parquet"


@dataclass(frozen=True)
class UpstreamOracle:
    """How PurpCode's eval/evaluate.py scores one of its sets (its `oracle` guess by task)."""

    oracle: str  # upstream's oracle name
    where: str  # the upstream file that implements it
    needs: Literal["judge", "codeql"] | None  # what this project needs to follow it
    note: str = ""  # where this project cannot follow it even with what it needs


_JUDGE_NOTE = "PurpCode judges it with an LLM ({where}, default judge Llama-3.3-70B on Bedrock)"
# eval/evaluate.py's routing, by the table's sets (and the mirrored sets they package).
UPSTREAM_ORACLES: dict[str, UpstreamOracle] = {
    "purpcode/CyberSecEval-SCG": UpstreamOracle("cyberseceval", "eval/cyberseceval.py", None),
    "purpcode/CodeLMSec": UpstreamOracle("codeql", "eval/oracles/codeql_oracle.py", "codeql"),
    "purpcode/CWEval": UpstreamOracle("cweval", "eval/cweval.py", None),
    "purpcode/CyberSecEval-MITRE": UpstreamOracle(
        "malevent", "eval/oracles/compound_safety_check.py", "judge"
    ),
    "purpcode/CyberSecEval-FRR": UpstreamOracle(
        "overrefusal", "eval/oracles/check_secqa.py", "judge"
    ),
    "purpcode/XSCode": UpstreamOracle(
        "xscode",
        "eval/oracles/xscode_overrefuse.py",
        "judge",
        "its security half used Amazon CodeGuru (discontinued); CyberSecEval's insecure code "
        "detector decides it here",
    ),
    "purpcode/XSTest": UpstreamOracle("overrefusal", "eval/oracles/check_secqa.py", "judge"),
    "purpcode/PHTest": UpstreamOracle("phtest", "eval/phtest.py", "judge"),
    "purpcode/humanevalplus": UpstreamOracle("evalplus", "eval/evaluate.py", None),
    "purpcode/mbppplus": UpstreamOracle("evalplus", "eval/evaluate.py", None),
}
# The mirrored benchmarks whose prompts PurpCode's sets repackage: the same routing applies.
# (`codelmsec` is not one: its chat prompts are the project's wording around the code prefix.)
MIRRORED_AS: dict[str, str] = {
    "cse-instruct": "purpcode/CyberSecEval-SCG",
    "cweval": "purpcode/CWEval",
    "cse-mitre": "purpcode/CyberSecEval-MITRE",
    "cse-frr": "purpcode/CyberSecEval-FRR",
    "xscode": "purpcode/XSCode",
    "xstest": "purpcode/XSTest",
    "phtest": "purpcode/PHTest",
    "humaneval-plus": "purpcode/humanevalplus",
    "mbpp-plus": "purpcode/mbppplus",
}


def upstream_oracle(benchmark: str) -> UpstreamOracle | None:
    """PurpCode's oracle for a benchmark of its table (by name or mirrored twin), else None."""
    return UPSTREAM_ORACLES.get(MIRRORED_AS.get(benchmark, benchmark))


def protocol_gaps(
    benchmarks: list[str], *, judge: bool, codeql: bool, approximate: bool
) -> list[str]:
    """One line per benchmark whose PurpCode oracle this run cannot follow (no judge given, no
    CodeQL installed), saying what to do; empty when every column can be scored as upstream
    does, or when `approximate` accepts the weaker oracles."""
    if approximate:
        return []
    lines = []
    for name in benchmarks:
        oracle = upstream_oracle(name)
        if oracle is None:
            continue
        if oracle.needs == "judge" and not judge:
            lines.append(
                f"{name}: {_JUDGE_NOTE.format(where=oracle.where)}; give --judge-model, or "
                "--approximate to score it by the rule classifier, marked approximate"
            )
        elif oracle.needs == "codeql" and not codeql:
            lines.append(
                f"{name}: PurpCode scores it with CodeQL python-security-and-quality "
                f"({oracle.where}) and CodeQL is not installed; put the codeql CLI on PATH, or "
                "--approximate to score it by semgrep and bandit, marked approximate"
            )
    return lines


# The moving branch downloads read while no commit is known (see "Pinning" above).
UNPINNED_BRANCH = "main"
UNPINNED_REASON = (
    "no Hugging Face commit of the purpcode/* sets is known (the offline mirror holds none of "
    "them): downloads read the main branch, and every row records the sha256 of the bytes read"
)


def hf_set(name: str, sha256: str | None = None, revision: str = UNPINNED_BRANCH) -> DataFile:
    return DataFile(
        mirror_path=f"purpcode/{name}/test-00000-of-00001.parquet",
        sha256=sha256,
        source_repo=f"hf:purpcode/{name}",
        revision=revision,
        hf_filename=PARQUET,
    )


def read_rows(path: Any) -> list[dict[str, Any]]:
    import pandas as pd

    return pd.read_parquet(path).to_dict("records")


def messages_of(row: dict[str, Any], where: str) -> list[Message]:
    """The row's conversation; assistant turns given by the dataset stay as context."""
    raw = row.get("messages")
    if isinstance(raw, str):
        raw = json.loads(raw)
    if raw is None or len(raw) == 0:
        raise ValueError(f"{where}: no messages")
    messages = []
    for turn in list(raw):
        role, content = turn.get("role"), turn.get("content")
        if role not in ("system", "user", "assistant") or not isinstance(content, str):
            raise ValueError(f"{where}: malformed message {str(turn)[:80]!r}")
        messages.append(Message(role, content))
    if messages[-1].role != "user":
        raise ValueError(f"{where}: the conversation does not end with a user turn")
    return messages


class _PurpCodeSet:
    """Mixin: rows of one purpcode/* Parquet file -> samples."""

    hf_name: ClassVar[str]
    unpinned_reason: ClassVar[str] = UNPINNED_REASON

    def rows(self) -> list[dict[str, Any]]:
        return read_rows(self.files()["prompts"].path)  # type: ignore[attr-defined]

    def sample(self, row: dict[str, Any], n: int, **metadata: Any) -> Sample:
        where = f"{self.hf_name} row {n}"
        task_id = row.get("task_id")
        if not task_id:
            raise ValueError(f"{where}: no task_id")
        clean = {k: v for k, v in metadata.items() if v is not None}
        return Sample(id=str(task_id), messages=messages_of(row, where), metadata=clean)

    def load(self) -> list[Sample]:
        return [self.to_sample(row, n) for n, row in enumerate(self.rows())]

    def to_sample(self, row: dict[str, Any], n: int) -> Sample:
        return self.sample(row, n)


def _language(row: dict[str, Any]) -> str | None:
    value = row.get("language")
    return normalize_language(str(value)) if value else None


class PurpCodeSCG(_PurpCodeSet, SecureCodegenBenchmark):
    name = "purpcode/CyberSecEval-SCG"
    reference = "PurpCode's CyberSecEval-SCG % secure (CyberSecEval's insecure code detector)"
    reference_oracle = "icd"
    hf_name = "CyberSecEval-SCG"
    description = "PurpCode's CyberSecEval secure code generation set (% secure)"
    size_hint = 1916
    unfenced = "never"
    decides = "icd"
    metrics = secure_codegen_metrics(no_code=NO_CODE_CYBERSECEVAL, decides="icd")
    data_files = {"prompts": hf_set("CyberSecEval-SCG")}

    def to_sample(self, row: dict[str, Any], n: int) -> Sample:
        return self.sample(
            row, n, language=_language(row), cwe=normalize_cwe(row.get("cwe_identifier"))
        )


class PurpCodeCodeLMSec(_PurpCodeSet, SecureCodegenBenchmark):
    name = "purpcode/CodeLMSec"
    reference = "PurpCode's CodeLMSec % secure (CodeQL security-and-quality, severity >= medium)"
    reference_oracle = "codeql"
    hf_name = "CodeLMSec"
    description = "PurpCode's CodeLMSec set (% secure)"
    size_hint = 192
    data_files = {"prompts": hf_set("CodeLMSec")}
    # Under PurpCode's protocol with CodeQL installed, upstream's CodeQL oracle decides
    # (scorers/purpcode_codeql.py: its fences, its severity rule), the others beside it.
    upstream_codeql: bool = False

    def to_sample(self, row: dict[str, Any], n: int) -> Sample:
        return self.sample(row, n, language=_language(row), cwe=normalize_cwe(row.get("cwe")))

    def make_scorer(self) -> Scorer:
        if not self.upstream_codeql:
            return super().make_scorer()
        oracles = {
            "codeql-purpcode": UpstreamCodeQL(),
            "icd": InsecureCodeDetector(),
            "static": StaticSecurity(self.unfenced),
        }
        return SideBySide(oracles, decides="codeql-purpcode")

    def fidelity(self, ctx: ScoringContext) -> Fidelity:
        """Reference when upstream's own CodeQL oracle decides (with CodeQL installed)."""
        if self.upstream_codeql and ctx.static.tools.codeql() is not None:
            return reference(self.reference, UpstreamCodeQL().describe())
        return super().fidelity(ctx)


class PurpCodeCWEval(_PurpCodeSet, CWEval):
    """PurpCode's CWEval prompts (its rows' messages), scored by CWEval's own tests as PurpCode's
    `eval/cweval.py` feeds them: the text between the answer's first two triple backticks,
    without its language line, becomes the task file named by the row's `file_path` (an answer
    without such a block gets no file, so its tests fail); upstream's evaluator then compiles
    and tests it (`scorers.cweval_tests`, extraction "purpcode"). PurpCode's column is
    func-sec@1. The tests and task files come from the pinned CWEval commit, like `cweval`."""

    name = "purpcode/CWEval"
    hf_name = "CWEval"
    reference = "CWEval func-sec@1 as PurpCode runs it (eval/cweval.py)"
    description = "PurpCode's CWEval prompts; CWEval's tests compiled and run (func-sec@1)"
    size_hint = 119
    extraction = "purpcode"
    data_files = {"prompts": hf_set("CWEval"), **CWEval.data_files}  # the set first

    def dataset_identity(self) -> dict[str, str]:
        """CWEval's pinned files (one digest) and PurpCode's Parquet (its own sha256)."""
        tests = CWEval.dataset_identity(self)
        prompts = self.files()["prompts"]
        return {
            "dataset_id": f"{tests['dataset_id']};{prompts.spec.source_repo}",
            "dataset_revision": f"{tests['dataset_revision']};{prompts.spec.revision}",
            "dataset_sha256": f"{tests['dataset_sha256']};{prompts.sha256}",
        }

    def to_sample(self, row: dict[str, Any], n: int) -> Sample:
        task = task_of_file_path(row.get("file_path"))
        if task is None:
            where = f"{self.hf_name} row {n}"
            raise ValueError(f"{where}: file_path {row.get('file_path')!r} names no CWEval task")
        group = task.rsplit("/", 1)[0]
        language = LANGUAGE[str(row.get("file_path")).rsplit(".", 1)[1]]
        cwe = normalize_cwe(task.rsplit("/", 1)[1])
        return self.sample(row, n, language=language, subset=group, cwe=cwe, cweval_task=task)

    def make_scorer(self) -> CWEvalTests:
        return CWEvalTests(self.suite, extraction="purpcode", task_of=_cweval_task)


def _cweval_task(item: ScoringItem) -> str:
    """The upstream task a PurpCode row names (its `file_path`, kept in the metadata)."""
    return str(item.sample.metadata["cweval_task"])


class PurpCodeXSCode(_PurpCodeSet, SecureCodegenBenchmark):
    """XSCode: benign coding requests that mention security-sensitive things. The good outcome
    is an answer (not a refusal) whose code is secure, so both overrefusal and insecure code
    count against a model."""

    name = "purpcode/XSCode"
    hf_name = "XSCode"
    family = "secure-codegen"  # also an overrefusal measure: refusing scores 0
    description = "XSCode: benign security-flavoured coding requests (% answered AND secure)"
    size_hint = 589
    unfenced = "never"
    slices = ()
    metrics = (
        Metric("% answered and secure"),
        Metric("% answered", key="answered"),
        Metric("% secure", key="secure"),
        Metric(
            "% secure (icd)",
            key="secure:icd",
            description="Share of answers in which CyberSecEval's Insecure Code Detector "
            "reports no issue (beside the static oracle, which decides).",
        ),
        REFUSAL_KAPPA,
        *agreement_metrics(("icd", *ANALYZER_METRICS)),
    )
    data_files = {"prompts": hf_set("XSCode")}

    # Which security oracle decides: the static analyzers, or (under PurpCode's protocol,
    # whose CodeGuru is discontinued) CyberSecEval's insecure code detector.
    security_decides: str = "static"
    reference = (
        "PurpCode's XSCode secure acceptance rate (LLM refusal judge "
        "eval/oracles/xscode_overrefuse.py, then Amazon CodeGuru for security)"
    )

    def fidelity(self, ctx: ScoringContext) -> Fidelity:
        """Always approximate: PurpCode's security half ran Amazon CodeGuru, discontinued in
        November 2025; its refusal half is PurpCode's only with a judge and its prompts."""
        security = deciding_oracle(self.security_decides, ctx)
        judge = ctx.judge_config
        if judge is None:
            refusal = "refusal rules (no judge)"
        elif judge.prompts == "purpcode":
            refusal = f"LLM judge {judge_name(judge)} with {XSCODE.source}"
        else:
            refusal = f"LLM judge {judge_name(judge)} with the project's prompt"
        why = (
            "PurpCode decided security with Amazon CodeGuru (discontinued): "
            f"{self.security_decides} decides here"
        )
        if judge is None:
            why += "; refusal by the project's rules, not an LLM judge"
        elif judge.prompts != "purpcode":
            why += "; refusal by the project's judge prompt, not PurpCode's"
        return approximate(self.reference, f"{refusal} AND {security}", why)

    def make_scorer(self) -> AllOf:
        """Answered (the refusal oracle) AND secure (the deciding security oracle, the other
        recorded beside it); a refusal is labelled "refused", insecure code by the oracle's
        label."""
        security = SideBySide(
            {"icd": InsecureCodeDetector(), "static": StaticSecurity(self.unfenced)},
            decides=self.security_decides,
        )
        return AllOf(
            {"answered": RefusalScorer(XSCODE.key), "secure": security},
            pass_label="answered-secure",
            fail_labels={"answered": "refused"},
            part_values=True,
        )


class PurpCodeMITRE(_PurpCodeSet, MaliciousBenchmark):
    name = "purpcode/CyberSecEval-MITRE"
    reference = (
        "PurpCode's CyberSecEval-MITRE malicious-assistance rate (LLM judge, "
        "eval/oracles/malicious_assistance_detection.py)"
    )
    upstream_judge = "purpcode-malicious"
    purpcode_reference = reference
    hf_name = "CyberSecEval-MITRE"
    description = "PurpCode's CyberSecEval MITRE set (% safe responses)"
    size_hint = 1000
    slices = ("subset",)
    metrics = (*safe_metrics(), MALICIOUS_KAPPA)
    data_files = {
        "prompts": hf_set(
            "CyberSecEval-MITRE",
            sha256="b466e7eb5d537302d9ce99aab881ca8f1f33195b3934bba5f76bfe36fddf8545",
        )
    }

    def to_sample(self, row: dict[str, Any], n: int) -> Sample:
        return self.sample(row, n, subset=row.get("mitre_category"))


class PurpCodeFRR(_PurpCodeSet, RefusalBenchmark):
    name = "purpcode/CyberSecEval-FRR"
    reference = (
        "PurpCode's CyberSecEval-FRR rejection rate (LLM judge, eval/oracles/check_secqa.py)"
    )
    upstream_judge = "purpcode-secqa"
    purpcode_reference = reference
    hf_name = "CyberSecEval-FRR"
    description = "PurpCode's CyberSecEval false-refusal set (% answered)"
    size_hint = 750
    metrics = (*answered_metrics(), REFUSAL_KAPPA)
    data_files = {"prompts": hf_set("CyberSecEval-FRR")}


class PurpCodeXSTest(_PurpCodeSet, RefusalBenchmark):
    name = "purpcode/XSTest"
    reference = "PurpCode's XSTest rejection rate (LLM judge, eval/oracles/check_secqa.py)"
    upstream_judge = "purpcode-secqa"
    purpcode_reference = reference
    hf_name = "XSTest"
    description = "PurpCode's XSTest set: the safe prompts (% answered)"
    size_hint = 250
    metrics = (*answered_metrics(), REFUSAL_KAPPA)
    data_files = {"prompts": hf_set("XSTest")}


class PurpCodePHTest(_PurpCodeSet, RefusalBenchmark):
    name = "purpcode/PHTest"
    reference = (
        "PurpCode's PHTest rejection rates (LLM judge, eval/oracles/check_secqa.py via "
        "eval/phtest.py)"
    )
    upstream_judge = "purpcode-secqa"
    purpcode_reference = reference
    hf_name = "PHTest"
    description = "PurpCode's PHTest set, harmless and controversial (% answered)"
    size_hint = 3269
    slices = ("subset",)
    metrics = (*answered_metrics(), REFUSAL_KAPPA)
    data_files = {"prompts": hf_set("PHTest")}

    def to_sample(self, row: dict[str, Any], n: int) -> Sample:
        return self.sample(row, n, subset=row.get("Harmfulness"))


class PurpCodeHumanEvalPlus(_PurpCodeSet, HumanEvalPlus):
    """PurpCode's prompts (chat messages) with the EvalPlus tests of the pinned release."""

    name = "purpcode/humanevalplus"
    hf_name = "humanevalplus"
    description = "PurpCode's HumanEval+ prompts, EvalPlus tests (pass@1 base / plus)"
    data_files = {**HumanEvalPlus.data_files, "prompts": hf_set("humanevalplus")}

    def load(self) -> list[Sample]:
        return _with_chat_prompts(self, HumanEvalPlus.load(self))


class PurpCodeMbppPlus(_PurpCodeSet, MbppPlus):
    name = "purpcode/mbppplus"
    hf_name = "mbppplus"
    description = "PurpCode's MBPP+ prompts, EvalPlus tests (pass@1 base / plus)"
    data_files = {**MbppPlus.data_files, "prompts": hf_set("mbppplus")}

    def load(self) -> list[Sample]:
        return _with_chat_prompts(self, MbppPlus.load(self))


def _with_chat_prompts(bench: _PurpCodeSet, samples: list[Sample]) -> list[Sample]:
    """Replace each task's prompt by PurpCode's conversation; a task PurpCode's set lacks, or a
    row for an unknown task, is an error rather than a silently different benchmark."""
    rows = {str(r.get("task_id")): (n, r) for n, r in enumerate(bench.rows())}
    known = {s.id for s in samples}
    unknown = sorted(set(rows) - known)
    if unknown:
        raise ValueError(f"{bench.hf_name}: tasks not in the EvalPlus release: {unknown[:3]}")
    out = []
    for sample in samples:
        if sample.id not in rows:
            raise ValueError(f"{bench.hf_name}: no row for {sample.id}")
        n, row = rows[sample.id]
        sample.messages = messages_of(row, f"{bench.hf_name} row {n}")
        out.append(sample)
    return out


def follow_upstream(benchmark: object, *, codeql: bool) -> None:
    """Route a benchmark's oracle as PurpCode's evaluation does, where that differs from the
    project's default: CodeLMSec is decided by upstream's CodeQL oracle when CodeQL is
    installed (without it the run was refused, or --approximate keeps the project's static
    oracle); XSCode's security half by CyberSecEval's detector (the closest open stand-in for
    the discontinued CodeGuru). Called before the benchmark's scorer is first built."""
    if isinstance(benchmark, PurpCodeXSCode):
        benchmark.security_decides = "icd"
    if isinstance(benchmark, PurpCodeCodeLMSec):
        benchmark.upstream_codeql = codeql
