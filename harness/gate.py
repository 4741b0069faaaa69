"""Release gates: does a candidate run regress against a baseline run?

A check fails for one of three reasons, each judged per benchmark and metric:
- regression: on the shared samples the candidate is worse by more than the allowed margin AND
  the paired test says the drop is significant at alpha (after Holm's correction across every
  regression check of the gate, unless the policy turns it off: a gate over twenty metrics at
  alpha 0.05 would otherwise fail a model identical in quality about once in three runs);
- floor: the candidate's value on all its samples is below an absolute floor;
- error rate: too many of the candidate's rows have status `error`.

A regression check is *inconclusive* when its benchmark has too few paired samples for any drop
to be significant at alpha: on n paired samples an exact two-sided paired test (McNemar's, or
the sign-flip test for fractional values) cannot give p below 2 * 0.5**n, reached only when
every sample changed and all for the worse, so 5 samples cannot show even a 100 % -> 0 % drop
at alpha 0.05 (p >= 0.0625). Such a gate never says "passed": with no failing check its verdict
is inconclusive (its own exit code). The paired bootstrap used for fractional values would give
p = 0 on three samples that all got worse; the same floor keeps it from deciding on so few.
Inconclusive checks are left out of Holm's family: whether a check is one depends only on its
sample count, never on the outcome, so leaving it out keeps the correction valid.

Inputs that make the comparison meaningless (a missing run, a schema version this purpbench does
not read, no shared samples, benchmarks scored by different oracles, a metric the two runs define
differently) are `GateInputError`s: exit code 2, never a verdict.

What a benchmark's metrics are, which one is the headline and which sample value each reads come
from the definitions stored in the runs' summaries (`harness.paired.resolve_metrics`), so gating
an old run never depends on today's benchmark classes; the diagnostic truncation row and κ
(agreement between oracles) are never gated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.core.exit_codes import ExitCode
from harness.core.metrics import Metric
from harness.core.stats import bootstrap_ci
from harness.paired import (
    COLUMNS,
    DefinitionMismatch,
    PairedComparison,
    Resolved,
    compare_values,
    latest_rows,
    resolve_metrics,
    shared_rows,
    task_values,
)
from harness.results import RunStore, SchemaMismatch, StoreError, resolve_run_dir


class GateInputError(RuntimeError):
    """The runs cannot be compared; the message is one line for the user."""


class BenchmarkPolicy(BaseModel):
    """Overrides for one benchmark; unset fields fall back to the policy's defaults."""

    model_config = ConfigDict(extra="forbid")

    metrics: list[str] | None = None  # metric names to gate; default: the headline metric
    margin: float | None = Field(default=None, ge=0)
    alpha: float | None = Field(default=None, gt=0, lt=1)
    max_error_rate: float | None = Field(default=None, ge=0, le=1)
    floors: dict[str, float] = Field(default_factory=dict)  # metric name -> minimum value
    required: bool = False  # missing from either run -> unusable input, not a skip


class GatePolicy(BaseModel):
    """What `--policy gates.yaml` holds (every key optional)."""

    model_config = ConfigDict(extra="forbid")

    alpha: float = Field(default=0.05, gt=0, lt=1)
    margin: float = Field(default=0.01, ge=0)  # allowed drop, in the metric's units (0.01 = 1 pt)
    max_error_rate: float = Field(default=0.05, ge=0, le=1)
    correction: Literal["holm", "none"] = "holm"
    metrics: Literal["headline", "all"] = "headline"
    n_boot: int = Field(default=2000, ge=100)
    seed: int = 0
    allow_scorer_mismatch: bool = False
    benchmarks: dict[str, BenchmarkPolicy] = Field(default_factory=dict)

    def for_benchmark(self, name: str) -> BenchmarkPolicy:
        return self.benchmarks.get(name, BenchmarkPolicy())


def load_policy(path: Path | None) -> GatePolicy:
    if path is None:
        return GatePolicy()
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
        return GatePolicy.model_validate(data)
    except FileNotFoundError as exc:
        raise GateInputError(f"policy file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise GateInputError(
            f"policy {path} is not valid YAML: {str(exc).splitlines()[0]}"
        ) from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise GateInputError(f"policy {path}: {where}: {first['msg']}") from exc


@dataclass
class LoadedRun:
    path: Path
    manifest: dict[str, Any]
    samples: pd.DataFrame
    scorers: dict[str, tuple[str, str]]  # benchmark -> (scorer, scorer_version)
    # Summary rows (schema 2 upgraded on read): the stored headline and metric definitions.
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def label(self) -> str:
        return self.path.name


