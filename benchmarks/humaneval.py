"""HumanEval (OpenAI, 164 tasks): the original `check(candidate)` tests."""

from __future__ import annotations

from typing import Any

from benchmarks.code_exec import ScriptBenchmark, read_jsonl
from harness.core.data import DataFile


class HumanEval(ScriptBenchmark):
    name = "humaneval"
    description = "HumanEval, original tests, pass@k by sandboxed execution"
    size_hint = 164
    data_files = {
        "problems": DataFile(
            mirror_path="humaneval/HumanEval.jsonl.gz",
            sha256="b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef",
            source_repo="github:openai/human-eval",
            revision="6d43fb980f9fee3c892a914eda09951f772ad10d",
            url="https://raw.githubusercontent.com/openai/human-eval/"
            "6d43fb980f9fee3c892a914eda09951f772ad10d/data/HumanEval.jsonl.gz",
        )
    }

    def records(self) -> list[dict[str, Any]]:
        return read_jsonl(self.files()["problems"].path)
