"""View 1: runs × benchmarks, grouped by family, each cell a value with its 95% CI, n beside it.

The table is plain HTML rather than st.dataframe: the canvas grid cannot wrap text or group
headers, so ten columns of "72.4 [65.1, 79.0]" scrolled sideways in a 1400-px window. Here the
family and benchmark headers span their columns, an interval may drop under its value, and
the table fits the page; the sort and column widgets above it replace the grid's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from itertools import groupby

import pandas as pd
import streamlit as st

from leaderboard.context import Context
from leaderboard.data import FAMILIES, FAMILY_TITLES
from leaderboard.scores import (
    deciding_oracles,
    display_table,
    fidelity_notes,
    headline_rows,
    judged_columns,
    leaderboard_table,
)

RUN_INFO = ["model", "backend", "run_id"]
TABLE_CLASS = "pb-leaderboard"
# Scoped to the table; colours are translucent greys so light and dark themes both work.
STYLE = f"""<style>
.{TABLE_CLASS} {{ max-width: 100%; overflow-x: auto; }}
.{TABLE_CLASS} table {{ border-collapse: collapse; width: 100%; font-size: 0.875rem;
  font-variant-numeric: tabular-nums; }}
.{TABLE_CLASS} th, .{TABLE_CLASS} td {{ border: 1px solid rgba(128, 128, 128, 0.3);
  padding: 0.25rem 0.5rem; vertical-align: top; }}
.{TABLE_CLASS} th {{ font-weight: 600; text-align: center; vertical-align: bottom;
  background: rgba(128, 128, 128, 0.08); overflow-wrap: anywhere; }}
.{TABLE_CLASS} th.info, .{TABLE_CLASS} td.info {{ text-align: left; }}
.{TABLE_CLASS} td.value, .{TABLE_CLASS} td.n {{ text-align: right; }}
.{TABLE_CLASS} td.n, .{TABLE_CLASS} th.n {{ opacity: 0.75; }}
.{TABLE_CLASS} .ci {{ display: inline-block; white-space: nowrap; opacity: 0.75; }}
.{TABLE_CLASS} .part {{ white-space: nowrap; }}
</style>"""


def filter_heads(
    heads: pd.DataFrame,
    families: list[str],
    benchmarks: list[str],
    backends: list[str],
    search: str,
) -> pd.DataFrame:
    keep = (
        heads["family"].isin(families)
        & heads["benchmark"].isin(benchmarks)
        & heads["backend"].isin(backends)
    )
    if search.strip():
        keep &= heads["model"].str.contains(search.strip(), case=False, regex=False)
    return heads[keep]


def _kind(column: tuple[str, ...]) -> str:
    """CSS class of a column: run information, a benchmark's value, or its n."""
    if all(label == "" for label in column[1:]):
        return "info"
    return "n" if column[-1] == "n" else "value"


def _cell(text: str, kind: str) -> str:
    """Escaped cell text, in spans that only wrap between them: a narrow column shows a value
    above its interval rather than breaking "[65.1, 79.0]", and a run name breaks at its
    " · " rather than at a hyphen inside the model name. The text itself is unchanged."""
    if kind == "value" and " [" in text:
        value, interval = text.split(" [", 1)
        return f'{escape(value)} <span class="ci">[{escape(interval)}</span>'
    if kind == "info":
        *parts, last = [escape(p) for p in text.split(" · ")]
        return (
            "".join(f'<span class="part">{p} ·</span> ' for p in parts)
            + f'<span class="part">{last}</span>'
        )
    return escape(text)


