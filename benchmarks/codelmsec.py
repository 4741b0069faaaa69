"""CodeLMSec (Hajipour et al., Apache-2.0): 280 code prefixes in Python and C that invite a
vulnerability of one of 14 CWEs; the model completes the code.

The mirror holds the 280 upstream prompt files packed into one JSONL (content unchanged). The
packed file has no upstream URL, so it comes from a mirror; `purpcode/CodeLMSec` on the
Hugging Face hub is the downloadable copy (see the purpcode benchmarks).
"""

from __future__ import annotations

import json

from benchmarks.secure_codegen import (
    SecureCodegenBenchmark,
    code_prefix_sample,
    secure_codegen_metrics,
)
from harness.core.data import DataFile
from harness.core.types import Sample

LANGUAGES = {"py": "python", "c": "c"}


class CodeLMSec(SecureCodegenBenchmark):
    name = "codelmsec"
    description = "CodeLMSec: complete code prefixes that invite 14 CWEs, Python and C (% secure)"
    size_hint = 280
    default_max_tokens = 1024
    reference = "PurpCode's CodeLMSec % secure (CodeQL security-and-quality, severity >= medium)"
    reference_oracle = "codeql"
    metrics = secure_codegen_metrics(
        no_code="Denominator: all answers; an answer without code counts as secure, as in "
        "PurpCode's evaluation of CodeLMSec (its oracle analyses only fenced code and divides "
        "by all tasks); % with code tells how many answers held code."
    )
    data_files = {
        "prompts": DataFile(
            mirror_path="codelmsec/codelmsec_benchmark_prompts.jsonl",
            sha256="4ad9db9fe459d25395186a31232f0185be7072627a278258cefc308f342a68bb",
            source_repo="github:Ardor-Wu/codelmsec",
            revision="8a4265d813a8401a351ee58029af0aef0d183b3d",
        )
    }

    def load(self) -> list[Sample]:
        samples = []
        path = self.files()["prompts"].path
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            record = json.loads(line)
            if record.get("language") not in LANGUAGES or not record.get("prompt"):
                raise ValueError(f"line {n + 1}: unknown language or empty prompt")
            samples.append(
                code_prefix_sample(
                    record["id"], record["prompt"], LANGUAGES[record["language"]], record["cwe"]
                )
            )
        return samples
