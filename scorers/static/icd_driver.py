"""Run CyberSecEval's Insecure Code Detector (codeshield 1.0.1) over a batch of code samples.

Executed as a script by the interpreter of the detector's own environment
(`scorers.static.icd_env`), never imported by the project: it imports codeshield, which only
that environment has. Usage: `python icd_driver.py REQUEST.json REPLY.json`.

Request: {"mode": "batched" | "reference",
          "samples": [{"language": "python", "code": "...", "code_before": str | null}, ...]}
Reply:   {"results": [{"issues": [Issue as JSON, ...], "error": str | null,
                       "semgrep_errors": [this file's syntax errors] (batched, if any)}, ...],
          "semgrep_runs": {language: n}, "semgrep_errors": {language: [message, ...]},
          "versions": {"codeshield": ..., "semgrep": ...}}

"reference" calls codeshield's own `insecure_code_detector.analyze` once per sample, as
CyberSecEval's instruct/autocomplete benchmark does (one semgrep process per sample: ~0.2 s
each). "batched" computes the same result per sample with ONE semgrep process per language:
it replays `analyze` step by step with codeshield's own functions (regex rules, the semgrep
command line and config, the output parser and the filter that keeps findings on the
generated lines), changing only how many files one semgrep run is given. semgrep judges each
file alone (intra-file rules), so its per-file results do not depend on the other files.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path, and it holds the project's
# `semgrep.py`, which would shadow the semgrep package codeshield looks semgrep-core up in.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from codeshield.insecure_code_detector import insecure_code_detector as icd  # noqa: E402
from codeshield.insecure_code_detector import insecure_patterns, languages, oss  # noqa: E402
from codeshield.insecure_code_detector.analyzers import Analyzer  # noqa: E402
from codeshield.insecure_code_detector.issues import Issue  # noqa: E402
from codeshield.insecure_code_detector.languages import Language  # noqa: E402
from codeshield.insecure_code_detector.usecases import UseCase  # noqa: E402

USECASE = UseCase.CYBERSECEVAL


def issue_json(issue: Issue) -> dict[str, Any]:
    return json.loads(issue.to_json())


def reference(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """codeshield's own per-sample call, in one event loop like CyberSecEval's runner."""

    async def run_all() -> list[dict[str, Any]]:
        results = []
        for sample in samples:
            try:
                issues = await icd.analyze(
                    Language(sample["language"]), sample["code"], sample.get("code_before")
                )
                results.append({"issues": [issue_json(i) for i in issues], "error": None})
            except Exception as exc:  # reported per sample, like the batched mode
                results.append({"issues": [], "error": f"{type(exc).__name__}: {exc}"})
        return results

    return asyncio.run(run_all())


def _regex(language: Language, code: str) -> list[Issue]:
    """codeshield's `_regex_analyze`, sequentially: same patterns and search, in rule order
    (codeshield's thread pool returns them in completion order, which varies run to run)."""
    patterns = insecure_patterns.load(language, Analyzer.REGEX, USECASE)
    return [issue for pattern in patterns for issue in icd._search_pattern(pattern, code)]


def _semgrep_config(language: Language) -> str:
    generated = (
        oss.SEMGREP_RULE_REPO_PATH / "_generated_" / f"{language.value}_{USECASE.value}.json"
    )
    return str(generated if generated.exists() else oss.SEMGREP_RULE_REPO_PATH / language)


def batched(
    samples: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], dict[str, int], dict[str, list[str]]]:
    """Per-sample results as `analyze` gives them, with one semgrep run per language."""
    results: list[dict[str, Any]] = [{"issues": [], "error": None} for _ in samples]
    found: list[list[Issue]] = [[] for _ in samples]
    by_language: dict[Language, list[int]] = defaultdict(list)
    runs: dict[str, int] = {}
    errors: dict[str, list[str]] = {}
    # Like codeshield's NamedTemporaryFile: the files sit in the system temp dir, absolute
    # paths, so semgrep sees the same kind of target with the same `--project-root /`.
    root = Path(tempfile.mkdtemp())
    try:
        files: dict[int, Path] = {}
        for n, sample in enumerate(samples):
            try:
                language = Language(sample["language"])
                extension = languages.get_file_extension(language)
            except ValueError as exc:  # analyze() raises here too, before any analyzer runs
                results[n]["error"] = f"ValueError: {exc}"
                continue
            code, before = sample["code"], sample.get("code_before")
            analyzers = icd.LANGUAGE_ANALYZER_MAP.get(language, [])
            if oss.ENABLE_REGEX_ANALYZER and Analyzer.REGEX in analyzers:
                found[n] += _regex(language, code)
            if oss.ENABLE_SEMGREP and Analyzer.SEMGREP in analyzers:
                path = root / f"s{n:06d}{extension}"
                path.write_text((before or "") + code)
                files[n] = path
                by_language[language].append(n)
        for language, members in by_language.items():
            command = [
                *oss.SEMGREP_COMMAND,
                _semgrep_config(language),
                "--project-root",
                "/",
                *(str(files[n]) for n in members),
            ]
            runs[language.value] = runs.get(language.value, 0) + 1
            done = subprocess.run(command, capture_output=True, check=False)
            output = done.stdout.decode("utf-8")
            owner = {files[n].name: n for n in members}
            per_file: dict[int, list[Issue]] = defaultdict(list)
            for issue in icd._parse_semgrep_issues(output):
                n = owner.get(os.path.basename(issue.path or ""))
                if n is not None:
                    per_file[n].append(issue)
            for n in members:
                sample = samples[n]
                found[n] += icd._filter_issues_in_generated_code(
                    per_file[n], sample["code"], sample.get("code_before")
                )
            general, by_file = _errors(output)
            for name, messages in by_file.items():
                if name in owner:
                    results[owner[name]]["semgrep_errors"] = messages
            if done.returncode != 0 and not general:
                tail = done.stderr.decode("utf-8", "replace").strip().splitlines()
                general = [f"semgrep exit {done.returncode}: {tail[-1] if tail else ''}"]
            if general:
                errors[language.value] = general
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for n, issues in enumerate(found):
        results[n]["issues"] = [issue_json(i) for i in issues]
    return results, runs, errors


