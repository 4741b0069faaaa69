"""CyberSecEval secure code generation (Meta PurpleLlama, MIT): instruct and autocomplete.

Each prompt was mined from real open-source code that an analyzer flagged; the question is
whether the model writes the flagged pattern again. `cse-instruct` asks in natural language,
`cse-autocomplete` gives the code before the flagged line. Eight languages; results are broken
down by language and CWE. The headline is CyberSecEval's own: its Insecure Code Detector
(`scorers.icd`, codeshield) on the answer taken as CyberSecEval's runner takes it (the first
code block, else the whole answer; for autocomplete with the code before the flagged line as
context), over all answers. PurpCode's evaluation passes the raw answer to that runner too.
The project's static oracle (rule pack, bandit, CodeQL when installed) is recorded beside it,
with each oracle's % secure and their agreement, so users see how much the number depends on
the oracle.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from benchmarks.secure_codegen import (
    NO_CODE_CYBERSECEVAL,
    SecureCodegenBenchmark,
    github_file,
    normalize_cwe,
    secure_codegen_metrics,
)
from harness.core.data import DataFile
from harness.core.types import Message, Sample

REPO = "meta-llama/PurpleLlama"
COMMIT = "4be64c3a24442b51c76175e6ec67722cc3f5fe38"
AUTOCOMPLETE_ASK = "Write the next several lines of the following code."


def _file(name: str, sha256: str, variant: str) -> DataFile:
    return github_file(
        REPO,
        COMMIT,
        f"CybersecurityBenchmarks/datasets/{variant}/{name}",
        f"cyberseceval-{variant}/{name}",
        sha256,
    )


class _CyberSecEval(SecureCodegenBenchmark):
    variant: ClassVar[str]
    metrics = secure_codegen_metrics(no_code=NO_CODE_CYBERSECEVAL, decides="icd")
    decides = "icd"
    reference_oracle = "icd"
    # CyberSecEval analyses an answer without a code block whole: an unfenced program is
    # analysed, prose is not code (see looks_like_code).
    unfenced = "if-code"

    def load(self) -> list[Sample]:
        records = json.loads(self.files()["prompts"].path.read_text(encoding="utf-8"))
        return [self.sample(n, record) for n, record in enumerate(records)]

    def sample(self, n: int, record: dict[str, Any]) -> Sample:
        for key in ("test_case_prompt", "language", "cwe_identifier"):
            if not isinstance(record.get(key), str):
                raise ValueError(f"record {n} has no {key!r}")
        language = {"c++": "cpp", "c#": "csharp"}.get(record["language"], record["language"])
        return Sample(
            id=str(record.get("prompt_id", n)),
            messages=[Message("user", record["test_case_prompt"])],
            completion_prompt=self.completion_prompt(record["test_case_prompt"]),
            metadata={
                "language": language,
                "cwe": normalize_cwe(record["cwe_identifier"]),
                "pattern_id": record.get("pattern_id"),
                # what CyberSecEval's detector reads of an autocomplete record (code_before)
                **{k: record[k] for k in ("variant", "line_text", "origin_code") if k in record},
            },
        )

    def completion_prompt(self, prompt: str) -> str | None:
        return None


class CyberSecEvalInstruct(_CyberSecEval):
    name = "cse-instruct"
    reference = "CyberSecEval instruct % secure (its insecure code detector)"
    description = "CyberSecEval instruct: write code from a description, 8 languages (% secure)"
    size_hint = 1916
    data_files = {
        "prompts": _file(
            "instruct.json",
            "8913f770ccd50921ba5a4e94e504b224dbeeb39afc6618a3e9bf941a8eafbe3e",
            "instruct",
        )
    }


class CyberSecEvalInstructV2(CyberSecEvalInstruct):
    name = "cse-instruct-v2"
    reference = "CyberSecEval instruct (2025 revision) % secure (its insecure code detector)"
    description = "CyberSecEval instruct, 2025 cleaned revision (invalid prompts removed)"
    size_hint = 1681
    data_files = {
        "prompts": _file(
            "instruct-v2.json",
            "df19f7c51911d46d0ae5c069b7093728db8e682890a44317a211ac61cb02c181",
            "instruct",
        )
    }


class CyberSecEvalAutocomplete(_CyberSecEval):
    name = "cse-autocomplete"
    reference = "CyberSecEval autocomplete % secure (its insecure code detector)"
    description = "CyberSecEval autocomplete: continue real code before a flagged line (% secure)"
    size_hint = 1916
    default_max_tokens = 512
    data_files = {
        "prompts": _file(
            "autocomplete.json",
            "be065f92dbc74c882fe90b7abbeccfbba1ee39d79916cd0ff3387015e06e1bec",
            "autocomplete",
        )
    }

    def completion_prompt(self, prompt: str) -> str | None:
        """Base models get the code alone: the instruction preamble is for chat models."""
        head, sep, code = prompt.partition("\n\n")
        if sep and AUTOCOMPLETE_ASK in head:
            return code
        return prompt
