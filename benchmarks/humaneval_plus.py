"""HumanEval+ (EvalPlus v0.1.10): HumanEval with 80x more tests; base and plus reported apart."""

from __future__ import annotations

from benchmarks.code_exec import IOBenchmark, read_jsonl
from harness.core.data import DataFile
from harness.core.types import Sample
from scorers.execution import IOTask

# Tasks whose answer is not unique and needs a property check instead of equality.
SPECIAL_ORACLES = {"find_zero": "poly_root"}


class HumanEvalPlus(IOBenchmark):
    name = "humaneval-plus"
    description = "HumanEval+ (EvalPlus), base and plus tests, pass@k by sandboxed execution"
    size_hint = 164
    data_files = {
        "problems": DataFile(
            mirror_path="humanevalplus/HumanEvalPlus.jsonl.gz",
            sha256="272720b90ac375502c8ed23cd791c2a93dfb22a911641a494da74a426c09f101",
            source_repo="github:evalplus/humanevalplus_release",
            revision="200defce9e3429d28ca215b6dd061c0f7f31c18b",
            url="https://raw.githubusercontent.com/evalplus/humanevalplus_release/"
            "200defce9e3429d28ca215b6dd061c0f7f31c18b/HumanEvalPlus.jsonl.gz",
        )
    }

    def _records(self) -> list[dict]:
        return read_jsonl(self.files()["problems"].path)

    def load(self) -> list[Sample]:
        return [
            self.make_sample(r["task_id"], r["prompt"], r["entry_point"]) for r in self._records()
        ]

    def io_tasks(self) -> dict[str, IOTask]:
        return {
            r["task_id"]: IOTask(
                task_id=r["task_id"],
                reference_code=r["prompt"] + r["canonical_solution"],
                entry_point=r["entry_point"],
                base_inputs=r["base_input"],
                plus_inputs=r["plus_input"],
                atol=float(r.get("atol") or 0.0),
                oracle=SPECIAL_ORACLES.get(r["entry_point"]),
            )
            for r in self._records()
        }
