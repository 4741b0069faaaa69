"""The PurpCode paper's published numbers, as rows that sit beside a user's own runs.

They are never mixed into computed results: every row carries the paper table it comes from
and the marker "reported, not run here", so nobody mistakes a copied figure for a measurement.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

REFERENCE_FILE = Path(__file__).with_name("reference_results.yaml")
REPORTED = "reported, not run here"


@lru_cache(maxsize=1)
def load_reference(path: Path = REFERENCE_FILE) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "tables" not in data or "benchmarks" not in data:
        raise ValueError(f"{path}: expected keys 'benchmarks' and 'tables'")
    return data


def reference_rows(data: dict[str, Any] | None = None) -> pd.DataFrame:
    """Long form: one row per (table, model, benchmark) with the value in percent."""
    data = data or load_reference()
    benchmarks = data["benchmarks"]
    rows = []
    for table in data["tables"]:
        for model, values in table["rows"].items():
            for benchmark, value in values.items():
                meta = benchmarks[benchmark]
                rows.append(
                    {
                        "source": f"{table['table']} (arXiv:{data['source']['arxiv']})",
                        "model": model,
                        "benchmark": benchmark,
                        "paper_benchmark": meta["paper"],
                        "paper_metric": meta["paper_metric"],
                        "metric": meta["metric"],
                        "close": meta.get("close"),
                        "value": float(value),
                        "status": REPORTED,
                    }
                )
    return pd.DataFrame(rows)


def reference_slices(data: dict[str, Any] | None = None) -> pd.DataFrame:
    data = data or load_reference()
    rows = [
        {
            "source": f"{entry['table']} (arXiv:{data['source']['arxiv']})",
            "model": entry["model"],
            "benchmark": entry["benchmark"],
            "metric": entry["metric"],
            "slice": slice_,
            "value": float(value),
            "status": REPORTED,
        }
        for entry in data.get("slices", [])
        for slice_, value in entry["values"].items()
    ]
    return pd.DataFrame(rows)


def side_by_side(reference: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """Reported rows and the user's runs in one wide table (benchmark columns in percent).

    A user's run fills a paper column from the same benchmark id, or else from the purpbench
    benchmark built on the same upstream source (marked with "≈" in the column's status).
    """
    order = list(dict.fromkeys(reference["benchmark"]))
    wide = reference.pivot_table(
        index=["source", "model", "status"], columns="benchmark", values="value", sort=False
    )
    wide = wide.reindex(columns=order).reset_index()
    if summary.empty:
        return wide
    whole = summary[summary["slice"].fillna("") == ""]
    metric_of = reference.drop_duplicates("benchmark").set_index("benchmark")
    run_rows = []
    for _, part in whole.groupby("run_id", sort=False):
        row: dict[str, Any] = {
            "source": "this results directory",
            "model": part["display"].iloc[0],
            "status": "run here",
        }
        approximate = False
        for benchmark in order:
            metric = metric_of.loc[benchmark, "metric"]
            close = metric_of.loc[benchmark, "close"]
            hit = part[(part["benchmark"] == benchmark) & (part["metric"] == metric)]
            if hit.empty and close:
                close_metric = _close_metric(str(close), str(metric))
                hit = part[(part["benchmark"] == close) & (part["metric"] == close_metric)]
                approximate = approximate or not hit.empty
            row[benchmark] = round(float(hit["value"].iloc[0]) * 100, 1) if len(hit) else None
        if any(row[b] is not None for b in order):
            if approximate:
                row["status"] = "run here (≈ close purpbench benchmarks)"
            run_rows.append(row)
    # the user's runs first, so they are on screen next to the reported rows below them
    return pd.concat([pd.DataFrame(run_rows), wide], ignore_index=True)


def _close_metric(close: str, metric: str) -> str:
    """XSTest's purpbench version splits safe and unsafe prompts; the paper's is the safe half."""
    if close == "xstest" and metric == "% answered":
        return "% answered (safe)"
    if close == "phtest" and metric == "% answered":
        return "% answered (harmless)"
    return metric
