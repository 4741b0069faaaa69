"""The result schema: the columns and types of every sample and summary row, checked on write.

Kept in the core layer (pure data and pyarrow) so that everything that reads results (the store,
the leaderboard, the gate) agrees on one definition, and so that reading old results never needs
the benchmark classes. A row that does not fit is an error, never a silent coercion: a string in
`n` or a float in `sample_index` would otherwise become a wrong number or a crash far from its
cause.

`upgrade_summary` is the one place that reads a summary written by an older schema (see
results/README.md, "Older result directories").
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from harness.core.metrics import parse_definition, unrecorded_definition

SCHEMA_VERSION = 3
# Versions a reader understands: 2 lacks the summary's `headline` and `definition` columns,
# which `upgrade_summary` fills in (never rebuilt from today's benchmark code).
READABLE_VERSIONS = (2, 3)
# The diagnostic row every benchmark's summary holds (schema 2 and 3 alike).
TRUNCATED_NAME = "% cut at the token limit"

IDENTITY_FIELDS: list[tuple[str, pa.DataType]] = [
    ("schema_version", pa.int32()),
    ("run_id", pa.string()),
    ("created_at", pa.string()),
    ("harness_version", pa.string()),
    ("harness_git_sha", pa.string()),
    ("model", pa.string()),
    ("model_revision", pa.string()),
    ("backend", pa.string()),
    ("backend_details", pa.string()),
    ("prompt_format", pa.string()),
    ("system_prompt_sha", pa.string()),
    ("chat_template_sha", pa.string()),
    ("generation_params", pa.string()),
    ("seed", pa.int64()),
]

SAMPLE_FIELDS: list[tuple[str, pa.DataType]] = [
    *IDENTITY_FIELDS,
    ("benchmark", pa.string()),
    ("family", pa.string()),
    ("benchmark_version", pa.string()),
    ("dataset_id", pa.string()),
    ("dataset_revision", pa.string()),
    ("dataset_sha256", pa.string()),
    ("sample_id", pa.string()),
    ("sample_index", pa.int32()),
    ("language", pa.string()),
    ("cwe", pa.string()),
    ("subset", pa.string()),  # a benchmark's part (XSTest safe/unsafe, RMCBench level, ...)
    ("prompt_hash", pa.string()),
    ("prompt", pa.string()),
    ("response", pa.string()),
    ("reasoning", pa.string()),
    ("finish_reason", pa.string()),
    ("truncated", pa.bool_()),
    ("prompt_tokens", pa.int64()),
    ("completion_tokens", pa.int64()),
    ("latency_s", pa.float64()),
    ("status", pa.string()),  # ok | error (generation or scoring failed; still counted)
    ("error", pa.string()),
    ("scorer", pa.string()),
    ("scorer_version", pa.string()),
    ("score", pa.float64()),
    ("scores", pa.string()),  # JSON: named sub-scores (e.g. base / plus)
    ("label", pa.string()),
    ("explanation", pa.string()),
    ("details", pa.string()),  # JSON
    ("findings", pa.string()),  # JSON list: rule, cwe, severity, line, analyzer
]
SAMPLE_SCHEMA = pa.schema(SAMPLE_FIELDS)

SUMMARY_FIELDS: list[tuple[str, pa.DataType]] = [
    *IDENTITY_FIELDS,
    ("benchmark", pa.string()),
    ("family", pa.string()),
    ("benchmark_version", pa.string()),
    ("dataset_revision", pa.string()),
    ("scorer", pa.string()),
    ("scorer_version", pa.string()),
    ("metric", pa.string()),
    ("slice", pa.string()),  # "" for the whole benchmark, else e.g. "language=python"
    ("value", pa.float64()),
    ("ci_low", pa.float64()),
    ("ci_high", pa.float64()),
    ("n", pa.int64()),  # samples (tasks) in the denominator, errors included
    ("n_errors", pa.int64()),
    ("higher_is_better", pa.bool_()),
    ("headline", pa.bool_()),  # the benchmark's headline number (whole and per slice)
    ("definition", pa.string()),  # JSON: how the value is computed (Metric.definition)
]
SUMMARY_SCHEMA = pa.schema(SUMMARY_FIELDS)
# Columns a schema-2 summary lacks.
SUMMARY_V3_COLUMNS = ("headline", "definition")

# Columns that must be present and not null; every other column may be missing (null).
_IDENTITY_REQUIRED = {"schema_version", "run_id", "model", "backend"}
REQUIRED: dict[str, frozenset[str]] = {
    "sample": frozenset(
        _IDENTITY_REQUIRED | {"benchmark", "family", "sample_id", "sample_index", "status"}
    ),
    "summary": frozenset(
        _IDENTITY_REQUIRED
        | {
            "benchmark",
            "family",
            "metric",
            "slice",
            "n",
            "n_errors",
            "higher_is_better",
            "headline",
            "definition",
        }
    ),
}


class SchemaMismatch(RuntimeError):
    """Results that do not fit this schema: another version, or a row of the wrong shape."""


class RowError(SchemaMismatch, TypeError):
    """One row does not fit the schema; the message names the row, the column and the value."""


def _kind(schema: pa.Schema) -> str:
    return "summary" if "metric" in schema.names else "sample"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _plain(value: Any) -> Any:
    """numpy scalars as Python values; every other value unchanged (and then type-checked)."""
    return value.item() if isinstance(value, np.generic) else value


def _fits(value: Any, kind: pa.DataType) -> bool:
    if pa.types.is_string(kind):
        return isinstance(value, str)
    if pa.types.is_boolean(kind):
        return isinstance(value, bool)
    if pa.types.is_integer(kind):
        return isinstance(value, int) and not isinstance(value, bool)
    if pa.types.is_floating(kind):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return True


def _where(index: int, row: dict[str, Any], what: str) -> str:
    names = [f"{k}={row[k]!r}" for k in ("benchmark", "sample_id", "metric", "slice") if k in row]
    return f"{what} row {index}" + (f" ({', '.join(names)})" if names else "")


def check_row(index: int, row: dict[str, Any], schema: pa.Schema) -> dict[str, Any]:
    """The row's values in schema order, or `RowError` for an unknown or missing column or a
    value of the wrong type. None/NaN become null in nullable columns."""
    what = _kind(schema)
    required = REQUIRED[what]
    unknown = [k for k in row if k not in schema.names]
    if unknown:
        raise RowError(f"{_where(index, row, what)}: unknown column {unknown[0]!r}")
    clean: dict[str, Any] = {}
    for field in schema:
        value = _plain(row.get(field.name))
        if _missing(value):
            if field.name in required:
                state = "missing" if field.name not in row else f"null ({value!r})"
                raise RowError(
                    f"{_where(index, row, what)}: required column {field.name!r} is {state}"
                )
            clean[field.name] = None
            continue
        if not _fits(value, field.type):
            raise RowError(
                f"{_where(index, row, what)}: column {field.name!r} must be {field.type}, "
                f"got {type(value).__name__} {value!r}"[:300]
            )
        clean[field.name] = value
    return clean


def table_from_rows(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Rows as a table of exactly `schema`, each row checked first (see `check_row`)."""
    checked = [check_row(i, row, schema) for i, row in enumerate(rows)]
    columns = {name: [row[name] for row in checked] for name in schema.names}
    return pa.Table.from_pydict(columns, schema=schema)