def table_html(frame: pd.DataFrame) -> str:
    """`frame` (text cells, MultiIndex header) as an HTML table; equal neighbouring header
    labels merge (colspan) and run columns span the header rows (rowspan). Every text is
    escaped: model names come from run.json and may hold markup."""
    columns = [tuple(str(x) for x in c) for c in frame.columns]
    levels = len(columns[0])
    head = []
    for level in range(levels):
        cells = []
        for key, group in groupby(columns, key=lambda c: c[: level + 1]):
            members = list(group)
            if level and key[-1] == "":
                continue  # under a run column's header, which spans every header row
            kind = _kind(members[0])
            rows = levels - level if all(x == "" for x in members[0][level + 1 :]) else 1
            cells.append(
                f'<th class="{kind}" colspan="{len(members)}" rowspan="{rows}" scope="col">'
                f"{escape(key[-1])}</th>"
            )
        head.append(f"<tr>{''.join(cells)}</tr>")
    kinds = [_kind(c) for c in columns]
    body = [
        "<tr>"
        + "".join(f'<td class="{k}">{_cell(str(t), k)}</td>' for t, k in zip(row, kinds))
        + "</tr>"
        for row in frame.itertuples(index=False)
    ]
    return (
        f'<div class="{TABLE_CLASS}" data-testid="pb-leaderboard-table">{STYLE}<table>'
        f"<thead>{''.join(head)}</thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def render(ctx: Context) -> None:
    st.header("Leaderboard")
    st.caption(
        "Headline metric of each benchmark, in %: value [95% bootstrap CI], and n (tasks in "
        "the denominator, errors counted as failures). Columns are grouped by family; ≈ marks "
        "a number computed another way than the reference it claims (reasons below)."
    )
    heads = headline_rows(ctx.summary)
    if heads.empty:
        st.info("The runs here have no summary rows yet.")
        return
    present = [f for f in FAMILIES if f in set(heads["family"])] + sorted(
        set(heads["family"]) - set(FAMILIES)
    )
    left, mid, right = st.columns(3)
    families = left.multiselect(
        "Family", present, default=present, format_func=lambda f: FAMILY_TITLES.get(f, f)
    )
    bench_options = sorted(heads[heads["family"].isin(families)]["benchmark"].unique())
    benchmarks = mid.multiselect("Benchmark", bench_options, default=bench_options)
    backend_options = sorted(heads["backend"].unique())
    backends = right.multiselect("Backend", backend_options, default=backend_options)
    search = st.text_input("Model name contains", "")
    shown = filter_heads(heads, families, benchmarks, backends, search)
    if shown.empty:
        st.info("No run matches these filters.")
        return
    table, headlines = leaderboard_table(shown)
    value_columns = [h.label for h in headlines]
    pick_left, pick_right = st.columns([3, 1])
    # The backend is already in each run's name, so by default only the benchmarks are shown.
    picked = pick_left.multiselect("Columns", RUN_INFO + value_columns, default=value_columns)
    show_ci = pick_right.toggle("CI and n", value=True)
    sort_left, sort_right = st.columns([3, 1])
    sort_options = ["model", *[c for c in value_columns if c in picked]]
    sort_by = sort_left.selectbox("Sort by", sort_options, index=min(1, len(sort_options) - 1))
    descending = sort_right.toggle("Descending", value=True)
    table = table.sort_values(sort_by, ascending=not descending, na_position="last")
    columns = ["display", *picked]
    st.html(table_html(display_table(table, headlines, columns, show_ci)))
    _caption(
        "Security columns decided by: ",
        deciding_oracles(shown),
        " (every oracle's rate and their agreement: Benchmark detail).",
    )
    _caption(
        "≈ approximate, not computed the way the reference it claims computes it: ",
        fidelity_notes(shown),
        " (the reference and the oracle used: Benchmark detail).",
    )
    _caption("Judged columns: ", judged_columns(shown), ".")
    numeric = [
        c for c in table.columns if c in columns or (show_ci and c.rsplit(" · ", 1)[0] in picked)
    ]
    st.download_button(
        "Download CSV",
        table[numeric].rename(columns={"display": "run"}).to_csv(index=False).encode("utf-8"),
        file_name="purpbench-leaderboard.csv",
        mime="text/csv",
    )


def _caption(lead: str, by_benchmark: Mapping[str, Sequence[str]], tail: str) -> None:
    """One caption line under the table: per benchmark, what it says of that column."""
    if by_benchmark:
        parts = "; ".join(f"{b}: {' / '.join(said)}" for b, said in by_benchmark.items())
        st.caption(lead + parts + tail)
