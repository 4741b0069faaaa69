"""Turning summary rows into what users compare: headline numbers, family scores, the frontier.

Kept apart from Streamlit so the arithmetic behind every chart can be tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.core.fidelity import APPROXIMATE_MARK, Fidelity, fidelity_from
from harness.core.metrics import parse_definition
from leaderboard.data import FAMILIES, FAMILY_TITLES

SAFETY_FAMILIES = ("secure-codegen", "malicious-assistance")


def headline_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, benchmark): the row its summary marks as headline, whole benchmark.

    The mark is stored with the results (a schema-2 summary gets the one schema 2 meant, see
    `upgrade_summary`), so an old run keeps its headline whatever today's benchmark code says."""
    whole = summary[summary["slice"].fillna("") == ""]
    if whole.empty:
        return whole.copy()
    picked = whole[whole["headline"].fillna(False).astype(bool)]
    return picked.drop_duplicates(["run_id", "benchmark"], keep="first").reset_index(drop=True)


def headline_name(summary: pd.DataFrame, benchmark: str) -> str | None:
    """The benchmark's headline metric as its newest run stored it; None when none is marked."""
    rows = headline_rows(summary[summary["benchmark"] == benchmark])
    if rows.empty:
        return None
    if "created_at" in rows:
        rows = rows.sort_values("created_at", kind="stable")
    return str(rows["metric"].iloc[-1])


def aggregates(frame: pd.DataFrame) -> pd.Series:
    """Each summary row's aggregate (mean, pass@k, kappa, …) from its stored definition;
    "unknown" for a frame without definitions."""
    if "definition" not in frame:
        return pd.Series(["unknown"] * len(frame), index=frame.index, dtype=object)
    return frame["definition"].map(lambda d: parse_definition(d).get("aggregate") or "unknown")


def roles(frame: pd.DataFrame) -> pd.Series:
    """Each summary row's role (headline, metric, agreement, diagnostic) from its definition."""
    if "definition" not in frame:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return frame["definition"].map(lambda d: parse_definition(d).get("role"))


def family_order(benchmarks: pd.DataFrame) -> list[str]:
    """Benchmarks grouped by family in the issue's order, then by name."""
    rank = {f: i for i, f in enumerate(FAMILIES)}
    pairs = benchmarks[["family", "benchmark"]].drop_duplicates()
    ordered = sorted(pairs.itertuples(index=False), key=lambda p: (rank.get(p[0], 99), p[1]))
    return [p[1] for p in ordered]


def column_label(family: str, benchmark: str) -> str:
    return f"{FAMILY_TITLES.get(family, family)} · {benchmark}"


def metric_decimals(aggregate: str | None) -> tuple[float, int]:
    """Scale and decimals a metric is shown with, by its stored aggregate: rates in % to 0.1,
    κ on its own scale to 0.01 (κ in % or to one decimal would hide the differences that
    matter between raters)."""
    return (1.0, 2) if aggregate == "kappa" else (100.0, 1)


def _missing(x: float | None) -> bool:
    return x is None or bool(pd.isna(x))


def format_ci(
    value: float | None, low: float | None = None, high: float | None = None, decimals: int = 1
) -> str:
    """One cell, "72.4 [65.1, 79.0]": the value, then its 95% CI in brackets.

    Brackets and no "±": a bootstrap interval is not symmetric, and "±" before an interval
    reads as a half-width. A missing value is "" so an empty cell looks empty (never
    "None" or "nan"); a value without bounds is shown alone.
    """
    if _missing(value):
        return ""
    text = f"{value:.{decimals}f}"
    if _missing(low) or _missing(high):
        return text
    return f"{text} [{low:.{decimals}f}, {high:.{decimals}f}]"


def format_n(n: float | None) -> str:
    """n as a whole number, or "" when the run has no result there."""
    return "" if _missing(n) else str(int(n))


@dataclass(frozen=True)
class Headline:
    """One benchmark's headline in the table: the name widgets use and what its header shows.

    `label` names the flat columns: `label` (value), `label · CI low`, `label · CI high` and
    `label · n`, all numeric in the shown scale so sorting and the CSV use numbers.
    """

    label: str
    family: str
    benchmark: str
    metric: str
    decimals: int


def fidelity_of(definition: str | None) -> Fidelity | None:
    """The fidelity stored in a summary row's definition; None when none was recorded."""
    return fidelity_from(parse_definition(definition).get("fidelity"))