def check_version(found: Any, where: str, *, writing: bool) -> None:
    """Reading accepts every version in READABLE_VERSIONS; writing only this one (a run
    directory never mixes rows of two schema versions)."""
    if found == SCHEMA_VERSION:
        return
    if not writing and found in READABLE_VERSIONS:
        return
    if writing and found in READABLE_VERSIONS:
        raise SchemaMismatch(
            f"{where} has results schema version {found}; this purpbench reads it but writes "
            f"only version {SCHEMA_VERSION} and does not add to it: use another --output "
            "directory (its results stay readable as they are)"
        )
    readable = ", ".join(str(v) for v in READABLE_VERSIONS)
    raise SchemaMismatch(
        f"{where} has results schema version {found}, this purpbench reads versions "
        f"{readable} and writes version {SCHEMA_VERSION}: use another --output directory or "
        "re-run there"
    )


def upgrade_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Summary rows with `headline` and `definition` filled in where they were not recorded.

    A schema-2 summary stored neither: what schema 2 meant by the headline was "the first
    metric row of the benchmark's whole-benchmark rows" (rows kept in their stored order), so
    that row and the slice rows of the same metric become headline; the `% cut at the token
    limit` row never is. Definitions are not rebuilt from today's benchmark code: they are
    version 0 ("not recorded"), with only what schema 2 documented: the truncation row is a
    diagnostic share, a "κ …" row Cohen's κ (agreement). Rows that carry both columns are
    returned unchanged.
    """
    frame = frame.copy()
    for column in SUMMARY_V3_COLUMNS:
        if column not in frame:
            frame[column] = None
    if frame.empty:
        frame["headline"] = frame["headline"].astype(bool)
        return frame
    old = frame["definition"].isna() | frame["headline"].isna()
    if old.any():
        group_keys = [k for k in ("run_id", "benchmark") if k in frame]
        part = frame[old]
        whole = part[(part["slice"].fillna("") == "") & (part["metric"] != TRUNCATED_NAME)]
        first = whole.drop_duplicates(group_keys, keep="first")
        headline_of = {tuple(r[k] for k in group_keys): r["metric"] for _, r in first.iterrows()}
        keys = list(zip(*(part[k] for k in group_keys)))
        is_head = [
            headline_of.get(key) == metric and metric != TRUNCATED_NAME
            for key, metric in zip(keys, part["metric"])
        ]
        frame.loc[old, "headline"] = is_head
        frame.loc[old, "definition"] = [
            json.dumps(_old_definition(str(m), h), sort_keys=True)
            for m, h in zip(part["metric"], is_head)
        ]
    frame["headline"] = frame["headline"].astype(bool)
    return frame


def _old_definition(metric: str, headline: bool) -> dict[str, Any]:
    if metric == TRUNCATED_NAME:
        return unrecorded_definition("diagnostic", "share-truncated")
    if metric.startswith("κ"):
        return unrecorded_definition("agreement", "kappa")
    return unrecorded_definition("headline" if headline else "metric")


def definitions(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The parsed `definition` of each row of an (upgraded) summary frame."""
    return [parse_definition(text) for text in frame["definition"]]


def roles(frame: pd.DataFrame) -> pd.Series:
    """Each summary row's role (headline / metric / agreement / diagnostic), from its definition."""
    return pd.Series([d.get("role") for d in definitions(frame)], index=frame.index, dtype=object)
