"""A user's own tasks in HumanEval format, run as `--benchmarks tasks:/path/to/tasks.jsonl`.

Each line: {"task_id", "prompt", "entry_point", "canonical_solution", "test"} where `test`
defines `check(candidate)`; `.jsonl` or `.jsonl.gz`. The file's sha256 is recorded as the
dataset revision, so results stay traceable to the exact file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.base import Fidelity, ScoringContext
from benchmarks.code_exec import ScriptBenchmark, read_jsonl
from harness.core.data import DataFile, DataUnavailable, ResolvedFile, sha256_of
from harness.core.fidelity import reference

REQUIRED = ("task_id", "prompt", "entry_point", "canonical_solution", "test")


class TasksFile(ScriptBenchmark):
    name = "tasks"
    description = "your own HumanEval-format tasks: tasks:/path/to/file.jsonl"

    def __init__(self, path: str | Path, data_dir: str | Path | None = None) -> None:
        super().__init__(data_dir)
        self.path = Path(path)
        if not self.path.exists():
            raise DataUnavailable(f"tasks file not found: {self.path}")
        self.name = f"tasks:{self.path.name}"
        sha = sha256_of(self.path)
        spec = DataFile(str(self.path), sha, f"file:{self.path.resolve()}", sha[:12])
        self._resolved = {"problems": ResolvedFile(self.path, spec, "local")}

    def fidelity(self, ctx: ScoringContext) -> Fidelity:
        """The user's tasks claim nothing but their own tests, which are what run."""
        return reference(f"{self.name}: the file's own check() tests", self.scorer.describe())

    def records(self) -> list[dict[str, Any]]:
        rows = read_jsonl(self.path)
        for n, row in enumerate(rows, 1):
            missing = [k for k in REQUIRED if k not in row]
            if missing:
                raise DataUnavailable(f"{self.path}: line {n} lacks {', '.join(missing)}")
        return rows