def load_run(ref: str, results_root: Path) -> LoadedRun:
    """A run given as a directory, a run id (or unique prefix) under the results root, or a
    directory that holds exactly one run."""
    path = Path(ref)
    if path.is_dir() and not (path / "run.json").exists():
        runs = sorted(p.parent for p in path.glob("*/run.json"))
        if len(runs) == 1:
            path = runs[0]
        elif len(runs) > 1:
            names = ", ".join(r.name for r in runs[:5])
            raise GateInputError(f"{ref} holds {len(runs)} runs ({names}…): name one")
    try:
        run_dir = resolve_run_dir(str(path), results_root)
    except FileNotFoundError as exc:
        raise GateInputError(str(exc)) from exc
    store = RunStore(run_dir)
    try:
        store.check_readable()
        columns = [*COLUMNS, "scorer", "scorer_version", "dataset_revision"]
        samples = latest_rows(store.read_samples(columns=columns))
        summary = store.read_summary()
    except (SchemaMismatch, StoreError) as exc:
        raise GateInputError(str(exc)) from exc
    except (OSError, pa.ArrowException) as exc:
        raise GateInputError(f"cannot read {run_dir}/samples: {str(exc).splitlines()[0]}") from exc
    if samples.empty:
        raise GateInputError(f"{run_dir} has no scored samples")
    if summary.empty:
        raise GateInputError(f"{run_dir} has no summary: finish the run (`purpbench run`) first")
    last = samples.groupby("benchmark", sort=True).tail(1)
    scorers = {
        str(b): (str(s), str(v))
        for b, s, v in zip(last["benchmark"], last["scorer"], last["scorer_version"])
    }
    return LoadedRun(run_dir, store.manifest() or {}, samples, scorers, summary)


@dataclass
class Check:
    """One line of the report: a benchmark × metric (or its error rate)."""

    benchmark: str
    metric: str
    kind: Literal["regression", "floor", "error-rate"]
    passed: bool
    reason: str
    comparison: PairedComparison | None = None
    value: float | None = None  # floor / error-rate checks: the candidate's value
    limit: float | None = None  # margin, floor or maximum error rate
    ci: tuple[float, float] | None = None
    n: int | None = None
    p_adjusted: float | None = None
    # Regression checks: too few paired samples to show any drop at alpha (never `passed`).
    inconclusive: bool = False
    min_samples: int | None = None  # paired samples needed for a drop to be significant
    # The smallest drop (metric units) that could fail the check on these samples: more than
    # the margin and significant; None for fractional values or when no drop could.
    smallest_failing_drop: float | None = None

    @property
    def verdict(self) -> Literal["pass", "fail", "inconclusive"]:
        if self.inconclusive:
            return "inconclusive"
        return "pass" if self.passed else "fail"


@dataclass
class GateResult:
    baseline: LoadedRun
    candidate: LoadedRun
    policy: GatePolicy
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # benchmarks not compared, revision drift

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if c.verdict == "fail"]

    @property
    def inconclusive_checks(self) -> list[Check]:
        return [c for c in self.checks if c.verdict == "inconclusive"]

    @property
    def verdict(self) -> Literal["passed", "failed", "inconclusive"]:
        """A failed check decides; otherwise one check that cannot show a drop is enough to
        withhold "passed"."""
        if self.failed_checks:
            return "failed"
        return "inconclusive" if self.inconclusive_checks else "passed"

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    @property
    def exit_code(self) -> int:
        return {
            "passed": ExitCode.OK,
            "failed": ExitCode.CHECK_FAILED,
            "inconclusive": ExitCode.INCONCLUSIVE,
        }[self.verdict]


