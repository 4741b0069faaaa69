"""Paired comparison of two runs on the samples both of them scored.

Two runs of a benchmark share most of their variance through the tasks themselves (a hard task
is hard for both models), so comparing them task by task is far more sensitive than comparing
two independent means: McNemar's test when every per-task value is 0/1, a paired bootstrap of
the mean difference otherwise. `purpbench gate` decides on these numbers and the leaderboard's
"compare two runs" view shows them.

The unit is the task (`sample_id`): with several samples per task, each run's per-task value is
the mean over the sample indices both runs have, i.e. the pass@1 estimate. Error rows count as 0,
exactly as in the summary, so a candidate cannot improve by failing more often.

Which metrics exist, which is the headline and which sample value each reads come from the
definitions stored in the runs' summaries (`resolve_metrics`), never from today's benchmark
classes: a run read years later is compared as it was defined when it was scored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from harness.core.metrics import Metric, parse_definition
from harness.core.summary import candidate_readings, metric_values, reproduces

KEY = ["benchmark", "sample_id", "sample_index"]
COLUMNS = [*KEY, "status", "score", "scores", "label", "subset"]


@dataclass(frozen=True)
class PairedComparison:
    benchmark: str
    metric: str
    n_shared: int  # tasks both runs scored (for this metric)
    base_value: float
    cand_value: float
    diff: float  # candidate - baseline, in the metric's own units
    ci_low: float  # (1 - alpha) paired-bootstrap interval of diff
    ci_high: float
    p_value: float  # two-sided, H0: no difference
    test: str  # "mcnemar-exact" | "paired-bootstrap" | "identical"
    higher_is_better: bool
    n_improved: int  # tasks that got better in the metric's direction
    n_regressed: int

    @property
    def drop(self) -> float:
        """How much worse the candidate is (positive = worse), whatever the metric's direction."""
        return -self.diff if self.higher_is_better else self.diff

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def latest_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per sample: a resumed run may still hold a superseded error row in an old part."""
    return frame.drop_duplicates(KEY, keep="last")


def shared_rows(base: pd.DataFrame, cand: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both runs restricted to the (benchmark, sample_id, sample_index) keys they both have."""
    base, cand = latest_rows(base), latest_rows(cand)
    keys = base[KEY].merge(cand[KEY], on=KEY)
    return base.merge(keys, on=KEY), cand.merge(keys, on=KEY)


def task_values(frame: pd.DataFrame, metric: Metric) -> pd.Series:
    """Per-task value of `metric` (mean over sample indices), indexed by sample_id; tasks the
    metric does not apply to (another subset, a language an analyzer skips) are left out."""
    if metric.subset is not None:
        frame = frame[frame["subset"] == metric.subset]
    if frame.empty:
        return pd.Series(dtype=float)
    values = metric_values(frame, metric)
    per_row = pd.DataFrame({"task": frame["sample_id"].to_numpy(), "v": values.to_numpy()})
    per_row = per_row.dropna()
    return per_row.groupby("task", sort=True)["v"].mean()


def _is_binary(values: np.ndarray) -> bool:
    return bool(np.isin(values, (0.0, 1.0)).all())


