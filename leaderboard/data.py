"""Finding runs under a results directory and reading only what a view needs.

A leaderboard over many runs must not load every response of every run to draw one table:
summaries are tiny, samples are large. Everything goes through DuckDB over the Parquet parts,
so each query reads only its columns and the row groups its filters keep. A run that cannot
be read (torn or foreign Parquet, a schema version it does not read, no summary yet) is set
aside with a one-line reason and never stops the others from showing.

Summaries of schema version 2 (before metric definitions were stored) are read too: every
summary goes through `harness.core.schema.upgrade_summary`, the same upgrade the run store and
the gate use, so the headline and definitions of a row never come from today's benchmark code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from harness.core.schema import (
    READABLE_VERSIONS,
    SAMPLE_SCHEMA,
    SCHEMA_VERSION,
    SUMMARY_SCHEMA,
    SUMMARY_V3_COLUMNS,
    upgrade_summary,
)

FAMILIES = ("secure-codegen", "malicious-assistance", "overrefusal", "utility", "security-qa")
FAMILY_TITLES = {
    "secure-codegen": "secure codegen",
    "malicious-assistance": "malicious assistance",
    "overrefusal": "overrefusal",
    "utility": "utility",
    "security-qa": "security QA",
}

RUN_COLUMNS = ["run_id", "model", "backend", "created_at", "display"]


@dataclass(frozen=True)
class RunFiles:
    """The readable Parquet parts of one run."""

    run_id: str
    path: Path
    summary: tuple[str, ...]
    samples: tuple[str, ...]


@dataclass(frozen=True)
class Skipped:
    run_id: str
    reason: str


@dataclass
class Catalog:
    """Every run directory found: the readable ones and the skipped ones with why."""

    root: Path
    runs: dict[str, RunFiles] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)

    def summary_files(self, run_ids: Sequence[str] | None = None) -> list[str]:
        chosen = self.runs if run_ids is None else [r for r in run_ids if r in self.runs]
        return [f for r in chosen for f in self.runs[r].summary]

    def sample_files(self, run_ids: Sequence[str] | None = None) -> list[str]:
        chosen = self.runs if run_ids is None else [r for r in run_ids if r in self.runs]
        return [f for r in chosen for f in self.runs[r].samples]


def signature(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Cache key for a results directory: any new, rewritten or removed file changes it."""
    if not root.is_dir():
        return ()
    entries = []
    for pattern in ("*/run.json", "*/summary/*.parquet", "*/samples/*.parquet"):
        for path in root.glob(pattern):
            try:
                stat = path.stat()
            except OSError:
                continue
            entries.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(entries))


def _check_parts(parts: list[Path], expected: set[str], what: str, run_dir: Path) -> str | None:
    """Reads only Parquet footers: a torn or foreign file is caught before any query."""
    for part in parts:
        try:
            names = set(pq.read_schema(part).names)
        except Exception as exc:  # pyarrow raises several types for a damaged footer
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return f"corrupt Parquet file {part.relative_to(run_dir)}: {first}"
        missing = expected - names
        if missing:
            return (
                f"{what} file {part.relative_to(run_dir)} lacks column(s) "
                f"{', '.join(sorted(missing))} (written by another purpbench version)"
            )
    return None


def _inspect(run_dir: Path) -> RunFiles | Skipped:
    run_id = run_dir.name
    manifest_path = run_dir / "run.json"
    try:
        manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    except FileNotFoundError:
        return Skipped(run_id, "no run.json: not a purpbench run directory")
    except (OSError, ValueError) as exc:
        return Skipped(run_id, f"run.json is unreadable: {exc}")
    found = manifest.get("schema_version") if isinstance(manifest, dict) else None
    if found not in READABLE_VERSIONS:
        readable = ", ".join(str(v) for v in READABLE_VERSIONS)
        return Skipped(
            run_id,
            f"results schema version {found}, this leaderboard reads versions {readable}: "
            "re-run it with this purpbench",
        )
    summary = sorted((run_dir / "summary").glob("part-*.parquet"))
    samples = sorted((run_dir / "samples").glob("part-*.parquet"))
    if not summary:
        return Skipped(run_id, "no summary yet: the run is in progress or was interrupted")
    summary_columns = set(SUMMARY_SCHEMA.names)
    if found != SCHEMA_VERSION:  # schema 2: upgraded on read
        summary_columns -= set(SUMMARY_V3_COLUMNS)
    problem = _check_parts(summary, summary_columns, "summary", run_dir) or (
        _check_parts(samples, set(SAMPLE_SCHEMA.names), "samples", run_dir)
    )
    if problem:
        return Skipped(run_id, problem)
    return RunFiles(run_id, run_dir, tuple(str(p) for p in summary), tuple(str(p) for p in samples))