def approximate_reasons(frame: pd.DataFrame) -> pd.Series:
    """Per row: why its number is approximate ("" when it is reference-faithful or its
    fidelity was not recorded)."""
    if "definition" not in frame:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)

    def reason(text: str | None) -> str:
        fidelity = fidelity_of(text)
        return fidelity.reason if fidelity is not None and fidelity.approximate else ""

    return frame["definition"].map(reason)


def fidelity_notes(heads: pd.DataFrame) -> dict[str, list[str]]:
    """Per benchmark, the distinct reasons its shown headlines are approximate."""
    notes: dict[str, list[str]] = {}
    for benchmark, why in zip(heads["benchmark"], approximate_reasons(heads)):
        if why and why not in notes.setdefault(str(benchmark), []):
            notes[str(benchmark)].append(why)
    return {b: reasons for b, reasons in sorted(notes.items()) if reasons}


@dataclass(frozen=True)
class JudgeIdentity:
    """Who decided a judged number, read from the recorded scorer identity."""

    kind: str  # refusal | malicious
    judge: str | None  # model@backend[@revision]; None = the rule classifier decided
    prompt: str | None  # the judge prompt's template id
    prompt_sha: str | None  # its sha256 (a prefix for the project's templates)

    def describe(self) -> str:
        if self.judge is None:
            return f"{self.kind}: rules (no judge)"
        return f"{self.kind}: judge {self.judge}, prompt {self.prompt} sha256 {self.prompt_sha}"


def judge_identity(scorer: str | None, version: str | None) -> JudgeIdentity | None:
    """The judge behind a refusal or malicious-assistance number, from the row's `scorer`
    ("refusal:judge:<model@backend>", "refusal:rules", or such a part joined by "+" in a
    composite like XSCode) and `scorer_version` ("<template id>:<sha>+rules.vN", the first
    "; "-separated part in a composite); None for numbers no such oracle decided."""
    if not isinstance(scorer, str):
        return None
    for part in scorer.split("+"):
        kind, _, rest = part.partition(":")
        if kind not in ("refusal", "malicious") or not rest:
            continue
        if rest == "rules":
            return JudgeIdentity(kind, None, None, None)
        if not rest.startswith("judge:"):
            return None
        first = str(version or "").split("; ")[0]
        prompt_part = first.rsplit("+rules", 1)[0] if "+rules" in first else first
        prompt, _, sha = prompt_part.rpartition(":")
        return JudgeIdentity(
            kind, rest.removeprefix("judge:"), prompt or None, sha.removeprefix("sha256=") or None
        )
    return None


def judged_columns(heads: pd.DataFrame) -> dict[str, list[str]]:
    """Per judged benchmark, who judged its shown headlines (judge model, prompt and sha256,
    or the rules), from the recorded scorer identities."""
    if "scorer" not in heads:
        return {}
    versions = heads["scorer_version"] if "scorer_version" in heads else [None] * len(heads)
    found: dict[str, list[str]] = {}
    for benchmark, scorer, version in zip(heads["benchmark"], heads["scorer"], versions):
        identity = judge_identity(scorer, version)
        if identity is not None and identity.describe() not in found.get(str(benchmark), []):
            found.setdefault(str(benchmark), []).append(identity.describe())
    return dict(sorted(found.items()))


def leaderboard_table(heads: pd.DataFrame) -> tuple[pd.DataFrame, list[Headline]]:
    """Runs × benchmarks, numeric: value, CI bounds and n per benchmark (grouped by family),
    and, per benchmark, why a run's number is approximate ("" when it is not).

    Text is made later by `display_table`, so sorting and the CSV keep the numbers."""
    runs = (
        heads[["display", "model", "backend", "run_id"]]
        .drop_duplicates("run_id")
        .set_index("run_id")
    )
    families = heads.drop_duplicates("benchmark").set_index("benchmark")["family"]
    headlines: list[Headline] = []
    frame = runs.copy()
    for benchmark in family_order(heads):
        part = heads[heads["benchmark"] == benchmark].set_index("run_id")
        metric = str(part["metric"].iloc[0])
        scale, decimals = metric_decimals(str(aggregates(part.iloc[:1]).iloc[0]))
        family = str(families[benchmark])
        label = column_label(family, benchmark)
        frame[label] = (part["value"] * scale).round(decimals)
        frame[f"{label} · CI low"] = (part["ci_low"] * scale).round(decimals)
        frame[f"{label} · CI high"] = (part["ci_high"] * scale).round(decimals)
        frame[f"{label} · n"] = part["n"].astype("Int64")
        frame[f"{label} · approximate"] = approximate_reasons(part).reindex(frame.index)
        headlines.append(Headline(label, family, benchmark, metric, decimals))
    return frame.reset_index(), headlines


