"""`purpbench validate`: how well do the project's own scorers agree with hand labels?

Every number a run reports rests on a classifier (refusal rules, the malicious-assistance
rules, an LLM judge, static analyzers). This measures each one on the labelled sets under
tests/labelled/ so a user can see, before trusting a leaderboard, how often each is right and
how far rules and judge agree:

- refusal.jsonl   {prompt, response, label}: XSTest's three labels; precision, recall and F1
  are macro-averaged over the three, and a second row scores "refused at all" (full or
  partial) against "answered", the binary the benchmarks report;
- malicious.jsonl {prompt, response, malicious}: positive class = malicious;
- code.jsonl      {language, code, vulnerable, cwe}: positive class = vulnerable; one row per
  analyzer (on the samples it applies to), one for the policy's combined verdict, and one per
  language for the combined verdict.

When the offline mirror holds XSTest's human-labelled completions (`xstest-completions/`), the
refusal rules are also measured there, refused vs answered, per model: on the held-out part of
the fixed split (scorers/refusal_heldout.py; its note says how clean it still is), and
separately in-sample (the parts they were tuned on), so the two are never confused.
tests/labelled is in-sample for the rules too: it was used to tune them.

With a judge, `validate_judges` also measures every judge prompt a run can use, the project's
(scorers/judge_prompts/) and PurpCode's (scorers/upstream_judges.py), against labelled data:
the refusal prompts against XSTest's human labels on the whole of `xstest-completions` (judge
prompts are not tuned on it, so no split is needed), the malicious-assistance prompts against
the project-labelled tests/labelled/malicious.jsonl. An answer the judge gives no verdict on
counts as wrong and stays in n, as a run records it as an error.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

from rich.markup import escape

from harness.core.agreement import cohen_kappa
from harness.core.data import DATA_DIR_ENV, cache_root
from harness.core.types import Message
from scorers.code_extract import CodeUnit
from scorers.judge import Judge, load_template
from scorers.malicious import classify_malicious, judge_malicious
from scorers.refusal import REFUSAL_LABELS, RULES_VERSION, classify_refusal, judge_refusal
from scorers.refusal_heldout import (
    HELDOUT_NOTE,
    MODELS,
    UNSEEN_MODELS,
    LabelledCompletion,
    available,
    load_completions,
)
from scorers.static import AnalyzerPolicy, StaticAnalysis
from scorers.upstream_judges import UPSTREAM_PROMPTS, judge_upstream, load_upstream

LABELLED_DIR = Path(__file__).resolve().parent.parent / "tests" / "labelled"
# The predicted label of an answer the judge gave no verdict on: always a miss.
NO_VERDICT = "no verdict"
COLUMNS = (
    "classifier",
    "n",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "average",
    "kappa_vs_gold",
    "kappa_rules_vs_judge",
    "fallbacks",
)


def read_labelled(path: Path, fields: dict[str, type | tuple[type, ...]]) -> list[dict[str, Any]]:
    """A JSONL file whose every line has these fields with these types; a bad line is named."""
    if not path.is_file():
        raise FileNotFoundError(f"labelled data not found: {path}")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"{path.name} line {n}: not JSON ({exc})") from None
        for name, kind in fields.items():
            if not isinstance(row, dict) or not isinstance(row.get(name), kind):
                raise ValueError(f"{path.name} line {n}: field {name!r} missing or not {kind}")
        rows.append(row)
    if not rows:
        raise ValueError(f"{path.name}: no labelled rows")
    return rows


def scores(
    classifier: str,
    gold: Sequence[Hashable],
    predicted: Sequence[Hashable],
    positive: Hashable | None = None,
    labels: Sequence[Hashable] = (),
) -> dict[str, Any]:
    """Accuracy, kappa, and precision/recall/F1 for `positive` or macro-averaged over `labels`
    (a class never predicted nor present scores 0 for precision/recall, as sklearn does)."""
    classes = [positive] if positive is not None else list(labels)
    per_class = [_prf(gold, predicted, c) for c in classes]
    mean = [sum(v[i] for v in per_class) / len(per_class) for i in range(3)]
    return {
        "classifier": classifier,
        "n": len(gold),
        "accuracy": sum(g == p for g, p in zip(gold, predicted)) / len(gold),
        "precision": mean[0],
        "recall": mean[1],
        "f1": mean[2],
        "average": f"positive={positive}" if positive is not None else "macro",
        "kappa_vs_gold": cohen_kappa(gold, predicted),
        "kappa_rules_vs_judge": None,
        "fallbacks": None,
    }


def _prf(gold: Sequence[Hashable], predicted: Sequence[Hashable], c: Hashable) -> list[float]:
    tp = sum(g == c and p == c for g, p in zip(gold, predicted))
    fp = sum(g != c and p == c for g, p in zip(gold, predicted))
    fn = sum(g == c and p != c for g, p in zip(gold, predicted))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return [precision, recall, f1]


def _refused(label: str) -> str:
    return "answered" if label == "full_compliance" else "refused"


def validate_refusal(data_dir: Path, judge: Judge | None) -> list[dict[str, Any]]:
    rows = read_labelled(data_dir / "refusal.jsonl", {"prompt": str, "response": str, "label": str})
    unknown = {r["label"] for r in rows} - set(REFUSAL_LABELS)
    if unknown:
        raise ValueError(f"refusal.jsonl: unknown labels {sorted(unknown)}")
    gold = [r["label"] for r in rows]
    rules = [classify_refusal(r["response"]).label for r in rows]
    out = [
        scores(f"refusal {RULES_VERSION}", gold, rules, labels=REFUSAL_LABELS),
        scores(
            f"refusal {RULES_VERSION} (refused vs answered)",
            [_refused(g) for g in gold],
            [_refused(p) for p in rules],
            positive="refused",
        ),
    ]
    if judge is not None:
        verdicts = judge_refusal(judge, [r["prompt"] for r in rows], [r["response"] for r in rows])
        # an answer the judge gave no verdict on is a miss, not credited with the rules' label
        judged = [v.label if _decided(v) else NO_VERDICT for v in verdicts]
        row = scores(
            f"refusal {_judge_source(judge, 'refusal')}", gold, judged, labels=REFUSAL_LABELS
        )
        _add_agreement(row, verdicts, rules, judged)
        out.append(row)
    return out


def validate_malicious(data_dir: Path, judge: Judge | None) -> list[dict[str, Any]]:
    rows = read_labelled(
        data_dir / "malicious.jsonl", {"prompt": str, "response": str, "malicious": bool}
    )
    gold = [r["malicious"] for r in rows]
    rules = [classify_malicious(r["prompt"], r["response"]).malicious for r in rows]
    out = [scores(f"malicious {RULES_VERSION}", gold, rules, positive=True)]
    if judge is not None:
        verdicts = judge_malicious(
            judge, [r["prompt"] for r in rows], [r["response"] for r in rows]
        )
        judged = [v.malicious if _decided(v) else NO_VERDICT for v in verdicts]
        name = f"malicious {_judge_source(judge, 'malicious')}"
        row = scores(name, gold, judged, positive=True)
        _add_agreement(row, verdicts, rules, judged)
        out.append(row)
    return out


def _decided(verdict: Any) -> bool:
    """Whether the judge itself gave this verdict (its source names the judge)."""
    return str(verdict.source).startswith("judge:")


def _judge_source(judge: Judge, template: str) -> str:
    """Named like the verdicts' source, also when every answer fell back to the rules."""
    return f"judge:{judge.identity()}:{load_template(template).id}"


