"""View 3: one benchmark in depth: per-language / per-CWE / per-subset results, how the
static analyzers agree with each other, and how the refusal rules agree with the judge."""

from __future__ import annotations

import json
from itertools import combinations

import pandas as pd
import streamlit as st

from harness.core.agreement import cohen_kappa
from harness.core.metrics import parse_definition
from leaderboard.context import Context
from leaderboard.reference import REPORTED, reference_slices
from leaderboard.scores import (
    deciding_oracles,
    fidelity_of,
    format_ci,
    format_n,
    headline_name,
    headline_rows,
    judge_identity,
    roles,
)

DIMENSIONS = {"language": "per language", "cwe": "per CWE", "subset": "per subset"}
# Label pairs kept in a row's `details` by the rule classifier and the judge.
JUDGE_PAIRS = (
    ("refusal_rules", "refusal_judge"),
    ("malicious_rules", "malicious_judge"),
    ("refused_rules", "refused_judge"),
)


def slice_rows(summary: pd.DataFrame, benchmark: str) -> pd.DataFrame:
    """The benchmark's breakdown rows, with `slice` split into dimension and group."""
    part = summary[(summary["benchmark"] == benchmark) & (summary["slice"].fillna("") != "")]
    if part.empty:
        return part.assign(dimension=pd.Series(dtype=str), group=pd.Series(dtype=str))
    split = part["slice"].str.split("=", n=1, expand=True)
    return part.assign(dimension=split[0], group=split[1])


def analyzer_agreement(scores: pd.Series) -> pd.DataFrame:
    """Pairwise agreement of analyzers' secure/insecure votes on the rows both analysed."""
    votes = pd.DataFrame(
        [
            {
                k.split(":", 1)[1]: v
                for k, v in json.loads(s or "{}").items()
                if k.startswith("secure:")
            }
            for s in scores
        ]
    )
    rows = []
    for first, second in combinations(sorted(votes.columns), 2):
        both = votes[[first, second]].dropna()
        if both.empty:
            continue
        a, b = list(both[first]), list(both[second])
        rows.append(
            {
                "analyzers": f"{first} vs {second}",
                "n": len(both),
                "agreement %": round(100 * sum(x == y for x, y in zip(a, b)) / len(a), 1),
                "Cohen's κ": round(cohen_kappa(a, b), 3),
            }
        )
    return pd.DataFrame(rows)


def judge_confusion(details: pd.Series) -> pd.DataFrame:
    """Counts of (rule label, judge label) on the rows that carry both."""
    rows = []
    for text in details:
        parsed = json.loads(text or "{}")
        for rules_key, judge_key in JUDGE_PAIRS:
            if parsed.get(rules_key) is not None and parsed.get(judge_key) is not None:
                rows.append(
                    {
                        "labels": rules_key.rsplit("_", 1)[0],
                        "rules": str(parsed[rules_key]),
                        "judge": str(parsed[judge_key]),
                    }
                )
    frame = pd.DataFrame(rows, columns=["labels", "rules", "judge"])
    if frame.empty:
        return frame
    return frame.value_counts().rename("rows").reset_index()


def kappa_table(kappa: pd.DataFrame) -> pd.DataFrame:
    """Rules-vs-judge κ per run as "0.62 [0.40, 0.80]" (the leaderboard's interval format,
    on κ's own scale), with n in its own column."""
    return pd.DataFrame(
        {
            "run": kappa["display"],
            "κ [95% CI]": [
                format_ci(v, lo, hi, decimals=2)
                for v, lo, hi in zip(kappa["value"], kappa["ci_low"], kappa["ci_high"])
            ],
            "n": [format_n(n) for n in kappa["n"]],
        }
    )


def analyzer_rows(summary: pd.DataFrame, benchmark: str) -> pd.DataFrame:
    """The benchmark's whole-benchmark per-analyzer rows: those whose stored definition reads a
    `secure:<analyzer>` value. A schema-2 row recorded no definition; its name, `% secure
    (<analyzer>)` in schema 2, is then all there is to go by."""
    whole = summary[(summary["benchmark"] == benchmark) & (summary["slice"].fillna("") == "")]

    def per_analyzer(metric: str, text: str | None) -> bool:
        definition = parse_definition(text)
        if int(definition.get("v") or 0) >= 1:
            return str(definition.get("key") or "").startswith("secure:")
        return metric.startswith("% secure (")

    mask = [per_analyzer(str(m), d) for m, d in zip(whole["metric"], whole["definition"])]
    return whole[mask]


def _between_oracles(text: str | None) -> bool:
    """A κ between two security oracles: it compares `vulnerable:<oracle>` labels."""
    labels = parse_definition(text).get("kappa") or []
    return bool(labels) and all(str(label).startswith("vulnerable:") for label in labels)


def agreement_rows(summary: pd.DataFrame, benchmark: str, oracles: bool = False) -> pd.DataFrame:
    """The benchmark's whole-benchmark κ rows (role `agreement` in their stored definition):
    between its security oracles when `oracles`, else between the rules and the judge."""
    whole = summary[(summary["benchmark"] == benchmark) & (summary["slice"].fillna("") == "")]
    whole = whole[roles(whole) == "agreement"]
    mask = [_between_oracles(text) == oracles for text in whole["definition"]]
    return whole[mask]


