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
from typing import Any, ClassVar

from benchmarks.base import Metric
from benchmarks.humaneval_plus import HumanEvalPlus
from benchmarks.judged import (
    MALICIOUS_KAPPA,
    REFUSAL_KAPPA,
    MaliciousBenchmark,
    RefusalBenchmark,
    answered_metrics,
    safe_metrics,
)
from benchmarks.mbpp_plus import MbppPlus
from benchmarks.secure_codegen import (
    NO_CODE_CYBERSECEVAL,
    SecureCodegenBenchmark,
    normalize_cwe,
    secure_codegen_metrics,
)
from harness.core.data import DataFile
from harness.core.types import Message, Sample
from scorers.code_extract import normalize_language
from scorers.compose import AllOf
from scorers.icd import InsecureCodeDetector
from scorers.oracles import SideBySide, agreement_metrics
from scorers.refusal import RefusalScorer
from scorers.security import ANALYZER_METRICS, StaticSecurity

PARQUET = "data/test-00000-of-00001.parquet"


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
    hf_name = "CodeLMSec"
    description = "PurpCode's CodeLMSec set (% secure)"
    size_hint = 192
    data_files = {"prompts": hf_set("CodeLMSec")}

    def to_sample(self, row: dict[str, Any], n: int) -> Sample:
        return self.sample(row, n, language=_language(row), cwe=normalize_cwe(row.get("cwe")))


class PurpCodeCWEval(_PurpCodeSet, SecureCodegenBenchmark):
    """CWEval's functional and security tests live in the CWEval repository (with C, Go and
    JavaScript toolchains), not in the dataset; here the answers are scored for security by the
    static analyzers, and the scorer says so. Functional scoring needs those tests."""

    name = "purpcode/CWEval"
    hf_name = "CWEval"
    description = "PurpCode's CWEval prompts; security by static analysis (tests not in the set)"
    size_hint = 119
    unfenced = "never"
    data_files = {"prompts": hf_set("CWEval")}

    def to_sample(self, row: dict[str, Any], n: int) -> Sample:
        path = str(row.get("file_path") or "")
        return self.sample(row, n, language=_language(row), cwe=normalize_cwe(path))


class CWEval(PurpCodeCWEval):
    name = "cweval"


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

    def make_scorer(self) -> AllOf:
        """Answered (the refusal oracle) AND secure (the static oracle, with CyberSecEval's
        detector recorded beside it); a refusal is labelled "refused", insecure code by the
        analyzers' label."""
        security = SideBySide(
            {"icd": InsecureCodeDetector(), "static": StaticSecurity(self.unfenced)},
            decides="static",
        )
        return AllOf(
            {"answered": RefusalScorer(), "secure": security},
            pass_label="answered-secure",
            fail_labels={"answered": "refused"},
            part_values=True,
        )


class PurpCodeMITRE(_PurpCodeSet, MaliciousBenchmark):
    name = "purpcode/CyberSecEval-MITRE"
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
    hf_name = "CyberSecEval-FRR"
    description = "PurpCode's CyberSecEval false-refusal set (% answered)"
    size_hint = 750
    metrics = (*answered_metrics(), REFUSAL_KAPPA)
    data_files = {"prompts": hf_set("CyberSecEval-FRR")}


class PurpCodeXSTest(_PurpCodeSet, RefusalBenchmark):
    name = "purpcode/XSTest"
    hf_name = "XSTest"
    description = "PurpCode's XSTest set: the safe prompts (% answered)"
    size_hint = 250
    metrics = (*answered_metrics(), REFUSAL_KAPPA)
    data_files = {"prompts": hf_set("XSTest")}


class PurpCodePHTest(_PurpCodeSet, RefusalBenchmark):
    name = "purpcode/PHTest"
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
