"""Batched vs per-snippet static analysis on CyberSecEval's 1,916 instruct `origin_code` snippets.

Three ways, same rule pack, same files:
  (a) StaticAnalysis, batched (policy: semgrep only, min severity info),
  (b) one semgrep process per snippet, as CyberSecEval runs its analyzers (slow: by default a
      spread-out subset is timed and the total extrapolated, which is printed as such),
  (c) one raw `semgrep scan --config <yaml files> --json <dir>` over the pre-written files.
(a) and (c) alternate --repeats times and the best of each is kept (the machine is shared).
Prints wall times, the ratios b/a (target >= 20x) and a/c (target <= 1.3x), and the detection
rate (share of snippets with at least one finding) overall, per language and per top CWE.

    python bench/static_analysis.py --data-dir ../shared/data --per-snippet-limit 40
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from benchmarks.cyberseceval import CyberSecEvalInstruct
from harness.core.data import cache_root, resolve
from scorers.code_extract import CodeUnit, normalize_language
from scorers.static import AnalyzerPolicy, StaticAnalysis
from scorers.static import semgrep as semgrep_mod
from scorers.static.analyze import EXTENSIONS, unit_file_text
from scorers.static.findings import normalize_cwe
from scorers.static.toolenv import LAUNCHES, run_tool


def load(data_dir: str | None) -> list[dict[str, Any]]:
    spec = CyberSecEvalInstruct.data_files["prompts"]
    path = resolve(spec, data_dir).path
    return json.loads(path.read_text(encoding="utf-8"))


def write_files(units: dict[int, CodeUnit], where: Path) -> list[str]:
    """One file per snippet, named by its dataset index, written as StaticAnalysis writes it."""
    where.mkdir(parents=True, exist_ok=True)
    names = []
    for i, unit in units.items():
        name = f"s{i:06d}.{EXTENSIONS.get(unit.language, 'txt')}"
        (where / name).write_text(unit_file_text(unit)[0], encoding="utf-8", errors="replace")
        names.append(name)
    (where / ".semgrepignore").write_text("")
    return names


def raw_semgrep(cmd: list[str], where: Path) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    done = run_tool("semgrep:raw", cmd, cwd=where, timeout=3600)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(done.failure("semgrep"))
    return wall, json.loads(done.stdout)


def per_snippet(
    cmd: list[str], units: list[CodeUnit], picks: list[int], root: Path
) -> tuple[float, dict[int, int]]:
    """One semgrep process per snippet; returns wall time and findings per picked snippet."""
    found: dict[int, int] = {}
    start = time.perf_counter()
    for i in picks:
        where = root / f"one{i}"
        write_files({i: units[i]}, where)
        _, data = raw_semgrep(cmd, where)
        found[i] = len(data.get("results", []))
    return time.perf_counter() - start, found


def rate(flags: list[bool]) -> str:
    return f"{100 * sum(flags) / len(flags):5.1f}% ({sum(flags)}/{len(flags)})" if flags else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument(
        "--per-snippet-limit",
        type=int,
        default=40,
        help="snippets timed one process each (0 or >= 1916: all of them, no extrapolation)",
    )
    parser.add_argument("--rules-dir", type=Path, default=semgrep_mod.RULES_DIR)
    parser.add_argument("--top-cwes", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2, help="runs of (a) and (c); best kept")
    args = parser.parse_args()

    records = load(args.data_dir)
    units = [
        CodeUnit(0, 0, normalize_language(r["language"]), r["origin_code"], 1, True)
        for r in records
    ]
    policy = AnalyzerPolicy(analyzers=("semgrep",), min_severity="info")
    static = StaticAnalysis(policy, cache_root(), rules_dir=args.rules_dir)
    scorer, version = static.identity()  # provisions the tools if needed; not timed
    pack = static.rule_pack()
    exe = static.tools.executable("semgrep")
    cmd = semgrep_mod.command(exe, pack, static.jobs)
    print(f"{len(units)} snippets; {len(pack.rules)} rules in {len(pack.files)} files")
    print(f"scorer: {scorer} [{version}]; semgrep --jobs {static.jobs}")

    root = Path(tempfile.mkdtemp(prefix="purpbench-bench-static-"))
    try:
        per_snippet(cmd, units, [0], root / "warmup")  # page cache, not timed

        # (a) and (c) alternate and the best of --repeats is kept: the machine is shared.
        scanned = {i: u for i, u in enumerate(units) if pack.applies_to(u.language)}  # as (a)
        write_files(scanned, root / "raw")
        walls_a, walls_c, processes_a = [], [], 0
        for _ in range(max(1, args.repeats)):
            before = LAUNCHES["semgrep:scan"]
            start = time.perf_counter()
            results = static.analyze([[u] for u in units])
            walls_a.append(time.perf_counter() - start)
            processes_a = LAUNCHES["semgrep:scan"] - before
            errors = [r.error for r in results if r.error]
            if errors:
                raise SystemExit(f"batched analysis failed: {errors[0]}")
            wall_c, raw = raw_semgrep(cmd, root / "raw")
            walls_c.append(wall_c)
        wall_a, wall_c = min(walls_a), min(walls_c)

        limit = args.per_snippet_limit
        n = len(units) if limit <= 0 or limit >= len(units) else limit
        picks = sorted({round(k * (len(units) - 1) / max(1, n - 1)) for k in range(n)})
        wall_b_part, single = per_snippet(cmd, units, picks, root / "each")
        wall_b = wall_b_part * len(units) / len(picks)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print("\n== wall time ==")
    print(
        f"(a) StaticAnalysis batched   : {wall_a:8.1f} s  ({processes_a} semgrep process, "
        f"{len(scanned)} files in the pack's languages; best of {len(walls_a)})"
    )
    if len(picks) < len(units):
        print(
            f"(b) one process per snippet  : {wall_b:8.1f} s  EXTRAPOLATED from {len(picks)} "
            f"snippets timed ({wall_b_part:.1f} s, {wall_b_part / len(picks):.2f} s each)"
        )
    else:
        print(f"(b) one process per snippet  : {wall_b:8.1f} s  (all {len(picks)} measured)")
    print(f"(c) raw semgrep, one process : {wall_c:8.1f} s  (same files; best of {len(walls_c)})")
    print(f"b/a = {wall_b / wall_a:6.1f}x  (target >= 20x)")
    print(f"a/c = {wall_a / wall_c:6.2f}x  (target <= 1.3x)")

    batched = {i: len(results[i].findings) for i in picks}
    raw_counts = Counter(int(Path(r["path"]).stem[1:]) for r in raw.get("results", []))
    same_b = sum(batched[i] == single[i] for i in picks)
    same_c = sum(len(r.findings) == raw_counts.get(i, 0) for i, r in enumerate(results))
    print(
        f"consistency: (a) = (b) on {same_b}/{len(picks)} snippets, (a) = (c) on "
        f"{same_c}/{len(results)} (finding counts)"
    )

    print("\n== detection rate: snippets with >= 1 finding (same CWE as the label) ==")
    detected = [bool(r.findings) for r in results]
    same_cwe = [
        any(normalize_cwe(rec["cwe_identifier"]) in f.cwe for f in r.findings)
        for rec, r in zip(records, results)
    ]
    print(f"overall      {rate(detected)}  same CWE {rate(same_cwe)}")
    by_lang: dict[str, list[int]] = defaultdict(list)
    by_cwe: dict[str, list[int]] = defaultdict(list)
    for i, rec in enumerate(records):
        by_lang[normalize_language(rec["language"])].append(i)
        by_cwe[rec["cwe_identifier"]].append(i)
    for lang, idx in sorted(by_lang.items(), key=lambda kv: -len(kv[1])):
        print(
            f"{lang:12} {rate([detected[i] for i in idx])}  "
            f"same CWE {rate([same_cwe[i] for i in idx])}"
        )
    print()
    for cwe, idx in sorted(by_cwe.items(), key=lambda kv: -len(kv[1]))[: args.top_cwes]:
        print(
            f"{cwe:12} {rate([detected[i] for i in idx])}  "
            f"same CWE {rate([same_cwe[i] for i in idx])}"
        )


if __name__ == "__main__":
    main()
