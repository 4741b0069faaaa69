"""The Streamlit entry point: `purpbench leaderboard` runs this file.

Every view is drawn inside a guard, so a damaged results directory or a bug in one view shows
a one-line message on the page instead of a traceback, and the other views keep working.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import leaderboard  # noqa: F401  (installed with purpbench)
except ImportError:  # a source checkout that is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st

from leaderboard.context import Context, results_dir
from leaderboard.views import compare, detail, reference, samples, table, tradeoff

VIEWS = {
    "Leaderboard": table.render,
    "Safety vs utility": tradeoff.render,
    "Benchmark detail": detail.render,
    "Sample browser": samples.render,
    "Compare two runs": compare.render,
    "Published reference rows": reference.render,
}


def _skipped(ctx: Context) -> None:
    if not ctx.catalog.skipped:
        return
    with st.sidebar.expander(f"{len(ctx.catalog.skipped)} run(s) skipped", expanded=True):
        for item in ctx.catalog.skipped:
            st.text(f"{item.run_id}: {item.reason}")


def main() -> None:
    st.set_page_config(page_title="purpbench leaderboard", layout="wide")
    root = results_dir()
    st.sidebar.title("purpbench")
    st.sidebar.text(f"results: {root}")
    try:
        ctx = Context.open(root)
    except Exception as exc:
        st.error(f"Cannot read {root}: {exc}")
        return
    _skipped(ctx)
    if not root.is_dir():
        st.info(
            f"No results directory at {root}. Create a run with `purpbench run --output {root}`, "
            "or start the leaderboard with `--results DIR`."
        )
        return
    if not ctx.catalog.runs:
        st.info(
            f"No readable runs in {root}. Create one with `purpbench run --output {root}` "
            "(for example `purpbench run --benchmarks quick --limit 5`)."
        )
        return
    view = st.sidebar.radio("View", list(VIEWS), key="view")
    try:
        VIEWS[view](ctx)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        st.error(f"This view could not be drawn: {type(exc).__name__}: {first}")


main()