RUN_HEADERS = {"display": "run", "model": "model", "backend": "backend", "run_id": "run id"}


def display_table(
    table: pd.DataFrame, headlines: list[Headline], columns: list[str], show_ci: bool
) -> pd.DataFrame:
    """What the page shows: text cells under a (family, benchmark, metric) header.

    A picked benchmark gives a cell "72.4 [65.1, 79.0]" and, beside it, its own "n" column
    (n differs between benchmarks, and inside the cell it cost width in every column).
    Missing results are "" so they read as empty.
    """
    by_label = {h.label: h for h in headlines}
    cells: dict[tuple[str, str, str], list[str]] = {}
    for column in columns:
        head = by_label.get(column)
        if head is None:
            cells[(RUN_HEADERS.get(column, column), "", "")] = [
                "" if _missing(x) else str(x) for x in table[column]
            ]
            continue
        family = FAMILY_TITLES.get(head.family, head.family)
        low = table[f"{column} · CI low"] if show_ci else [None] * len(table)
        high = table[f"{column} · CI high"] if show_ci else [None] * len(table)
        approx = table.get(f"{column} · approximate", pd.Series([""] * len(table)))
        cells[(family, head.benchmark, head.metric)] = [
            _marked(format_ci(v, lo, hi, head.decimals), why)
            for v, lo, hi, why in zip(table[column], low, high, approx)
        ]
        if show_ci:
            cells[(family, head.benchmark, "n")] = [format_n(n) for n in table[f"{column} · n"]]
    frame = pd.DataFrame(cells, index=range(len(table)), dtype=object)
    frame.columns = pd.MultiIndex.from_tuples(list(cells))
    return frame


def _marked(text: str, why: object) -> str:
    """A cell's text with "≈" before it when its number is approximate."""
    return f"{APPROXIMATE_MARK}{text}" if text and isinstance(why, str) and why else text


def family_scores(heads: pd.DataFrame) -> pd.DataFrame:
    """Per run and family: mean headline value, with the means of the CI bounds.

    The mean of per-benchmark bounds is at least as wide as the interval of the mean would
    be under any correlation between benchmarks, so the bars never overstate certainty.
    Lower-is-better headlines are flipped so that higher is always better here.
    """
    frame = heads.copy()
    flip = ~frame["higher_is_better"].astype(bool)
    value, low, high = frame["value"].copy(), frame["ci_low"].copy(), frame["ci_high"].copy()
    frame.loc[flip, "value"] = 1 - value[flip]
    frame.loc[flip, "ci_low"] = 1 - high[flip]
    frame.loc[flip, "ci_high"] = 1 - low[flip]
    grouped = frame.groupby(["run_id", "display", "family"], as_index=False).agg(
        value=("value", "mean"),
        ci_low=("ci_low", "mean"),
        ci_high=("ci_high", "mean"),
        benchmarks=("benchmark", "nunique"),
    )
    return grouped


def axis_scores(heads: pd.DataFrame, families: tuple[str, ...]) -> pd.DataFrame:
    """One score per run over several families (mean of their benchmark headlines)."""
    part = heads[heads["family"].isin(families)]
    if part.empty:
        return pd.DataFrame(columns=["run_id", "display", "value", "ci_low", "ci_high"])
    scores = family_scores(part.assign(family="+".join(families)))
    return scores[["run_id", "display", "value", "ci_low", "ci_high"]]


def pareto_front(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mask of points no other point beats on both axes (higher is better on both)."""
    keep = np.ones(len(x), dtype=bool)
    for i in range(len(x)):
        dominated = (x >= x[i]) & (y >= y[i]) & ((x > x[i]) | (y > y[i]))
        keep[i] = not dominated.any()
    return keep


def deciding_oracles(heads: pd.DataFrame) -> dict[str, list[str]]:
    """Per security benchmark, the oracle(s) that decided its headline: a secure-codegen row
    records every oracle's identity, the deciding one first ("icd | static:…")."""
    if "scorer" not in heads:
        return {}
    security = heads[heads["family"] == "secure-codegen"]
    found: dict[str, set[str]] = {}
    for benchmark, scorer in zip(security["benchmark"], security["scorer"]):
        if isinstance(scorer, str) and scorer:
            found.setdefault(str(benchmark), set()).add(scorer.split(" | ")[0])
    return {benchmark: sorted(names) for benchmark, names in sorted(found.items())}