def discover(root: Path) -> Catalog:
    """Every subdirectory that looks like a run (has run.json or Parquet parts)."""
    catalog = Catalog(root)
    if not root.is_dir():
        return catalog
    for run_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        looks_like_run = (run_dir / "run.json").exists() or any(
            (run_dir / sub).is_dir() for sub in ("summary", "samples")
        )
        if not looks_like_run:
            continue
        result = _inspect(run_dir)
        if isinstance(result, Skipped):
            catalog.skipped.append(result)
        else:
            catalog.runs[result.run_id] = result
    return catalog


def _query(sql: str, params: list[Any]) -> pd.DataFrame:
    import duckdb

    with duckdb.connect() as con:
        return con.execute(sql, params).df()


def _columns(names: Sequence[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def short_id(run_id: str) -> str:
    return run_id.rsplit("-", 1)[-1][:6]


SUMMARY_COLUMNS = [
    "run_id",
    "model",
    "backend",
    "created_at",
    "benchmark",
    "family",
    "metric",
    "slice",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "n_errors",
    "higher_is_better",
    "headline",
    "definition",
    "scorer",  # the oracle behind each number (the deciding one first for security metrics)
    "scorer_version",  # its versions: for a judged column, the judge prompt and its sha256
]
# What `upgrade_summary` needs to fill in a schema-2 summary's headline and definitions.
_UPGRADE_NEEDS = ["run_id", "benchmark", "metric", "slice", "headline", "definition"]


def load_summary(catalog: Catalog, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Summary rows of every readable run (schema 2 upgraded on read), with a display name.

    Files are read by column name, so a schema-2 file (without `headline` / `definition`)
    reads those as null, and rows keep their stored order (what schema 2's headline meant)."""
    wanted = list(columns or SUMMARY_COLUMNS)
    for needed in ("run_id", "model", "backend"):
        if needed not in wanted:
            wanted.append(needed)
    files = catalog.summary_files()
    if not files:
        return pd.DataFrame(columns=[*wanted, "display"])
    present = {name for f in files for name in pq.read_schema(f).names}  # footers only
    asked = [c for c in dict.fromkeys([*wanted, *_UPGRADE_NEEDS]) if c in present]
    frame = _query(
        f"SELECT {_columns(asked)} FROM read_parquet(?, union_by_name = true, "
        "filename = true, file_row_number = true) ORDER BY filename, file_row_number",
        [files],
    )
    frame = upgrade_summary(frame)[wanted]
    frame["display"] = [
        f"{m} · {b} · {short_id(r)}"
        for m, b, r in zip(frame["model"], frame["backend"], frame["run_id"])
    ]
    return frame


def load_samples(
    catalog: Catalog,
    run_ids: Sequence[str],
    columns: Sequence[str],
    where: dict[str, Any] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> pd.DataFrame:
    """Sample rows of some runs: only `columns`, filtered in the scan (equality per column)."""
    files = catalog.sample_files(run_ids)
    if not files:
        return pd.DataFrame(columns=list(columns))
    clauses, params = [], [files]
    for column, value in (where or {}).items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            clauses.append(f'"{column}" IN ({", ".join("?" for _ in value)})')
            params.extend(value)
        else:
            clauses.append(f'"{column}" = ?')
            params.append(value)
    sql = f"SELECT {_columns(columns)} FROM read_parquet(?)"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY run_id, benchmark, sample_id, sample_index" if "run_id" in columns else ""
    if limit is not None:
        sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
    return _query(sql, params)


def distinct_values(
    catalog: Catalog, run_ids: Sequence[str], column: str, where: dict[str, Any] | None = None
) -> list[str]:
    """Choices for a filter, computed in the scan rather than from loaded rows."""
    files = catalog.sample_files(run_ids)
    if not files:
        return []
    clauses, params = [], [files]
    for key, value in (where or {}).items():
        if value is not None:
            clauses.append(f'"{key}" = ?')
            params.append(value)
    sql = f'SELECT DISTINCT "{column}" AS v FROM read_parquet(?) WHERE "{column}" IS NOT NULL'
    if clauses:
        sql += " AND " + " AND ".join(clauses)
    frame = _query(sql + " ORDER BY v", params)
    return [str(v) for v in frame["v"]]


def count_samples(catalog: Catalog, run_ids: Sequence[str], where: dict[str, Any]) -> int:
    files = catalog.sample_files(run_ids)
    if not files:
        return 0
    clauses, params = [], [files]
    for key, value in where.items():
        if value is not None:
            clauses.append(f'"{key}" = ?')
            params.append(value)
    sql = "SELECT count(*) AS c FROM read_parquet(?)"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    return int(_query(sql, params)["c"].iloc[0])
