"""Paired comparison of two runs on the samples both of them scored.

Two runs of a benchmark share most of their variance through the tasks themselves (a hard task
is hard for both models), so comparing them task by task is far more sensitive than comparing
two independent means: McNemar's test when every per-task value is 0/1, a paired bootstrap of
the mean difference otherwise. `purpbench gate` decides on these numbers and the leaderboard's
"compare two runs" view shows them.

The unit is the task (`sample_id`): with several samples per task, each run's per-task value is
the mean over the sample indices both runs have, i.e. the pass@1 estimate. Error rows count as 0,
exactly as in the summary, so a candidate cannot improve by failing more often.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from benchmarks.base import Metric
from harness.summary import metric_values, metrics_for

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


def comparable_metrics(benchmark: str) -> tuple[Metric, ...]:
    """A benchmark's metrics that describe the model (κ describes agreement between oracles)."""
    metrics, _ = metrics_for(benchmark, {})
    return tuple(m for m in metrics if m.kappa is None)


def compare_runs(
    base: pd.DataFrame,
    cand: pd.DataFrame,
    *,
    alpha: float = 0.05,
    n_boot: int = 2000,
    seed: int = 0,
    metrics: dict[str, tuple[Metric, ...]] | None = None,
) -> list[PairedComparison]:
    """Every (benchmark, metric) both runs have, on their shared samples."""
    base, cand = shared_rows(base, cand)
    results: list[PairedComparison] = []
    for name, base_group in base.groupby("benchmark", sort=True):
        cand_group = cand[cand["benchmark"] == name]
        chosen = (metrics or {}).get(str(name)) or comparable_metrics(str(name))
        for metric in chosen:
            result = compare_values(
                str(name),
                metric,
                task_values(base_group, metric),
                task_values(cand_group, metric),
                alpha=alpha,
                n_boot=n_boot,
                seed=seed,
            )
            if result is not None:
                results.append(result)
    return results


def flipped_samples(base: pd.DataFrame, cand: pd.DataFrame) -> pd.DataFrame:
    """Samples whose main score changed between the runs, with both labels, worst first."""
    base, cand = latest_rows(base), latest_rows(cand)
    keep = [*KEY, "score", "label"]
    joined = base[keep].merge(cand[keep], on=KEY, suffixes=("_base", "_cand"))
    flipped = joined[joined["score_base"].fillna(0) != joined["score_cand"].fillna(0)].copy()
    higher = {
        name: (comparable_metrics(str(name)) or (Metric("score"),))[0].higher_is_better
        for name in flipped["benchmark"].unique()
    }
    delta = flipped["score_cand"].fillna(0) - flipped["score_base"].fillna(0)
    better = delta * flipped["benchmark"].map(lambda b: 1.0 if higher[b] else -1.0)
    flipped["change"] = np.where(better > 0, "improved", "regressed")
    return flipped.sort_values(["change", *KEY], ascending=[False, True, True, True]).reset_index(
        drop=True
    )