def _metrics_to_gate(
    name: str, available: list[Resolved], policy: GatePolicy
) -> tuple[Metric, ...]:
    """The benchmark's stored headline by default, every comparable metric with `metrics: all`,
    or the names the policy lists (each must be one the runs have)."""
    wanted = policy.for_benchmark(name).metrics
    if wanted is None:
        if policy.metrics == "all":
            return tuple(r.metric for r in available)
        return tuple(r.metric for r in available if r.headline)
    by_name = {r.metric.name: r.metric for r in available}
    unknown = [m for m in wanted if m not in by_name]
    if unknown:
        known = ", ".join(by_name) or "none"
        raise GateInputError(f"{name} has no metric {unknown[0]!r} (it has: {known})")
    return tuple(by_name[m] for m in wanted)


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (controls the family-wise error rate)."""
    m = len(p_values)
    order = np.argsort(p_values, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted.tolist()


def _fmt(value: float) -> str:
    return f"{100 * value:.1f}"


def min_paired_samples(alpha: float) -> int:
    """Fewest paired samples on which a drop can be significant at `alpha` (two-sided).

    The smallest p an exact paired test reaches on n samples is 2 * 0.5**n: McNemar's test (a
    binomial test on the discordant samples) when every sample is discordant and all went the
    same way, and likewise the sign-flip test for fractional differences."""
    n = 1
    while smallest_p(n) >= alpha:
        n += 1
    return n


def smallest_p(n: int) -> float:
    """The smallest two-sided p of an exact paired test on n samples."""
    return min(1.0, 2.0 * 0.5**n)


def smallest_failing_drop(n: int, margin: float, alpha: float) -> float | None:
    """For 0/1 values on n paired samples: the smallest drop that is both more than the margin
    and significant (k samples worse and none better, with k >= min_paired_samples and
    k / n > margin); None when no drop on n samples can fail the check."""
    k = max(min_paired_samples(alpha), int(np.floor(margin * n + 1e-9)) + 1)
    return k / n if 0 < k <= n else None


def _underpowered(n: int, alpha: float, higher_is_better: bool) -> str:
    """The one-line reason of an inconclusive regression check."""
    need = min_paired_samples(alpha)
    if n == 0:
        return f"inconclusive: no paired samples, cannot show a drop; need >= {need}"
    total = "100 → 0 %" if higher_is_better else "0 → 100 %"
    return (
        f"inconclusive: {n} paired samples cannot show a drop of any size at alpha={alpha} "
        f"(even {total} gives p = {smallest_p(n):.3g}); need >= {need}"
    )


def evaluate(baseline: LoadedRun, candidate: LoadedRun, policy: GatePolicy) -> GateResult:
    result = GateResult(baseline, candidate, policy)
    base_names = set(baseline.samples["benchmark"])
    cand_names = set(candidate.samples["benchmark"])
    for name, bench_policy in policy.benchmarks.items():
        if bench_policy.required and name not in base_names & cand_names:
            where = "baseline" if name not in base_names else "candidate"
            raise GateInputError(f"required benchmark {name} is missing from the {where}")
    for name in sorted(base_names ^ cand_names):
        side = "candidate" if name in base_names else "baseline"
        result.notes.append(f"{name}: not in the {side}, not compared")
    common = sorted(base_names & cand_names)
    if not common:
        raise GateInputError("the runs share no benchmark")
    base_shared, cand_shared = shared_rows(baseline.samples, candidate.samples)
    if base_shared.empty:
        raise GateInputError("the runs share no sample (benchmark, sample_id, sample_index)")
    try:
        resolved, notes = resolve_metrics(
            baseline.summary, candidate.summary, baseline.samples, candidate.samples, common
        )
    except DefinitionMismatch as exc:
        raise GateInputError(str(exc)) from exc
    result.notes.extend(notes)

    for name in common:
        bench_policy = policy.for_benchmark(name)
        if baseline.scorers[name] != candidate.scorers[name]:
            message = (
                f"{name} was scored by different oracles: baseline "
                f"{' '.join(baseline.scorers[name])}, candidate {' '.join(candidate.scorers[name])}"
            )
            if not policy.allow_scorer_mismatch:
                raise GateInputError(message + " (rescore one run, or allow_scorer_mismatch)")
            result.notes.append(message)
        revisions = {
            str(r)
            for run in (baseline, candidate)
            for r in run.samples.loc[run.samples["benchmark"] == name, "dataset_revision"].unique()
        }
        if len(revisions) > 1:
            result.notes.append(
                f"{name}: dataset revisions differ ({', '.join(sorted(revisions))})"
            )
        available = resolved.get(name, [])
        _regression_checks(result, name, available, base_shared, cand_shared, bench_policy)
        _floor_checks(result, name, available, candidate.samples, bench_policy)
        _error_rate_check(result, name, candidate.samples, bench_policy)

    _apply_correction(result)
    return result


def _regression_checks(
    result: GateResult,
    name: str,
    available: list[Resolved],
    base_shared: pd.DataFrame,
    cand_shared: pd.DataFrame,
    bench_policy: BenchmarkPolicy,
) -> None:
    policy = result.policy
    alpha = bench_policy.alpha or policy.alpha
    margin = policy.margin if bench_policy.margin is None else bench_policy.margin
    base_group = base_shared[base_shared["benchmark"] == name]
    cand_group = cand_shared[cand_shared["benchmark"] == name]
    need = min_paired_samples(alpha)
    for metric in _metrics_to_gate(name, available, policy):
        base_values = task_values(base_group, metric)
        cand_values = task_values(cand_group, metric)
        comparison = compare_values(
            name,
            metric,
            base_values,
            cand_values,
            alpha=alpha,
            n_boot=policy.n_boot,
            seed=policy.seed,
        )
        n = 0 if comparison is None else comparison.n_shared
        inconclusive = n < need
        shared = base_values.index.intersection(cand_values.index)
        binary = bool(
            np.isin(base_values.loc[shared].to_numpy(), (0.0, 1.0)).all()
            and np.isin(cand_values.loc[shared].to_numpy(), (0.0, 1.0)).all()
        )
        result.checks.append(
            Check(
                benchmark=name,
                metric=metric.name,
                kind="regression",
                passed=not inconclusive,  # a conclusive one: decided after the correction
                reason=_underpowered(n, alpha, metric.higher_is_better) if inconclusive else "",
                comparison=comparison,
                limit=margin,
                n=n,
                inconclusive=inconclusive,
                min_samples=need,
                smallest_failing_drop=smallest_failing_drop(n, margin, alpha) if binary else None,
            )
        )


def _apply_correction(result: GateResult) -> None:
    checks = [
        c
        for c in result.checks
        if c.kind == "regression" and c.comparison is not None and not c.inconclusive
    ]
    raw = [c.comparison.p_value for c in checks]  # type: ignore[union-attr]
    adjusted = holm(raw) if result.policy.correction == "holm" and raw else raw
    for check, p in zip(checks, adjusted):
        comp = check.comparison
        assert comp is not None
        alpha = result.policy.for_benchmark(check.benchmark).alpha or result.policy.alpha
        margin = check.limit or 0.0
        check.p_adjusted = p
        significant = p < alpha
        too_large = comp.drop > margin
        check.passed = not (significant and too_large)
        change = f"{_fmt(comp.base_value)} → {_fmt(comp.cand_value)} ({comp.diff * 100:+.1f} pt)"
        if not check.passed:
            check.reason = f"regression: {change}, p={p:.3g} < {alpha}, drop > {_fmt(margin)} pt"
        elif comp.drop > margin:
            check.reason = f"drop not significant: {change}, p={p:.3g}"
        elif comp.drop > 0:
            check.reason = f"within margin: {change}"
        else:
            check.reason = f"no drop: {change}"
        if check.passed and check.smallest_failing_drop is not None:
            # what a pass vouches for: a smaller drop passes whatever the samples show
            check.reason += (
                f"; on {check.n} samples a drop under {_fmt(check.smallest_failing_drop)} pt "
                "cannot fail"
            )


def _floor_checks(
    result: GateResult,
    name: str,
    available: list[Resolved],
    samples: pd.DataFrame,
    bench_policy: BenchmarkPolicy,
) -> None:
    if not bench_policy.floors:
        return
    group = samples[samples["benchmark"] == name]
    by_name = {r.metric.name: r.metric for r in available}
    for metric_name, floor in bench_policy.floors.items():
        metric = by_name.get(metric_name)
        if metric is None:
            known = ", ".join(by_name) or "none"
            raise GateInputError(f"floor on {name}: no metric {metric_name!r} (it has: {known})")
        values = task_values(group, metric)
        if values.empty:
            raise GateInputError(f"floor on {name} {metric_name}: no candidate sample carries it")
        value = float(values.mean())
        ci = bootstrap_ci(list(values))
        ok = value >= floor if metric.higher_is_better else value <= floor
        relation = "≥" if metric.higher_is_better else "≤"
        verb = "meets" if ok else "misses"
        result.checks.append(
            Check(
                benchmark=name,
                metric=metric_name,
                kind="floor",
                passed=ok,
                reason=f"{_fmt(value)} {verb} floor {relation} {_fmt(floor)}",
                value=value,
                limit=floor,
                ci=ci,
                n=len(values),
            )
        )


def _error_rate_check(
    result: GateResult, name: str, samples: pd.DataFrame, bench_policy: BenchmarkPolicy
) -> None:
    group = samples[samples["benchmark"] == name]
    limit = (
        result.policy.max_error_rate
        if bench_policy.max_error_rate is None
        else bench_policy.max_error_rate
    )
    errors = int((group["status"] == "error").sum())
    rate = errors / len(group)
    ok = rate <= limit
    result.checks.append(
        Check(
            benchmark=name,
            metric="error rate",
            kind="error-rate",
            passed=ok,
            reason=f"{errors}/{len(group)} rows errored ({_fmt(rate)}%, limit {_fmt(limit)}%)",
            value=rate,
            limit=limit,
            n=len(group),
        )
    )


def run_gate(
    baseline: str, candidate: str, policy_path: Path | None, results_root: Path
) -> GateResult:
    policy = load_policy(policy_path)
    return evaluate(load_run(baseline, results_root), load_run(candidate, results_root), policy)