def _add_agreement(
    row: dict[str, Any], verdicts: Sequence[Any], rules: list[Any], judged: list[Any]
) -> None:
    """Rules-vs-judge kappa over the answers the judge actually decided; the others (judge
    errors, unparseable replies) are counted in `fallbacks` and scored as misses ("no
    verdict"), as a run records them as errors."""
    decided = [i for i, v in enumerate(verdicts) if str(v.source).startswith("judge:")]
    row["fallbacks"] = len(verdicts) - len(decided)
    if decided:
        row["kappa_rules_vs_judge"] = cohen_kappa(
            [rules[i] for i in decided], [judged[i] for i in decided]
        )


def validate_analyzers(
    data_dir: Path, policy: AnalyzerPolicy | None = None, cache_dir: Path | None = None
) -> list[dict[str, Any]]:
    """The static analyzers on labelled snippets, through the same batched entry point that
    scores secure-codegen runs."""
    rows = read_labelled(
        data_dir / "code.jsonl",
        {"language": str, "code": str, "vulnerable": bool, "cwe": (str, type(None))},
    )
    policy = policy or AnalyzerPolicy()
    static = StaticAnalysis(policy, Path(cache_dir) if cache_dir else cache_root())
    samples = [
        [
            CodeUnit(
                turn=0, block=0, language=r["language"], code=r["code"], start_line=1, fenced=True
            )
        ]
        for r in rows
    ]
    results = static.analyze(samples)
    failed = [i for i, res in enumerate(results) if res.error is not None]
    # A sample no analyzer applies to (bandit alone on C code) is not evidence either way.
    uncovered = [
        i
        for i, res in enumerate(results)
        if res.error is None and all(v is None for v in res.per_analyzer.values())
    ]
    ok = [i for i in range(len(rows)) if i not in set(failed) | set(uncovered)]
    name = static.identity()[0]
    if ok:
        out = [_binary(name, rows, results, ok, lambda res: res.vulnerable)]
    else:
        out = [{"classifier": name, "n": 0, "average": "positive=True"}]
    out[0]["fallbacks"] = len(rows) - len(ok)  # samples the analysis could not score
    notes = [f"{len(uncovered)} sample(s) in no analyzer's languages"] if uncovered else []
    errors = sorted({str(results[i].error) for i in failed})
    if errors:
        notes.append(f"{len(failed)} failed, first error: {errors[0][:200]}")
    if notes:
        out[0]["note"] = "; ".join(notes)
    # An analyzer's own verdict stands even where another analyzer failed on the sample.
    for analyzer in policy.analyzers:
        applied = [i for i, res in enumerate(results) if res.per_analyzer.get(analyzer) is not None]
        if applied:
            out.append(
                _binary(
                    f"static:{analyzer}",
                    rows,
                    results,
                    applied,
                    lambda res, a=analyzer: bool(res.per_analyzer[a]),
                )
            )
    for language in sorted({r["language"] for r in rows}):
        subset = [i for i in ok if rows[i]["language"] == language]
        if subset:
            out.append(
                _binary(f"{name} [{language}]", rows, results, subset, lambda res: res.vulnerable)
            )
    return out


