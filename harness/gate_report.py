"""The gate's verdict in the four forms CI systems read: a terminal table, Markdown (GitHub's job
summary), JUnit XML (test-report widgets) and JSON (anything else).

Every form names both runs' identities (model, backend, run id, harness sha), so a gate result
pasted into a release ticket can be traced back to the exact runs.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from typing import Any

from rich.table import Table

from harness.gate import Check, GateResult, LoadedRun, min_paired_samples


def _pct(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:.1f}"


def _identity(run: LoadedRun) -> dict[str, Any]:
    manifest = run.manifest
    identity = manifest.get("identity", {}) if isinstance(manifest, dict) else {}
    return {
        "run_id": run.label,
        "path": str(run.path),
        "model": identity.get("model") or manifest.get("model"),
        "backend": identity.get("backend") or manifest.get("backend"),
        "harness_git_sha": _last_invocation(manifest).get("harness_git_sha"),
    }


def _last_invocation(manifest: dict[str, Any]) -> dict[str, Any]:
    invocations = manifest.get("invocations") or []
    return invocations[-1] if invocations else {}


def _columns(check: Check) -> dict[str, str]:
    comp = check.comparison
    if comp is not None and check.inconclusive:
        return {
            "baseline": _pct(comp.base_value),
            "candidate": _pct(comp.cand_value),
            "diff (95% CI)": f"{100 * comp.diff:+.1f}",
            "n": str(comp.n_shared),
            "test": f"needs n >= {check.min_samples}",
        }
    if check.kind == "regression" and comp is None:  # no paired sample carries the metric
        return {
            "baseline": "",
            "candidate": "",
            "diff (95% CI)": "",
            "n": "0",
            "test": f"needs n >= {check.min_samples}",
        }
    if comp is not None:
        return {
            "baseline": _pct(comp.base_value),
            "candidate": _pct(comp.cand_value),
            "diff (95% CI)": (
                f"{100 * comp.diff:+.1f} [{100 * comp.ci_low:+.1f}, {100 * comp.ci_high:+.1f}]"
            ),
            "n": str(comp.n_shared),
            "test": f"{comp.test} p={check.p_adjusted:.3g}",
        }
    if check.kind == "floor" and check.ci is not None:
        return {
            "baseline": "",
            "candidate": f"{_pct(check.value)} [{_pct(check.ci[0])}, {_pct(check.ci[1])}]",
            "diff (95% CI)": "",
            "n": str(check.n),
            "test": f"floor {_pct(check.limit)}",
        }
    return {
        "baseline": "",
        "candidate": _pct(check.value),
        "diff (95% CI)": "",
        "n": str(check.n),
        "test": f"max {_pct(check.limit)}",
    }


HEADERS = ["", "benchmark", "metric", "baseline", "candidate", "diff (95% CI)", "n", "test", "why"]
# The first cell of a row, by the check's verdict.
MARKS = {"pass": "PASS", "fail": "FAIL", "inconclusive": "INCONCLUSIVE"}


def _rows(result: GateResult) -> list[list[str]]:
    rows = []
    for check in result.checks:
        cols = _columns(check)
        rows.append(
            [
                MARKS[check.verdict],
                check.benchmark,
                check.metric,
                cols["baseline"],
                cols["candidate"],
                cols["diff (95% CI)"],
                cols["n"],
                cols["test"],
                check.reason,
            ]
        )
    return rows


def verdict_line(result: GateResult) -> str:
    if result.verdict == "passed":
        return f"gate passed: {len(result.checks)} checks"
    if result.verdict == "failed":
        failed = result.failed_checks
        first = failed[0]
        return (
            f"gate failed: {len(failed)} of {len(result.checks)} checks "
            f"(first: {first.benchmark} {first.metric}: {first.reason})"
        )
    open_ = result.inconclusive_checks
    first = open_[0]
    return (
        f"gate inconclusive: {len(open_)} of {len(result.checks)} checks cannot show a "
        f"regression (first: {first.benchmark} {first.metric}: {first.reason})"
    )


def terminal_table(result: GateResult) -> Table:
    base, cand = _identity(result.baseline), _identity(result.candidate)
    table = Table(
        title=f"baseline {base['model']} ({base['run_id']})  vs  candidate {cand['model']} "
        f"({cand['run_id']})",
        caption=f"alpha {result.policy.alpha}, {result.policy.correction} correction; "
        "values in %; diff = candidate − baseline on shared samples; a drop can be "
        f"significant from {min_paired_samples(result.policy.alpha)} paired samples",
    )
    for header in HEADERS:
        table.add_column(header, overflow="fold")
    styles = {"PASS": "green", "FAIL": "bold red", "INCONCLUSIVE": "bold yellow"}
    for row in _rows(result):
        table.add_row(f"[{styles[row[0]]}]{row[0]}[/]", *row[1:])
    return table


def markdown(result: GateResult) -> str:
    base, cand = _identity(result.baseline), _identity(result.candidate)
    policy = result.policy
    icons = {"PASS": "✅", "FAIL": "❌", "INCONCLUSIVE": "⚠️"}
    icon = {"passed": "✅", "failed": "❌", "inconclusive": "⚠️"}[result.verdict]
    lines = [
        f"## purpbench gate {icon} {verdict_line(result)}",
        "",
        f"- baseline: `{base['model']}` ({base['backend']}), run `{base['run_id']}`, "
        f"harness `{base['harness_git_sha']}`",
        f"- candidate: `{cand['model']}` ({cand['backend']}), run `{cand['run_id']}`, "
        f"harness `{cand['harness_git_sha']}`",
        f"- policy: alpha {policy.alpha}, margin {_pct(policy.margin)} pt, "
        f"{policy.correction} correction, max error rate {_pct(policy.max_error_rate)}%; "
        f"a drop can be significant from {min_paired_samples(policy.alpha)} paired samples",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    for row in _rows(result):
        row[0] = icons[row[0]]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    if result.notes:
        lines += ["", *(f"- note: {note}" for note in result.notes)]
    return "\n".join(lines) + "\n"


def junit_xml(result: GateResult) -> str:
    """One testcase per benchmark × metric (and per error-rate check). An inconclusive check
    is an `error` (the check could not be decided), not `skipped`: the job fails on it."""
    suite = ET.Element(
        "testsuite",
        name="purpbench-gate",
        tests=str(len(result.checks)),
        failures=str(len(result.failed_checks)),
        errors=str(len(result.inconclusive_checks)),
        skipped="0",
    )
    props = ET.SubElement(suite, "properties")
    for side, run in (("baseline", result.baseline), ("candidate", result.candidate)):
        for key, value in _identity(run).items():
            ET.SubElement(props, "property", name=f"{side}.{key}", value=str(value))
    for check in result.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"purpbench.gate.{check.benchmark}",
            name=f"{check.metric} [{check.kind}]",
        )
        if check.verdict != "pass":
            tag = "failure" if check.verdict == "fail" else "error"
            type_ = check.kind if check.verdict == "fail" else "inconclusive"
            failure = ET.SubElement(case, tag, message=check.reason, type=type_)
            failure.text = json.dumps(_check_json(check), indent=2)
        else:
            ET.SubElement(case, "system-out").text = check.reason
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _check_json(check: Check) -> dict[str, Any]:
    return {
        "benchmark": check.benchmark,
        "metric": check.metric,
        "kind": check.kind,
        "passed": check.passed,
        "outcome": check.verdict,  # pass | fail | inconclusive
        "reason": check.reason,
        "value": check.value,
        "limit": check.limit,
        "ci": list(check.ci) if check.ci else None,
        "n": check.n,
        "p_adjusted": check.p_adjusted,
        "min_samples": check.min_samples,
        "smallest_failing_drop": check.smallest_failing_drop,
        "comparison": check.comparison.to_json() if check.comparison else None,
    }


def as_json(result: GateResult) -> dict[str, Any]:
    return {
        "passed": result.passed,
        "outcome": result.verdict,  # passed | failed | inconclusive
        "exit_code": int(result.exit_code),
        "verdict": verdict_line(result),
        "baseline": _identity(result.baseline),
        "candidate": _identity(result.candidate),
        "policy": result.policy.model_dump(),
        "checks": [_check_json(c) for c in result.checks],
        "notes": result.notes,
    }