def fidelity_table(summary: pd.DataFrame, benchmark: str) -> pd.DataFrame:
    """Per run: whether the benchmark's headline is reference-faithful, the reference it
    claims, the oracle that decided it, why it is approximate, and, for a judged number, the
    judge and its prompt (sha256) as the scorer identity records them."""
    heads = headline_rows(summary[summary["benchmark"] == benchmark])
    versions = heads["scorer_version"] if "scorer_version" in heads else [None] * len(heads)
    rows = []
    for (_, head), version in zip(heads.iterrows(), versions):
        fidelity = fidelity_of(head.get("definition"))
        judge = judge_identity(head.get("scorer"), version)
        rows.append(
            {
                "run": head["display"],
                "fidelity": "not recorded"
                if fidelity is None
                else ("≈ approximate" if fidelity.approximate else "reference"),
                "reference claimed": fidelity.reference if fidelity else "",
                "oracle used": fidelity.oracle if fidelity else str(head.get("scorer") or ""),
                "why approximate": fidelity.reason if fidelity else "",
                "judge": "" if judge is None else (judge.judge or "rules (no judge)"),
                "judge prompt": "" if judge is None or judge.prompt is None else judge.prompt,
                "prompt sha256": ""
                if judge is None or judge.prompt_sha is None
                else judge.prompt_sha,
            }
        )
    return pd.DataFrame(rows)


def _bars(part: pd.DataFrame, dimension: str):
    import plotly.express as px

    frame = part[part["dimension"] == dimension].copy()
    frame["value %"] = frame["value"] * 100
    frame["plus"] = (frame["ci_high"] - frame["value"]) * 100
    frame["minus"] = (frame["value"] - frame["ci_low"]) * 100
    return px.bar(
        frame,
        x="group",
        y="value %",
        color="display",
        barmode="group",
        error_y="plus",
        error_y_minus="minus",
        hover_data=["n"],
        labels={"group": dimension, "display": "run"},
    )


def render(ctx: Context) -> None:
    st.header("Benchmark detail")
    summary = ctx.summary
    benchmarks = sorted(summary["benchmark"].unique())
    benchmark = st.selectbox("Benchmark", benchmarks)
    metric = headline_name(summary, benchmark) or "headline"
    part = slice_rows(summary, benchmark)
    st.subheader(f"Breakdown of {metric}")
    if part.empty:
        st.info(f"{benchmark} has no per-language, per-CWE or per-subset breakdown.")
    for dimension, title in DIMENSIONS.items():
        if (part["dimension"] == dimension).any():
            st.markdown(f"**{title}**")
            st.plotly_chart(_bars(part, dimension), key=f"bars_{dimension}")
    cwe = part[part["dimension"] == "cwe"]
    if not cwe.empty:
        import plotly.express as px

        run = st.selectbox("Run for the CWE treemap", sorted(cwe["display"].unique()))
        tree = cwe[cwe["display"] == run].assign(value_pct=lambda f: f["value"] * 100)
        fig = px.treemap(
            tree,
            path=["group"],
            values="n",
            color="value_pct",
            color_continuous_scale="RdYlGn",
            range_color=[0, 100],
            labels={"value_pct": f"{metric} %", "group": "CWE"},
        )
        st.plotly_chart(fig, key="cwe_treemap")
    if benchmark in ("cse-instruct", "purpcode/CyberSecEval-SCG"):
        st.markdown(f"**PurpCode paper, per language ({REPORTED})**")
        st.dataframe(reference_slices(), hide_index=True)

    st.subheader("Oracle agreement")
    per_analyzer = analyzer_rows(summary, benchmark)
    if per_analyzer.empty:
        st.info("No security-oracle metrics for this benchmark.")
    else:
        st.caption(
            f"{metric} is decided by "
            f"{' / '.join(deciding_oracles(summary).get(benchmark, ['?']))}. "
            "Each oracle's verdicts on the same answers: icd (CyberSecEval's Insecure Code "
            "Detector), static (the project's rule pack with bandit, and CodeQL when installed, "
            "combined) and its analyzers one by one."
        )
        wide = per_analyzer.pivot_table(index="display", columns="metric", values="value") * 100
        st.dataframe(wide.round(1))
        run_ids = list(per_analyzer["run_id"].unique())
        scores = ctx.samples(run_ids, ["scores"], {"benchmark": benchmark})
        pairs = analyzer_agreement(scores["scores"])
        if pairs.empty:
            st.info(
                "Only one analyzer voted on these samples; agreement needs two "
                "(`--analyzers semgrep,bandit`, or CodeQL on PATH)."
            )
        else:
            st.dataframe(pairs, hide_index=True)
        oracle_kappa = agreement_rows(summary, benchmark, oracles=True)
        if not oracle_kappa.empty:  # the summary's κ, with its bootstrap interval
            st.dataframe(
                kappa_table(oracle_kappa).assign(pair=list(oracle_kappa["metric"])),
                hide_index=True,
            )

    st.subheader("How the headline is computed")
    st.caption(
        "reference: the reference's own oracle and protocol; ≈ approximate: another oracle "
        "(the reason says which and why). Judged numbers name their judge and prompt."
    )
    st.dataframe(fidelity_table(summary, benchmark), hide_index=True)

    st.subheader("Refusal classifier vs judge")
    kappa = agreement_rows(summary, benchmark)
    if kappa.empty:
        st.info(
            "No judge labels in these runs: the rules decided alone. Re-score with "
            "`--judge-model` to see rules-vs-judge agreement."
        )
        return
    st.dataframe(kappa_table(kappa), hide_index=True)
    details = ctx.samples(list(kappa["run_id"].unique()), ["details"], {"benchmark": benchmark})
    st.dataframe(judge_confusion(details["details"]), hide_index=True)