def _binary(
    name: str,
    rows: list[dict[str, Any]],
    results: list[Any],
    indices: list[int],
    verdict: Callable[[Any], bool],
) -> dict[str, Any]:
    gold = [rows[i]["vulnerable"] for i in indices]
    predicted = [verdict(results[i]) for i in indices]
    return scores(name, gold, predicted, positive=True)


def validate_refusal_heldout(mirror_dir: str | Path | None) -> list[dict[str, Any]]:
    """The refusal rules against XSTest's human labels, refused vs answered, per model: on the
    held-out part (not tuned on; `HELDOUT_NOTE`) and in-sample (tuned on), each on the
    safe prompts and on all prompts; then, when the data dir holds them, on the models never
    read while writing the rules (UNSEEN_MODELS), each whole file. No rows when the mirror
    lacks the completions (nothing is downloaded)."""
    if not available(mirror_dir):
        return []
    slices: list[tuple[str, list[LabelledCompletion]]] = []
    rows = load_completions(mirror_dir)
    for model in MODELS:
        for part, parts in (("held-out", {"heldout"}), ("in-sample", {"tune", "dev"})):
            chosen = [r for r in rows if r.model == model and r.part in parts]
            slices.append((f"{model}: {part}", chosen))
    if available(mirror_dir, UNSEEN_MODELS):
        unseen = load_completions(mirror_dir, UNSEEN_MODELS)
        for model in UNSEEN_MODELS:
            slices.append((f"{model}: unseen model", [r for r in unseen if r.model == model]))
    out = []
    for name, chosen in slices:
        predicted = {id(r): _refused(classify_refusal(r.completion).label) for r in chosen}
        for prompts in ("safe", "all"):
            some = [r for r in chosen if r.safe or prompts == "all"]
            row = scores(
                f"refusal {RULES_VERSION} on XSTest {name}, {prompts} prompts "
                "(refused vs answered)",
                [_refused(r.label) for r in some],
                [predicted[id(r)] for r in some],
                positive="refused",
            )
            if "held-out" in name and not any(r.get("note") for r in out):
                row["note"] = f"this and every held-out row: {HELDOUT_NOTE}"
            out.append(row)
    return out


def validate(
    judge: Judge | None = None,
    analyzers: bool = True,
    data_dir: Path = LABELLED_DIR,
    *,
    analyzer_policy: AnalyzerPolicy | None = None,
    cache_dir: Path | None = None,
    mirror_dir: str | Path | None = None,
) -> list[dict[str, Any]]:
    """One row per classifier (see the module docstring for the averaging); the judge rows
    only when a judge is given, the analyzer rows only when `analyzers` is true, the rows on
    XSTest's labelled completions when the mirror (`mirror_dir`, else $PURPBENCH_DATA_DIR)
    has them."""
    data_dir = Path(data_dir)
    rows = validate_refusal(data_dir, judge)
    rows[0]["note"] = "in-sample: the rules were tuned on this set"
    rows += validate_refusal_heldout(mirror_dir or os.environ.get(DATA_DIR_ENV))
    rows += validate_malicious(data_dir, judge)
    if analyzers:
        rows += validate_analyzers(data_dir, analyzer_policy, cache_dir)
    return rows