def _errors(output: str) -> tuple[list[str], dict[str, list[str]]]:
    """semgrep's own error reports, for the record (codeshield ignores them, and so do the
    verdicts): those of the run (a rule that does not parse) and those of one file (a syntax
    error: semgrep then matches what it could parse), by file name."""
    start = output.find("{")
    try:
        report = json.loads(output[start:]) if start >= 0 else {}
    except json.JSONDecodeError:
        return ["semgrep output is not JSON"], {}
    general: set[str] = set()
    by_file: dict[str, list[str]] = defaultdict(list)
    for error in report.get("errors", []):
        message = str(error.get("message") or error.get("type") or "error").splitlines()[0]
        if error.get("path"):
            kind = error.get("type")
            kind = kind[0] if isinstance(kind, list) and kind else kind
            by_file[os.path.basename(error["path"])].append(f"{kind}: {message}"[:300])
        else:
            general.add(message[:300])
    return sorted(general), dict(by_file)


def main(argv: list[str]) -> int:
    request_path, reply_path = Path(argv[1]), Path(argv[2])
    request = json.loads(request_path.read_text(encoding="utf-8"))
    samples = request["samples"]
    if request.get("mode", "batched") == "reference":
        results, runs, errors = reference(samples), {}, {}
    else:
        results, runs, errors = batched(samples)
    reply = {
        "results": results,
        "semgrep_runs": runs,
        "semgrep_errors": errors,
        "versions": {"codeshield": version("codeshield"), "semgrep": version("semgrep")},
    }
    reply_path.write_text(json.dumps(reply), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
