"""Results on disk: one directory per run, Parquet parts written as samples finish.

    <output>/<run_id>/run.json            identity and config of the run (no secrets)
    <output>/<run_id>/generations.jsonl   every model answer, appended as it arrives (resume cache)
    <output>/<run_id>/samples/part-*.parquet   scored rows, one part per scored batch
    <output>/<run_id>/summary/part-0.parquet   metrics with 95% CIs (rewritten at the end;
                                               benchmarks of earlier invocations kept)

Parts are written to a temporary name and renamed, so a killed run never leaves a torn file;
`pandas.read_parquet(<run>/samples)` reads all parts. The schema is fixed in harness.core.schema
(and results/README.md) so that every part of every run has the same columns and types; a row
that does not fit it is refused on write (`RowError`), never coerced.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from harness.core.schema import (
    IDENTITY_FIELDS,
    READABLE_VERSIONS,
    SAMPLE_FIELDS,
    SAMPLE_SCHEMA,
    SCHEMA_VERSION,
    SUMMARY_FIELDS,
    SUMMARY_SCHEMA,
    RowError,
    SchemaMismatch,
    check_version,
    table_from_rows,
    upgrade_summary,
)
from harness.core.types import Generation

# The schema lives in harness.core.schema; these names stay importable from here for callers.
__all__ = [
    "IDENTITY_FIELDS",
    "READABLE_VERSIONS",
    "SAMPLE_FIELDS",
    "SAMPLE_SCHEMA",
    "SCHEMA_VERSION",
    "SUMMARY_FIELDS",
    "SUMMARY_SCHEMA",
    "RowError",
    "RunStore",
    "SchemaMismatch",
    "read_parts",
    "resolve_run_dir",
    "table_from_rows",
]


def _write_atomic(table: pa.Table, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, target)


class RunStore:
    """All file access of one run directory."""

    def __init__(self, run_dir: Path) -> None:
        self.dir = run_dir
        self.samples_dir = run_dir / "samples"
        self.summary_dir = run_dir / "summary"
        self.generations_file = run_dir / "generations.jsonl"
        self._lock = threading.Lock()
        self._gen_handle = None
        self._next_part = self._count_parts()

    def _count_parts(self) -> int:
        if not self.samples_dir.exists():
            return 0
        numbers = [int(p.stem.split("-")[1]) for p in self.samples_dir.glob("part-*.parquet")]
        return max(numbers, default=-1) + 1

    # --- run identity -------------------------------------------------------------------
    def write_manifest(self, manifest: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / ".run.json.tmp"
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
        os.replace(tmp, self.dir / "run.json")

    def manifest(self) -> dict[str, Any] | None:
        path = self.dir / "run.json"
        return json.loads(path.read_text()) if path.exists() else None

    def check_schema(self) -> None:
        """Before writing: a run of another schema version is not mixed with new rows. A
        schema-2 directory is refused in one line (it stays readable; see results/README.md,
        "Older result directories")."""
        manifest = self.manifest()
        if manifest is None:
            return
        check_version(manifest.get("schema_version"), str(self.dir), writing=True)

    def check_readable(self) -> None:
        """Before reading: versions this purpbench reads (READABLE_VERSIONS), else one line."""
        manifest = self.manifest()
        if manifest is None:
            return
        check_version(manifest.get("schema_version"), str(self.dir), writing=False)

    # --- generation cache ---------------------------------------------------------------
    def load_generations(self) -> dict[str, Generation]:
        """Answers already paid for. A torn last line (killed mid-write) is skipped."""
        cache: dict[str, Generation] = {}
        if not self.generations_file.exists():
            return cache
        with self.generations_file.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                    generation = Generation.from_json(record["generation"])
                except (ValueError, KeyError, TypeError):
                    continue
                if not generation.error:  # failed calls are retried on resume
                    cache[record["key"]] = generation
        return cache

    def append_generation(self, key: str, generation: Generation) -> None:
        with self._lock:
            if self._gen_handle is None:
                self.dir.mkdir(parents=True, exist_ok=True)
                self._gen_handle = self.generations_file.open("a", encoding="utf-8")
            record = {"key": key, "generation": generation.to_json()}
            self._gen_handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._gen_handle.flush()

    # --- scored samples -----------------------------------------------------------------
    def append_samples(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        with self._lock:
            target = self.samples_dir / f"part-{self._next_part:06d}.parquet"
            self._next_part += 1
            _write_atomic(table_from_rows(rows, SAMPLE_SCHEMA), target)

    def finished_keys(
        self, scorers: dict[str, tuple[str, str]] | None = None
    ) -> set[tuple[str, str, int]]:
        """(benchmark, sample_id, sample_index) of rows already stored with status ok.

        With `scorers` (benchmark -> (scorer, version)), a row scored by another scorer (a
        different judge, analyzer policy or rule pack) is not finished: it is rescored from the
        generation log, without a model call.
        """
        columns = ["benchmark", "sample_id", "sample_index", "status", "scorer", "scorer_version"]
        frame = self.read_samples(columns=columns)
        if frame.empty:
            return set()
        done = frame[frame["status"] == "ok"]
        if scorers is not None:
            current = [
                scorers.get(b) == (s, v)
                for b, s, v in zip(done["benchmark"], done["scorer"], done["scorer_version"])
            ]
            done = done[current]
        return set(zip(done["benchmark"], done["sample_id"], done["sample_index"].astype(int)))

    def read_samples(self, columns: list[str] | None = None) -> pd.DataFrame:
        return read_parts(self.samples_dir, SAMPLE_SCHEMA, columns)

    def compact_samples(self) -> None:
        """Keep the latest row per sample (a resumed error row is superseded) in one part."""
        frame = self.read_samples()
        parts = sorted(self.samples_dir.glob("part-*.parquet"))
        if (
            len(parts) <= 1
            and not frame.duplicated(["benchmark", "sample_id", "sample_index"]).any()
        ):
            return
        frame = frame.drop_duplicates(["benchmark", "sample_id", "sample_index"], keep="last")
        table = pa.Table.from_pandas(frame, schema=SAMPLE_SCHEMA, preserve_index=False)
        with self._lock:
            target = self.samples_dir / f"part-{self._next_part:06d}.parquet"
            self._next_part += 1
            _write_atomic(table, target)
            for part in parts:
                part.unlink()

    def write_summary(self, rows: list[dict[str, Any]]) -> None:
        _write_atomic(table_from_rows(rows, SUMMARY_SCHEMA), self.summary_dir / "part-0.parquet")

    def update_summary(self, rows: list[dict[str, Any]], benchmarks: Iterable[str]) -> list[str]:
        """The summary of `benchmarks` becomes `rows`; every other benchmark keeps the rows it
        was summarized with. A run grown one benchmark at a time (same identity, another
        `--benchmarks`) so summarizes all of them, each as computed when it was scored (its
        data or its lm-eval task need not be loadable now). Returns the benchmarks kept."""
        replaced = set(benchmarks)
        new = table_from_rows(rows, SUMMARY_SCHEMA)
        parts = sorted(self.summary_dir.glob("part-*.parquet")) if self.summary_dir.exists() else []
        old = [pq.read_table(p).select(SUMMARY_SCHEMA.names).cast(SUMMARY_SCHEMA) for p in parts]
        kept = [
            t.filter(pa.array([b not in replaced for b in t["benchmark"].to_pylist()], pa.bool_()))
            for t in old
        ]
        merged = pa.concat_tables([*kept, new])
        names = merged["benchmark"].to_pylist()
        # benchmark by benchmark; within one, the stored order (the headline row first)
        merged = merged.take(sorted(range(len(names)), key=lambda i: str(names[i])))
        _write_atomic(merged, self.summary_dir / "part-0.parquet")
        for part in parts:
            if part.name != "part-0.parquet":
                part.unlink()
        return sorted({str(b) for t in kept for b in t["benchmark"].to_pylist()})

    def read_summary(self) -> pd.DataFrame:
        """Summary rows, a schema-2 summary upgraded on read (`upgrade_summary`: headline and
        definition filled in as schema 2 meant them, nothing rebuilt from today's code)."""
        parts = sorted(self.summary_dir.glob("part-*.parquet")) if self.summary_dir.exists() else []
        if not parts:
            return upgrade_summary(read_parts(self.summary_dir, SUMMARY_SCHEMA, None))
        frame = pd.concat([pq.read_table(p).to_pandas() for p in parts], ignore_index=True)
        return upgrade_summary(frame)

    def close(self) -> None:
        with self._lock:
            if self._gen_handle is not None:
                self._gen_handle.close()
                self._gen_handle = None


def read_parts(directory: Path, schema: pa.Schema, columns: Iterable[str] | None) -> pd.DataFrame:
    parts = sorted(directory.glob("part-*.parquet")) if directory.exists() else []
    if not parts:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in (columns or schema.names)})
    wanted = list(columns) if columns else None
    tables = [pq.read_table(part, columns=wanted) for part in parts]
    return pa.concat_tables(tables).to_pandas()


def resolve_run_dir(ref: str, results_root: Path) -> Path:
    """A run given as a path, or as a run id (or unique prefix) under the results root."""
    path = Path(ref)
    if (path / "run.json").exists():
        return path
    if path.is_absolute() or len(path.parts) > 1:  # a path, not a run id: nothing to search
        raise FileNotFoundError(f"no run at {path} (no run.json there)")
    candidates = sorted(p for p in results_root.glob(f"{ref}*") if (p / "run.json").exists())
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise FileNotFoundError(f"no run {ref!r} (looked for {path} and under {results_root})")
    raise FileNotFoundError(f"run {ref!r} is ambiguous: {', '.join(c.name for c in candidates)}")