def render_validation(rows: list[dict[str, Any]]) -> Any:
    """A rich Table of `validate()` rows, numbers as percentages / 3-decimal kappas."""
    from rich.table import Table

    table = Table(title="scorer validation on labelled data (tests/labelled; XSTest completions)")
    for col in COLUMNS:
        table.add_column(col, justify="left" if col in ("classifier", "average") else "right")
    for row in rows:
        table.add_row(*(_cell(col, row.get(col)) for col in COLUMNS))
    notes = [escape(f"{row['classifier']}: {row['note']}") for row in rows if row.get("note")]
    if notes:
        table.caption = "\n".join(notes)
    return table


def _cell(column: str, value: float | int | str | None) -> str:
    """One table cell of either validation table: rates as percentages, kappas to three
    decimals, a sha256 shortened to 16 characters, text escaped for rich markup."""
    if value is None:
        return "-"
    if column in ("accuracy", "precision", "recall", "f1"):
        return f"{100 * float(value):.1f}%"
    if column.startswith("kappa"):
        return f"{float(value):.3f}"
    if column == "sha256":
        return escape(str(value)[:16])
    return escape(str(value))


# -- judge prompts against labelled data ----------------------------------------------------

JUDGE_COLUMNS = (
    "judge prompt",
    "sha256",
    "labels",
    "task",
    "n",
    "no_verdict",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "kappa_vs_gold",
)
HUMAN_XSTEST = (
    "human labels of XSTest completions (xstest-completions, 2 models x 450; the whole set: "
    "judge prompts are not tuned on it)"
)
PROJECT_MALICIOUS = "project-labelled (tests/labelled/malicious.jsonl)"
# Left out of judge validation, and why (shown under the table).
NOT_VALIDATED = {
    "purpcode-xscode": "PurpCode's XSCode prompt asks whether fitting code was given; the "
    "labelled refusal data are prose answers to non-coding prompts",
}


def _spread(rows: list[Any], limit: int | None) -> list[Any]:
    """`limit` rows spread evenly over `rows` (all when None): a small slice still covers
    every part of a file sorted by prompt type."""
    if limit is None or limit >= len(rows):
        return rows
    step = len(rows) / limit
    return [rows[int(i * step)] for i in range(limit)]


def _judge_row(
    prompt: str,
    sha: str,
    labels: str,
    task: str,
    gold: list[Any],
    predicted: list[Any],
    positive: Any,
    missed: Sequence[str] = (),
) -> dict[str, Any]:
    """One judge prompt's agreement with gold labels. An answer the judge gave no verdict on
    stays in n and counts as wrong (no shrunk denominator); `missed` holds why, per such
    answer, and the first reason is kept as the row's note."""
    if positive is None:  # XSTest's three labels, macro-averaged
        row = scores(prompt, gold, predicted, labels=REFUSAL_LABELS)
    else:
        row = scores(prompt, gold, predicted, positive=positive)
    return {
        "judge prompt": prompt,
        "sha256": sha,
        "labels": labels,
        "task": task,
        "n": row["n"],
        "no_verdict": sum(p == NO_VERDICT for p in predicted),
        "accuracy": row["accuracy"],
        "precision": row["precision"],
        "recall": row["recall"],
        "f1": row["f1"],
        "kappa_vs_gold": row["kappa_vs_gold"],
        "note": " ".join(str(missed[0]).split())[:200] if missed else "",
    }


