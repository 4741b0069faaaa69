"""What every view gets: the results directory, its runs, and cached readers.

Caches are keyed on the directory's file signature (paths, mtimes, sizes), so a run that
finishes while the app is open shows up on the next interaction, and nothing is read twice
while the files stay the same.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from leaderboard import data

RESULTS_ENV = "PURPBENCH_RESULTS_DIR"


def results_dir(argv: Sequence[str] | None = None) -> Path:
    """`--results DIR` after streamlit's `--`, else $PURPBENCH_RESULTS_DIR, else ./results."""
    args = list(sys.argv[1:] if argv is None else argv)
    for i, arg in enumerate(args):
        if arg == "--results" and i + 1 < len(args):
            return Path(args[i + 1])
        if arg.startswith("--results="):
            return Path(arg.split("=", 1)[1])
    return Path(os.environ.get(RESULTS_ENV, "results"))


@st.cache_data(show_spinner=False, max_entries=8)
def _catalog(root: str, sig: tuple) -> data.Catalog:
    return data.discover(Path(root))


@st.cache_data(show_spinner=False, max_entries=8)
def _summary(root: str, sig: tuple, _catalog: data.Catalog) -> pd.DataFrame:
    return data.load_summary(_catalog)


@st.cache_data(show_spinner=False, max_entries=64)
def _samples(
    root: str,
    sig: tuple,
    run_ids: tuple[str, ...],
    columns: tuple[str, ...],
    where: tuple[tuple[str, Any], ...],
    limit: int | None,
    offset: int,
    _catalog: data.Catalog,
) -> pd.DataFrame:
    return data.load_samples(_catalog, run_ids, columns, dict(where), limit, offset)


@st.cache_data(show_spinner=False, max_entries=128)
def _distinct(
    root: str,
    sig: tuple,
    run_ids: tuple[str, ...],
    column: str,
    where: tuple[tuple[str, Any], ...],
    _catalog: data.Catalog,
) -> list[str]:
    return data.distinct_values(_catalog, run_ids, column, dict(where))


@st.cache_data(show_spinner=False, max_entries=128)
def _count(
    root: str,
    sig: tuple,
    run_ids: tuple[str, ...],
    where: tuple[tuple[str, Any], ...],
    _catalog: data.Catalog,
) -> int:
    return data.count_samples(_catalog, run_ids, dict(where))


@dataclass
class Context:
    root: Path
    sig: tuple
    catalog: data.Catalog

    @classmethod
    def open(cls, root: Path) -> Context:
        sig = data.signature(root)
        return cls(root, sig, _catalog(str(root), sig))

    @property
    def summary(self) -> pd.DataFrame:
        return _summary(str(self.root), self.sig, self.catalog)

    def runs(self) -> pd.DataFrame:
        """One row per readable run: run_id, model, backend, display."""
        frame = self.summary[["run_id", "model", "backend", "display"]]
        return frame.drop_duplicates("run_id").reset_index(drop=True)

    def samples(
        self,
        run_ids: Sequence[str],
        columns: Sequence[str],
        where: dict[str, Any] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> pd.DataFrame:
        key = _where_key(where)
        return _samples(
            str(self.root),
            self.sig,
            tuple(run_ids),
            tuple(columns),
            key,
            limit,
            offset,
            self.catalog,
        )

    def distinct(
        self, run_ids: Sequence[str], column: str, where: dict[str, Any] | None = None
    ) -> list[str]:
        return _distinct(
            str(self.root), self.sig, tuple(run_ids), column, _where_key(where), self.catalog
        )

    def count(self, run_ids: Sequence[str], where: dict[str, Any]) -> int:
        return _count(str(self.root), self.sig, tuple(run_ids), _where_key(where), self.catalog)


def _where_key(where: dict[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    items = []
    for key, value in sorted((where or {}).items()):
        items.append((key, tuple(value) if isinstance(value, list) else value))
    return tuple(items)