def bootstrap_diffs(diffs: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Means of `n_boot` resamples of the per-task differences (tasks drawn with replacement)."""
    rng = np.random.default_rng(seed)
    return diffs[rng.integers(0, diffs.size, size=(n_boot, diffs.size))].mean(axis=1)


def compare_values(
    benchmark: str,
    metric: Metric,
    base: pd.Series,
    cand: pd.Series,
    *,
    alpha: float = 0.05,
    n_boot: int = 2000,
    seed: int = 0,
) -> PairedComparison | None:
    """Paired statistics of two per-task series; None when they share no task."""
    tasks = base.index.intersection(cand.index)
    if len(tasks) == 0:
        return None
    b = base.loc[tasks].to_numpy(dtype=float)
    c = cand.loc[tasks].to_numpy(dtype=float)
    diffs = c - b
    sign = 1.0 if metric.higher_is_better else -1.0
    improved = int((sign * diffs > 0).sum())
    regressed = int((sign * diffs < 0).sum())
    if not diffs.any():
        ci_low = ci_high = 0.0
        p_value, test = 1.0, "identical"
    else:
        boot = bootstrap_diffs(diffs, n_boot, seed)
        ci_low, ci_high = (float(x) for x in np.percentile(boot, [50 * alpha, 100 - 50 * alpha]))
        if _is_binary(b) and _is_binary(c):
            # exact McNemar: under H0 a discordant task is equally likely to go either way
            from scipy.stats import binomtest  # 1.4 s to import: only when a test runs

            up, down = int((diffs > 0).sum()), int((diffs < 0).sum())
            p_value = float(binomtest(min(up, down), up + down, 0.5).pvalue)
            test = "mcnemar-exact"
        else:
            # two-sided bootstrap p: how often a resampled mean lands across zero, doubled
            tail = min(float((boot <= 0).mean()), float((boot >= 0).mean()))
            p_value, test = min(1.0, 2.0 * tail), "paired-bootstrap"
    return PairedComparison(
        benchmark=benchmark,
        metric=metric.name,
        n_shared=len(tasks),
        base_value=float(b.mean()),
        cand_value=float(c.mean()),
        diff=float(diffs.mean()),
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=p_value,
        test=test,
        higher_is_better=metric.higher_is_better,
        n_improved=improved,
        n_regressed=regressed,
    )


# The parts of a definition that decide the number (the description may be reworded).
_MEANING = ("aggregate", "key", "k", "subset", "kappa")


class DefinitionMismatch(ValueError):
    """The two runs define a metric of the same name differently; the message is one line."""


@dataclass(frozen=True)
class StoredMetric:
    """One whole-benchmark summary row that describes the model, as its run stored it."""

    benchmark: str
    name: str
    higher_is_better: bool
    headline: bool
    definition: dict[str, Any]
    value: float
    n: int

    @property
    def recorded(self) -> bool:
        """False for a row written before definitions were stored (results schema 2)."""
        return int(self.definition.get("v") or 0) >= 1

    def metric(self) -> Metric:
        return Metric.from_definition(self.name, self.higher_is_better, self.definition)


@dataclass(frozen=True)
class Resolved:
    """A metric both runs have, with the per-sample reading both are compared on."""

    metric: Metric
    headline: bool


def stored_metrics(summary: pd.DataFrame, benchmark: str) -> list[StoredMetric]:
    """The comparable metrics of one benchmark in a run's (upgraded) summary, headline first.

    Comparable: a whole-benchmark row whose role is headline or metric (κ is agreement between
    oracles and the truncation share a diagnostic of the run) and that is a mean or pass@1
    (per task, the mean over sample indices is the pass@1 estimate; pass@5 and beyond are not
    paired)."""
    part = summary[(summary["benchmark"] == benchmark) & (summary["slice"].fillna("") == "")]
    found = []
    for row in part.itertuples(index=False):
        definition = parse_definition(row.definition)
        if definition.get("role") not in ("headline", "metric"):
            continue
        if definition.get("aggregate") == "pass@k" and definition.get("k") not in (None, 1):
            continue
        found.append(
            StoredMetric(
                benchmark,
                str(row.metric),
                bool(row.higher_is_better),
                bool(row.headline),
                definition,
                float(row.value),
                int(row.n),
            )
        )
    return sorted(found, key=lambda m: not m.headline)


def headline_directions(summary: pd.DataFrame) -> dict[str, bool]:
    """Benchmark -> higher_is_better of its stored headline row."""
    heads = summary[summary["headline"].astype(bool) & (summary["slice"].fillna("") == "")]
    return {str(b): bool(h) for b, h in zip(heads["benchmark"], heads["higher_is_better"])}


def _same_meaning(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(a.get(k) == b.get(k) for k in _MEANING)


def resolve_metrics(
    base_summary: pd.DataFrame,
    cand_summary: pd.DataFrame,
    base_samples: pd.DataFrame,
    cand_samples: pd.DataFrame,
    benchmarks: list[str],
) -> tuple[dict[str, list[Resolved]], list[str]]:
    """Per benchmark, the metrics both runs have (the candidate's order, headline first), read
    as their stored definitions say; and notes on what could not be compared or how.

    A definition recorded by only one run is used for both. When neither recorded one (two
    schema-2 runs), the reading is the first of `candidate_readings` that reproduces both runs'
    stored value and n from their samples, or the metric is not compared. Two recorded
    definitions that differ raise `DefinitionMismatch`."""
    resolved: dict[str, list[Resolved]] = {}
    notes: list[str] = []
    for name in benchmarks:
        base_rows = {m.name: m for m in stored_metrics(base_summary, name)}
        chosen: list[Resolved] = []
        for cand in stored_metrics(cand_summary, name):
            base = base_rows.get(cand.name)
            if base is None:
                notes.append(f"{name}: {cand.name} is not in the baseline's summary, not compared")
                continue
            if cand.higher_is_better != base.higher_is_better:
                raise DefinitionMismatch(
                    f"{name} {cand.name}: the runs disagree on its direction (higher is better: "
                    f"baseline {base.higher_is_better}, candidate {cand.higher_is_better})"
                )
            metric = _reading(name, base, cand, base_samples, cand_samples, notes)
            if metric is not None:
                chosen.append(Resolved(metric, cand.headline))
        base_head = [m.name for m in base_rows.values() if m.headline]
        cand_head = [m.name for m in stored_metrics(cand_summary, name) if m.headline]
        if base_head != cand_head:
            notes.append(
                f"{name}: the runs' headline metrics differ (baseline {base_head or 'none'}, "
                f"candidate {cand_head or 'none'}); the candidate's is gated"
            )
        resolved[name] = chosen
    return resolved, notes


def _reading(
    name: str,
    base: StoredMetric,
    cand: StoredMetric,
    base_samples: pd.DataFrame,
    cand_samples: pd.DataFrame,
    notes: list[str],
) -> Metric | None:
    if base.recorded and cand.recorded:
        if not _same_meaning(base.definition, cand.definition):
            shown = {k: (base.definition.get(k), cand.definition.get(k)) for k in _MEANING}
            differs = ", ".join(f"{k} {b!r} vs {c!r}" for k, (b, c) in shown.items() if b != c)
            raise DefinitionMismatch(
                f"{name} {cand.name} is defined differently in the two runs ({differs}): "
                "rescore one run so both compute it the same way"
            )
        return cand.metric()
    if cand.recorded or base.recorded:
        known, side = (cand, "candidate") if cand.recorded else (base, "baseline")
        notes.append(
            f"{name} {cand.name}: only the {side} recorded its definition (the other is results "
            "schema 2); compared as the " + side + " defines it"
        )
        return known.metric()
    base_rows = base_samples[base_samples["benchmark"] == name]
    cand_rows = cand_samples[cand_samples["benchmark"] == name]
    for metric in candidate_readings(cand_rows, cand.name, cand.higher_is_better):
        if reproduces(base_rows, metric, base.value, base.n) and reproduces(
            cand_rows, metric, cand.value, cand.n
        ):
            notes.append(
                f"{name} {cand.name}: definitions not recorded (results schema 2); compared as "
                f"{_describe(metric)}, the reading that reproduces both runs' stored values"
            )
            return metric
    notes.append(
        f"{name} {cand.name}: definitions not recorded (results schema 2) and no sample value "
        "reproduces both runs' stored numbers; not compared"
    )
    return None


def _describe(metric: Metric) -> str:
    value = "score" if metric.key is None else f"scores[{metric.key!r}]"
    over = f" on subset={metric.subset}" if metric.subset is not None else ""
    return f"{'pass@1 of ' if metric.pass_at_k else 'mean of '}{value}{over}"


def compare_runs(
    base: pd.DataFrame,
    cand: pd.DataFrame,
    metrics: Mapping[str, list[Resolved]],
    *,
    alpha: float = 0.05,
    n_boot: int = 2000,
    seed: int = 0,
) -> list[PairedComparison]:
    """Every (benchmark, metric) of `metrics` (from `resolve_metrics`), on the shared samples."""
    base, cand = shared_rows(base, cand)
    results: list[PairedComparison] = []
    for name, base_group in base.groupby("benchmark", sort=True):
        cand_group = cand[cand["benchmark"] == name]
        for chosen in metrics.get(str(name), []):
            result = compare_values(
                str(name),
                chosen.metric,
                task_values(base_group, chosen.metric),
                task_values(cand_group, chosen.metric),
                alpha=alpha,
                n_boot=n_boot,
                seed=seed,
            )
            if result is not None:
                results.append(result)
    return results


def flipped_samples(
    base: pd.DataFrame, cand: pd.DataFrame, higher_is_better: Mapping[str, bool] | None = None
) -> pd.DataFrame:
    """Samples whose main score changed between the runs, with both labels, worst first.

    `higher_is_better` is each benchmark's headline direction as stored in a summary
    (`headline_directions`); a benchmark not in it counts higher as better."""
    base, cand = latest_rows(base), latest_rows(cand)
    directions = higher_is_better or {}
    keep = [*KEY, "score", "label"]
    joined = base[keep].merge(cand[keep], on=KEY, suffixes=("_base", "_cand"))
    flipped = joined[joined["score_base"].fillna(0) != joined["score_cand"].fillna(0)].copy()
    higher = {name: directions.get(str(name), True) for name in flipped["benchmark"].unique()}
    delta = flipped["score_cand"].fillna(0) - flipped["score_base"].fillna(0)
    better = delta * flipped["benchmark"].map(lambda b: 1.0 if higher[b] else -1.0)
    flipped["change"] = np.where(better > 0, "improved", "regressed")
    return flipped.sort_values(["change", *KEY], ascending=[False, True, True, True]).reset_index(
        drop=True
    )