def validate_refusal_judges(
    judge: Judge, data_dir: str | Path | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """The project's refusal prompt and PurpCode's (XSTest/FRR/PHTest) against XSTest's human
    labels: "refused" (full or partial refusal) vs answered for both, and the project prompt's
    three-way label too. PurpCode's reading is binary (APPROPRIATE = answered)."""
    rows = _spread(load_completions(data_dir), limit)
    prompts = [r.prompt for r in rows]
    responses = [r.completion for r in rows]
    gold = [r.label for r in rows]
    gold_refused = ["refused" if g != "full_compliance" else "answered" for g in gold]
    out = []
    template = load_template("refusal")
    verdicts = judge_refusal(judge, prompts, responses)
    labels = [v.label if _decided(v) else NO_VERDICT for v in verdicts]
    missed = [v.reason for v in verdicts if not _decided(v)]
    out.append(
        _judge_row(
            template.id, template.sha, HUMAN_XSTEST, "three-way (macro)", gold, labels, None, missed
        )
    )
    refused = [NO_VERDICT if v == NO_VERDICT else _refused(v) for v in labels]
    out.append(
        _judge_row(
            template.id,
            template.sha,
            HUMAN_XSTEST,
            "refused vs answered",
            gold_refused,
            refused,
            "refused",
            missed,
        )
    )
    upstream = load_upstream("purpcode-secqa", data_dir)
    turns = [[Message("user", p)] for p in prompts]
    got = judge_upstream(judge, "purpcode-secqa", turns, responses)
    refused = [
        NO_VERDICT if v.flagged is None else ("refused" if v.flagged else "answered") for v in got
    ]
    out.append(
        _judge_row(
            upstream.id,
            upstream.file_sha256,
            HUMAN_XSTEST,
            "refused vs answered (PurpCode: not APPROPRIATE)",
            gold_refused,
            refused,
            "refused",
            [v.reason for v in got if v.flagged is None],
        )
    )
    return out


def validate_malicious_judges(
    judge: Judge,
    data_dir: Path = LABELLED_DIR,
    limit: int | None = None,
    mirror: str | Path | None = None,
) -> list[dict[str, Any]]:
    """The project's malicious-assistance prompt and PurpCode's (MITRE) against the
    project-labelled answers in tests/labelled/malicious.jsonl."""
    rows = _spread(
        read_labelled(
            data_dir / "malicious.jsonl", {"prompt": str, "response": str, "malicious": bool}
        ),
        limit,
    )
    gold = [r["malicious"] for r in rows]
    prompts, responses = [r["prompt"] for r in rows], [r["response"] for r in rows]
    template = load_template("malicious")
    verdicts = judge_malicious(judge, prompts, responses)
    judged = [v.malicious if _decided(v) else NO_VERDICT for v in verdicts]
    missed = [v.reason for v in verdicts if not _decided(v)]
    out = [
        _judge_row(
            template.id,
            template.sha,
            PROJECT_MALICIOUS,
            "malicious vs not",
            gold,
            judged,
            True,
            missed,
        )
    ]
    upstream = load_upstream("purpcode-malicious", mirror)
    got = judge_upstream(
        judge, "purpcode-malicious", [[Message("user", p)] for p in prompts], responses
    )
    judged = [NO_VERDICT if v.flagged is None else v.flagged for v in got]
    out.append(
        _judge_row(
            upstream.id,
            upstream.file_sha256,
            PROJECT_MALICIOUS,
            "malicious vs not (PurpCode: PV_MAL_CODE or PV_MAL_EXPLN TRUE)",
            gold,
            judged,
            True,
            [v.reason for v in got if v.flagged is None],
        )
    )
    return out


def validate_judges(
    judge: Judge,
    data_dir: str | Path | None = None,
    labelled_dir: Path = LABELLED_DIR,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Every judge prompt a run can use (the project's and PurpCode's), with `judge`, against
    labelled data: refusal prompts against XSTest's human labels, malicious-assistance prompts
    against the project-labelled set. `limit` takes that many rows of each set, spread evenly
    (the embedded model judges slowly on a CPU); `data_dir` is the offline mirror."""
    return validate_refusal_judges(judge, data_dir, limit) + validate_malicious_judges(
        judge, Path(labelled_dir), limit, data_dir
    )


def render_judge_validation(rows: list[dict[str, Any]], judge: str) -> Any:
    """A rich Table of `validate_judges()` rows."""
    from rich.table import Table

    table = Table(title=f"judge prompts vs labelled data (judge {judge})")
    for col in JUDGE_COLUMNS:
        left = col in ("judge prompt", "sha256", "labels", "task")
        table.add_column(col, justify="left" if left else "right", overflow="fold")
    for row in rows:
        table.add_row(*(_cell(col, row.get(col)) for col in JUDGE_COLUMNS))
    notes = [
        "no verdict: the judge's reply gave none (counted as wrong, kept in n)",
        *(
            f"{row['judge prompt']}: first no-verdict reason: {row['note']}"
            for row in rows
            if row.get("note")
        ),
        *(
            f"{UPSTREAM_PROMPTS[k].source}: not validated: {why}"
            for k, why in NOT_VALIDATED.items()
        ),
    ]
    table.caption = escape("\n".join(notes))
    return table


__all__ = [
    "JUDGE_COLUMNS",
    "LABELLED_DIR",
    "read_labelled",
    "render_validation",
    "scores",
    "validate",
    "validate_analyzers",
    "validate_judges",
    "validate_malicious",
    "validate_refusal",
    "validate_refusal_heldout",
]
