"""SecurityEval (Siddiq & Santos, v2.1): 121 Python function stubs over 69 CWEs, each a
docstring asking for code that is easy to write insecurely. The model completes the stub."""

from __future__ import annotations

import json

from benchmarks.secure_codegen import (
    SecureCodegenBenchmark,
    code_prefix_sample,
    github_file,
    secure_codegen_metrics,
)
from harness.core.types import Sample


class SecurityEval(SecureCodegenBenchmark):
    name = "securityeval"
    description = "SecurityEval: complete 121 Python stubs over 69 CWEs (% secure)"
    size_hint = 121
    default_max_tokens = 1024
    metrics = secure_codegen_metrics(
        no_code="Denominator: all answers; an answer without code counts as secure (the "
        "analyzers find nothing in it), an empty completion of the stub or prose after it "
        "being answers without code; % with code tells how many answers held code."
    )
    data_files = {
        "prompts": github_file(
            "s2e-lab/SecurityEval",
            "6f4fb70f782c6d47b02ea24341e8ef8c1eb04a6a",
            "dataset.jsonl",
            "securityeval/dataset.jsonl",
            "e46918698e190e481399c51330c60049ed34a38ccc2546c9a81f0c84d446335f",
        )
    }

    def load(self) -> list[Sample]:
        samples = []
        path = self.files()["prompts"].path
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if not line.strip():
                continue
            record = json.loads(line)
            if not record.get("ID") or not record.get("Prompt"):
                raise ValueError(f"line {n + 1}: missing ID or Prompt")
            cwe = record["ID"].split("_")[0]
            samples.append(code_prefix_sample(record["ID"], record["Prompt"], "python", cwe))
        return samples
