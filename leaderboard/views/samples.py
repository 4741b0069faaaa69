"""View 4: browse scored samples and read one in full.

Everything a model or judge wrote is shown through st.code or st.dataframe, which display
text and never interpret it: an answer containing HTML or script stays inert characters.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from leaderboard.context import Context
from scorers.code_extract import extract_code

PAGE_SIZE = 50
ANY = "(any)"
LIST_COLUMNS = [
    "run_id",
    "sample_id",
    "sample_index",
    "label",
    "score",
    "language",
    "cwe",
    "subset",
]
FULL_COLUMNS = [
    "sample_id",
    "sample_index",
    "language",
    "cwe",
    "subset",
    "prompt",
    "response",
    "reasoning",
    "status",
    "error",
    "scorer",
    "scorer_version",
    "score",
    "scores",
    "label",
    "explanation",
    "details",
    "findings",
]
# Reasons the rule classifiers and the judge give, kept in `details`.
REASON_KEYS = (
    "refusal_rules_reason",
    "refusal_judge_reason",
    "malicious_rules_reason",
    "malicious_judge_reason",
    "judge_error",
    "decided_by",
)


def prompt_messages(prompt: str | None) -> list[tuple[str, str]]:
    """(role, text) pairs: chat prompts are stored as JSON messages, completions as text."""
    if not prompt:
        return []
    try:
        parsed = json.loads(prompt)
    except ValueError:
        return [("prompt", prompt)]
    if isinstance(parsed, list) and all(isinstance(m, dict) for m in parsed):
        return [(str(m.get("role", "?")), str(m.get("content", ""))) for m in parsed]
    return [("prompt", prompt)]


def findings_frame(findings: str | None) -> pd.DataFrame:
    try:
        parsed = json.loads(findings or "[]")
    except ValueError:
        parsed = []
    frame = pd.DataFrame(parsed if isinstance(parsed, list) else [])
    if frame.empty:
        return frame
    if "cwe" in frame:
        frame["cwe"] = frame["cwe"].map(lambda c: ", ".join(c) if isinstance(c, list) else c)
    keep = [
        c
        for c in (
            "analyzer",
            "rule",
            "cwe",
            "severity",
            "turn",
            "block",
            "line",
            "end_line",
            "message",
        )
        if c in frame
    ]
    return frame[keep]


def flagged_lines(code: str, findings: pd.DataFrame, turn: int, block: int) -> pd.DataFrame:
    """Every line of one code block with a marker column for lines a finding covers."""
    lines = code.splitlines()
    marks: dict[int, list[str]] = {}
    if not findings.empty and {"turn", "block", "line"} <= set(findings.columns):
        mine = findings[(findings["turn"] == turn) & (findings["block"] == block)]
        for row in mine.itertuples(index=False):
            end = int(getattr(row, "end_line", row.line) or row.line)
            for number in range(int(row.line), end + 1):
                marks.setdefault(number, []).append(str(row.rule))
    return pd.DataFrame(
        {
            "line": range(1, len(lines) + 1),
            "flag": ["⚠" if n in marks else "" for n in range(1, len(lines) + 1)],
            "code": lines,
            "rules": [", ".join(marks.get(n, [])) for n in range(1, len(lines) + 1)],
        }
    )


def _select(label: str, options: list[str], key: str) -> str | None:
    choice = st.selectbox(label, [ANY, *options], key=key)
    return None if choice == ANY else choice


def render(ctx: Context) -> None:
    st.header("Sample browser")
    runs = ctx.runs()
    names = dict(zip(runs["display"], runs["run_id"]))
    top = st.columns(2)
    display = top[0].selectbox("Run", list(names), key="samples_run")
    run_id = names[display]
    benchmark = top[1].selectbox(
        "Benchmark", ctx.distinct([run_id], "benchmark"), key="samples_benchmark"
    )
    scope = {"run_id": run_id, "benchmark": benchmark}
    cols = st.columns(3)
    with cols[0]:
        label = _select("Label", ctx.distinct([run_id], "label", scope), "samples_label")
    with cols[1]:
        cwe = _select("CWE", ctx.distinct([run_id], "cwe", scope), "samples_cwe")
    with cols[2]:
        language = _select("Language", ctx.distinct([run_id], "language", scope), "samples_lang")
    where = {**scope, "label": label, "cwe": cwe, "language": language}
    total = ctx.count([run_id], where)
    st.caption(f"{total} matching sample rows")
    if total == 0:
        st.info("No sample matches these filters.")
        return
    pages = (total - 1) // PAGE_SIZE + 1
    page = (
        st.number_input("Page", min_value=1, max_value=pages, value=1, step=1) if pages > 1 else 1
    )
    listing = ctx.samples([run_id], LIST_COLUMNS, where, PAGE_SIZE, (int(page) - 1) * PAGE_SIZE)
    st.dataframe(listing.drop(columns=["run_id"]), hide_index=True, key="samples_list")
    keys = [f"{sid} #{idx}" for sid, idx in zip(listing["sample_id"], listing["sample_index"])]
    chosen = st.selectbox("Open sample", keys, key="samples_open")
    row = listing.iloc[keys.index(chosen)]
    full = ctx.samples(
        [run_id],
        FULL_COLUMNS,
        {**scope, "sample_id": row["sample_id"], "sample_index": int(row["sample_index"])},
    )
    if full.empty:
        st.warning("That sample is no longer in the results directory.")
        return
    show_sample(full.iloc[0].to_dict())


def show_sample(sample: dict[str, Any]) -> None:
    meta = {k: sample.get(k) for k in ("label", "score", "status", "language", "cwe", "subset")}
    st.dataframe(pd.DataFrame([meta]), hide_index=True, key="sample_meta")
    st.subheader("Prompt")
    for role, text in prompt_messages(sample.get("prompt")):
        st.text(role)
        st.code(text, language="text", wrap_lines=True)
    st.subheader("Response")
    response = sample.get("response") or ""
    st.code(response, language="text", line_numbers=True, wrap_lines=True)
    findings = findings_frame(sample.get("findings"))
    _code_blocks(response, sample.get("language"), findings)
    st.subheader("Reasoning")
    if sample.get("reasoning"):
        st.code(sample["reasoning"], language="text", wrap_lines=True)
    else:
        st.caption("no reasoning in this answer")
    st.subheader("Findings")
    if findings.empty:
        st.caption("no analyzer findings")
    else:
        st.dataframe(findings, hide_index=True, key="sample_findings")
    st.subheader("Verdict and explanation")
    st.code(str(sample.get("explanation") or ""), language="text", wrap_lines=True)
    if sample.get("error"):
        st.code(str(sample["error"]), language="text", wrap_lines=True)
    try:
        details = json.loads(sample.get("details") or "{}")
    except ValueError:
        details = {}
    reasons = [(k, str(details[k])) for k in REASON_KEYS if details.get(k) is not None]
    if reasons:
        st.dataframe(pd.DataFrame(reasons, columns=["source", "says"]), hide_index=True)
    with st.expander("All details (JSON)"):
        st.json(details)


def _code_blocks(response: str, language: str | None, findings: pd.DataFrame) -> None:
    """Each code block with its line numbers, flagged lines marked in their own column."""
    units = extract_code(response, hint=language, unfenced="if-code")
    for unit in units:
        table = flagged_lines(unit.code, findings, unit.turn, unit.block)
        flagged = table[table["flag"] != ""]["line"].tolist()
        note = f"flagged lines: {', '.join(map(str, flagged))}" if flagged else "no flagged line"
        st.text(f"Code block {unit.block + 1} ({unit.language}): {note}")
        st.code(unit.code, language=_lexer(unit.language), line_numbers=True)
        if flagged:
            st.dataframe(table[table["flag"] != ""], hide_index=True, key=f"flags_{unit.block}")


def _lexer(language: str) -> str:
    return {"csharp": "csharp", "cpp": "cpp", "unknown": "text"}.get(language, language)
