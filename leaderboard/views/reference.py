"""View 6: the PurpCode paper's reported numbers beside this directory's runs."""

from __future__ import annotations

import streamlit as st

from leaderboard.context import Context
from leaderboard.reference import REPORTED, load_reference, reference_rows, side_by_side


def render(ctx: Context) -> None:
    st.header("Published reference rows")
    data = load_reference()
    source = data["source"]
    st.warning(
        f"Rows marked '{REPORTED}' are copied from {source['paper']} "
        f"(arXiv:{source['arxiv']}); each cites its table. purpbench did not produce them."
    )
    reference = reference_rows(data)
    tables = list(dict.fromkeys(reference["source"]))
    chosen = st.multiselect("Paper tables", tables, default=tables)
    reference = reference[reference["source"].isin(chosen)]
    wide = side_by_side(reference, ctx.summary)
    height = min(38 * (len(wide) + 1), 1200)  # every row on screen without scrolling
    st.dataframe(wide, hide_index=True, height=height, key="reference_table")
    st.caption(
        "Columns are purpbench benchmark ids. A run that used the close purpbench benchmark "
        "instead (e.g. cse-instruct for purpcode/CyberSecEval-SCG) fills the column and is "
        "marked '≈': the sample sets differ, so compare with care."
    )
    with st.expander("Benchmark and metric mapping"):
        mapping = reference.drop_duplicates("benchmark")[
            ["benchmark", "paper_benchmark", "paper_metric", "metric", "close"]
        ]
        st.dataframe(mapping, hide_index=True)
