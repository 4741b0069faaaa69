"""`purpbench` command line: run, list, setup, show, validate, gate, leaderboard, train."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.exceptions import TyperException

from harness.core.data import DATA_DIR_ENV, DataUnavailable
from harness.core.exit_codes import ExitCode
from harness.core.fidelity import APPROXIMATE_MARK, NOT_DECLARED, Fidelity, fidelity_from
from harness.core.metrics import parse_definition

if TYPE_CHECKING:  # the runner is imported when a run starts, not for --help
    from harness.config import RunConfig
    from harness.runner import ReplayReport, RunOutcome

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Evaluate LLMs on safe code generation: secure code, refusal, utility.",
)
# Pipes and CI logs get wide tables instead of rich's 80-column default, so nothing is cut.
console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
out = Console(width=None if sys.stdout.isatty() else 160)


def _fail(message: str, code: int = ExitCode.BAD_INPUT) -> NoReturn:
    # escaped: a message quoting a YAML line or a path with [brackets] is not rich markup
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(int(code))


@app.command()
def run(
    model: Annotated[
        str | None, typer.Option(help="Model name, HF id or path; omit for the embedded default")
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            help="embedded | openai | vllm | hf | replay "
            "(default: embedded without --model, else openai)"
        ),
    ] = None,
    benchmarks: Annotated[
        str | None, typer.Option(help="Comma-separated benchmarks or suites (see `purpbench list`)")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="First N samples of each benchmark")] = None,
    n_samples: Annotated[
        int | None, typer.Option(help="Generations per sample (pass@k for k <= n)")
    ] = None,
    temperature: Annotated[
        float | None, typer.Option(help="Sampling temperature (default 0)")
    ] = None,
    top_p: Annotated[float | None, typer.Option(help="Nucleus sampling (default 1)")] = None,
    max_tokens: Annotated[
        int | None, typer.Option(help="Max new tokens (default: per benchmark)")
    ] = None,
    answer_budget: Annotated[
        int | None,
        typer.Option(help="PurpCode's answer token budget; max new tokens = N + 1024"),
    ] = None,
    system_prompt: Annotated[
        str | None,
        typer.Option(
            help="File whose text is the system prompt; `none`; `purpcode` (PurpCode's prompt "
            "for general models) or `purpcode-full`, from the pinned upstream file"
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed; sample i uses seed + i")] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Requests in flight (API backends)")
    ] = None,
    data_dir: Annotated[
        str | None, typer.Option(envvar=DATA_DIR_ENV, help="Offline dataset mirror")
    ] = None,
    output: Annotated[
        str | None, typer.Option(help="Results directory (default ./results)")
    ] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible server URL")] = None,
    api_key_env: Annotated[str | None, typer.Option(help="Env var that holds the API key")] = None,
    prompt_format: Annotated[str | None, typer.Option(help="auto | chat | completion")] = None,
    replay_file: Annotated[str | None, typer.Option(help="JSONL of precomputed responses")] = None,
    allow_unmatched: Annotated[
        bool | None,
        typer.Option(
            "--allow-unmatched",
            help="Replay: ignore lines naming benchmarks or sample ids that do not exist "
            "(counted in one line) instead of refusing the file",
        ),
    ] = None,
    sandbox_workers: Annotated[
        int | None, typer.Option(help="Parallel sandboxed programs (default: nproc)")
    ] = None,
    allow_weak_isolation: Annotated[
        bool | None,
        typer.Option(
            "--allow-weak-isolation",
            help="Run generated code even without full sandbox isolation (no bwrap or no "
            "namespaces: network and host files NOT isolated); refused otherwise",
        ),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="Backend option KEY=VALUE (repeatable)"),
    ] = None,
    request_timeout: Annotated[
        float | None,
        typer.Option(
            metavar="SECONDS",
            help="Seconds one request to the server may take (openai backend; default 600)",
        ),
    ] = None,
    max_retries: Annotated[
        int | None,
        typer.Option(metavar="N", help="Retries of a failed request (openai backend; default 6)"),
    ] = None,
    max_error_rate: Annotated[
        float | None,
        typer.Option(
            metavar="RATE",
            help="Exit 4 when a benchmark's share of error rows is above RATE (0-1), one line "
            "per benchmark; results are written all the same",
        ),
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option(
            help="Protocol preset: purpcode (PurpCode's eval code: greedy, 8192+1024 tokens, its "
            "system prompt, trimming and oracles)"
        ),
    ] = None,
    approximate: Annotated[
        bool | None,
        typer.Option(
            "--approximate",
            help="Under a preset: score columns whose reference oracle is missing (no judge, "
            "no CodeQL) with the project's, marked approximate, instead of refusing",
        ),
    ] = None,
    analyzers: Annotated[
        str | None,
        typer.Option(help="Static analyzers for secure code (default semgrep,bandit,codeql)"),
    ] = None,
    min_severity: Annotated[
        str | None,
        typer.Option(help="Lowest finding severity that makes code insecure (default medium)"),
    ] = None,
    analyzer_combine: Annotated[
        str | None,
        typer.Option(help="any | majority: how analyzers' verdicts combine (default any)"),
    ] = None,
    judge_model: Annotated[
        str | None, typer.Option(help="LLM judge model for refusal / malicious-assistance")
    ] = None,
    judge_backend: Annotated[
        str | None, typer.Option(help="Backend of the judge (default openai, or embedded)")
    ] = None,
    judge_base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server URL of the judge")
    ] = None,
    judge_api_key_env: Annotated[
        str | None, typer.Option(help="Env var holding the judge's API key")
    ] = None,
    no_wait: Annotated[
        bool,
        typer.Option(
            "--no-wait",
            help="If another process is writing the same run, exit (one line naming it) "
            "instead of waiting for it",
        ),
    ] = False,
    config: Annotated[
        str | None, typer.Option(help="YAML file with the same keys as these flags")
    ] = None,
) -> None:
    """Run benchmarks on a model and write Parquet results (resumes an interrupted run)."""
    from harness.backends import BackendError
    from harness.config import ConfigError, ProtocolRefusal, load_config
    from harness.results import RunBusy, SchemaMismatch, StoreError
    from harness.runner import Progress as RunnerProgress
    from harness.runner import Runner

    overrides: dict[str, Any] = {
        "model": model,
        "backend": backend,
        "benchmarks": benchmarks,
        "limit": limit,
        "n_samples": n_samples,
        "temperature": temperature,
        "top_p": top_p,
        "max_tokens": max_tokens,
        "answer_budget": answer_budget,
        "system_prompt": system_prompt,
        "seed": seed,
        "concurrency": concurrency,
        "data_dir": data_dir,
        "output": output,
        "base_url": base_url,
        "api_key_env": api_key_env,
        "prompt_format": prompt_format,
        "replay_file": replay_file,
        "allow_unmatched": allow_unmatched,
        "sandbox_workers": sandbox_workers,
        "allow_weak_isolation": allow_weak_isolation,
        "preset": preset,
        "approximate": approximate,
        "analyzers": analyzers,
        "min_severity": min_severity,
        "analyzer_combine": analyzer_combine,
        "judge_model": judge_model,
        "judge_backend": judge_backend,
        "judge_base_url": judge_base_url,
        "judge_api_key_env": judge_api_key_env,
        "request_timeout": request_timeout,
        "max_retries": max_retries,
        "max_error_rate": max_error_rate,
    }
    if option:
        overrides["backend_options"] = dict(_parse_option(o) for o in option)
    try:
        cfg = load_config(config, overrides)
    except ConfigError as exc:
        _fail(str(exc))
    _preflight(cfg)
    # The bar is drawn only once the runner knows how many samples there are and starts on
    # them: loading data or a model, and any error on the way, print no empty bar.
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    tasks: list[Any] = []

    def start(total: int) -> None:
        if total > 0 and not tasks:
            bar.start()
            tasks.append(bar.add_task("samples", total=total))

    def advance(n: int) -> None:
        if tasks:
            bar.advance(tasks[0], n)

    def skipped(name: str, reason: str) -> None:
        console.print(f"skipped {reason}", highlight=False, soft_wrap=True)

    def stop(failed: bool = False) -> None:
        if not tasks:  # never started: stopping would still print a blank line
            return
        if failed and not bar.tasks[0].completed:
            bar.remove_task(tasks[0])  # nothing done: no bar at 0 above the error
        bar.stop()

    def isolation(description: str) -> None:
        console.print(f"sandbox isolation: {description}", highlight=False, soft_wrap=True)

    def notice(line: str) -> None:  # waiting for another process; damaged files moved aside
        console.print(line, highlight=False, soft_wrap=True)

    hooks = RunnerProgress(
        start=start, advance=advance, skipped=skipped, isolation=isolation, notice=notice
    )
    try:
        outcome = Runner(cfg, hooks, wait=not no_wait).run()
    except ProtocolRefusal as exc:  # one line per column the protocol cannot be followed on
        stop(failed=True)
        for line in exc.lines[:-1]:
            console.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
        _fail(exc.lines[-1])
    except (
        ConfigError,
        DataUnavailable,
        BackendError,
        SchemaMismatch,
        StoreError,
        RunBusy,
        ValueError,
        OSError,  # FileNotFoundError, and a path the checks above could not foresee
    ) as exc:
        stop(failed=True)
        code = ExitCode.BUSY if isinstance(exc, RunBusy) else ExitCode.BAD_INPUT
        _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, code)
    except KeyboardInterrupt:
        stop()
        _fail(
            "interrupted: finished samples are saved; run the same command to resume",
            ExitCode.INTERRUPTED,
        )
    stop()
    console.print(
        f"run {outcome.run_dir.name}: {outcome.n_jobs} samples, {outcome.n_skipped} already done, "
        f"{outcome.n_cached} answers from cache, {outcome.model_calls} model calls, "
        f"{outcome.wall_s:.1f}s",
        highlight=False,
    )
    if outcome.replay is not None:
        _print_replay(outcome.replay)
    if outcome.kept_benchmarks:
        console.print(
            f"summary also holds {', '.join(outcome.kept_benchmarks)}: scored by earlier "
            "invocations of this run (same model and options)",
            highlight=False,
            soft_wrap=True,
        )
    if outcome.n_answers:
        limits = ", ".join(str(n) for n in outcome.token_limits)
        console.print(
            f"{outcome.n_answers} answers, {outcome.n_truncated} cut at the token limit"
            + (f" ({limits})" if limits else ""),
            highlight=False,
        )
    _print_summary(outcome.summary)
    console.print(f"results: {outcome.run_dir}", highlight=False)
    if cfg.max_error_rate is not None:
        _enforce_error_rate(outcome, cfg.max_error_rate)


def _preflight(cfg: RunConfig) -> None:
    """Mistakes found without loading data or starting a model, each one line (exit 2)."""
    from benchmarks import registry
    from harness.backends import BackendError, load_backend_class
    from harness.core import preflight

    known = {**registry.available(), **registry.SUITES}
    for name in cfg.benchmarks:
        if name.startswith(("tasks:", "lmeval:")) or name in known:
            continue
        _fail(preflight.unknown_name("benchmark", name, known, "`purpbench list` shows them all"))
    problem = preflight.output_problem(Path(cfg.output))
    if problem is not None:
        _fail(problem)
    limits = (("--request-timeout", cfg.request_timeout), ("--max-retries", cfg.max_retries))
    given = [(flag, value) for flag, value in limits if value is not None]
    if given:
        backend = cfg.resolved_backend()
        key = {"--request-timeout": "request_timeout_s", "--max-retries": "max_retries"}
        try:
            backend_cls = load_backend_class(backend)
            missing = [flag for flag, _ in given if backend_cls.option_spec(key[flag]) is None]
        except BackendError as exc:  # an unknown backend, or vllm not installed
            _fail(str(exc).splitlines()[0])
        for flag in missing:
            _fail(
                f"{flag}: backend {backend!r} sends no requests to a server (it has no "
                f"option {key[flag]}); it applies to backends that do, such as openai"
            )


def _enforce_error_rate(outcome: RunOutcome, limit: float) -> None:
    """One line per benchmark whose share of error rows is above `limit`, then exit 4; the
    results are already written, so a CI job can still upload and inspect them."""
    over = [
        (name, rows, errors)
        for name, (rows, errors) in sorted(outcome.error_rows.items())
        if rows and errors / rows > limit
    ]
    for name, rows, errors in over:
        console.print(
            f"[bold red]error:[/] {escape(name)}: {errors} of {rows} rows are errors "
            f"({100 * errors / rows:.1f}%), above --max-error-rate {100 * limit:.1f}%",
            highlight=False,
            soft_wrap=True,
        )
    if over:
        raise typer.Exit(int(ExitCode.ERROR_RATE))


def _print_replay(report: ReplayReport) -> None:
    """Answered and unanswered samples, and the lines of the file the run did not use."""
    from harness.runner import unmatched_text

    total = report.answered + report.missing
    console.print(
        f"replay: {report.answered} of {total} samples answered, {report.missing} without an "
        "answer" + (" (error rows)" if report.missing else ""),
        highlight=False,
    )
    unused = []
    if report.past_limit:
        unused.append(f"{report.past_limit} for samples past --limit / --n-samples")
    if report.other_benchmarks:
        others = ", ".join(f"{b}: {n}" for b, n in sorted(report.other_benchmarks.items()))
        count = sum(report.other_benchmarks.values())
        unused.append(f"{count} for benchmarks not in this run ({others})")
    if unused:
        console.print(
            f"replay: lines not used, outside this selection: {'; '.join(unused)}",
            highlight=False,
            soft_wrap=True,
        )
    if report.unmatched:
        console.print(
            f"replay: ignored (--allow-unmatched): {unmatched_text(report.unmatched)}",
            highlight=False,
            soft_wrap=True,
        )


def _parse_option(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep:
        _fail(f"--option expects KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def _print_summary(summary, slices: bool = False) -> None:
    """Whole-benchmark rows; the per-language / CWE / subset rows only when asked for.

    The headline (★) and each row's scale come from the definitions stored with the summary,
    so an old run is shown as it was defined when it was scored. A number whose stored
    fidelity is approximate is marked "≈", with one footnote line per benchmark saying why."""
    if summary is None or summary.empty:
        out.print("no scored samples")
        return
    sliced = summary["slice"].fillna("") != ""
    columns = ["", "benchmark", "family", "metric", "value", "95% CI", "n", "errors"]
    if slices:
        columns.insert(4, "slice")
    table = Table(title="summary (95% bootstrap CI; ★ headline)")
    for col in columns:
        table.add_column(col, justify="right" if col in ("value", "n", "errors") else "left")
    unrecorded = False
    approximate: dict[str, Fidelity] = {}  # benchmark -> why its numbers are approximate
    no_fidelity: set[str] = set()
    for _, row in (summary if slices else summary[~sliced]).iterrows():
        definition = parse_definition(row.get("definition"))
        unrecorded = unrecorded or int(definition.get("v") or 0) < 1
        fidelity = fidelity_from(definition.get("fidelity"))
        mark = ""
        if fidelity is not None and fidelity.approximate:
            approximate.setdefault(str(row["benchmark"]), fidelity)
            mark = APPROXIMATE_MARK
        elif fidelity is None and definition.get("role") in ("headline", "metric"):
            no_fidelity.add(str(row["benchmark"]))
        headline = bool(row.get("headline", False))  # upgrade_summary leaves no null
        cells = ["★" if headline else "", row["benchmark"], row["family"], row["metric"]]
        if slices:
            cells.append(row["slice"] or "(all)")
        if definition.get("aggregate") == "kappa":  # κ on its own scale, not in %
            value = f"{row['value']:.2f}"
            ci = f"[{row['ci_low']:.2f}, {row['ci_high']:.2f}]"
        else:
            value = f"{mark}{100 * row['value']:.1f}%"
            ci = f"[{100 * row['ci_low']:.1f}, {100 * row['ci_high']:.1f}]"
        table.add_row(*cells, value, ci, str(row["n"]), str(row["n_errors"]))
    out.print(table)
    if sliced.any() and not slices:
        out.print(
            f"{int(sliced.sum())} more rows by language / CWE / subset: "
            "`purpbench show RUN --slices`",
            highlight=False,
        )
    security = summary[summary["family"] == "secure-codegen"].drop_duplicates("benchmark")
    if not security.empty:
        oracles = "; ".join(
            _oracles(str(b), str(s)) for b, s in zip(security["benchmark"], security["scorer"])
        )
        out.print(f"% secure decided: {oracles}", highlight=False, soft_wrap=True)
    for benchmark, fidelity in sorted(approximate.items()):
        claim = f"approximate {fidelity.reference}: " if fidelity.reference != NOT_DECLARED else ""
        out.print(
            f"{APPROXIMATE_MARK} {benchmark}: {claim}{fidelity.reason} (oracle: {fidelity.oracle})",
            highlight=False,
            soft_wrap=True,
        )
    if no_fidelity:
        out.print(
            "fidelity not recorded (scored before it was stored): "
            + ", ".join(sorted(no_fidelity)),
            highlight=False,
            soft_wrap=True,
        )
    if unrecorded:
        out.print(
            "metric definitions not recorded (results schema 2): ★ is each benchmark's first "
            "metric row, as schema 2 meant it",
            highlight=False,
        )
    first = summary.iloc[0]
    revision = _known(first["model_revision"])
    git_sha = _known(first["harness_git_sha"])
    out.print(
        f"model {first['model']} ({first['backend']}"
        + (f", rev {revision[:12]}" if revision else "")
        + f"), prompt {first['prompt_format']}, seed {first['seed']}, harness "
        + f"{first['harness_version']}"
        + (f"@{git_sha[:12]}" if git_sha else ""),
        highlight=False,
    )


def _fidelity_cell(fidelity: Fidelity, reasons: list[str]) -> str:
    """The list table's cell: "reference", or "≈ [n]" with the reason numbered in `reasons`
    (printed under the table, so the oracle column keeps its width)."""
    if not fidelity.approximate:
        return "reference"
    if fidelity.reason not in reasons:
        reasons.append(fidelity.reason)
    return f"{APPROXIMATE_MARK} [{reasons.index(fidelity.reason) + 1}]"


def _oracles(benchmark: str, scorer: str) -> str:
    """Which oracle decided a security number, and which were recorded beside it: a
    secure-codegen row's scorer names every oracle, the deciding one first ("icd | static…")."""
    deciding, *beside = scorer.split(" | ")
    return f"{benchmark} by {deciding}" + (f" (beside it: {', '.join(beside)})" if beside else "")


def _known(value: Any) -> str | None:
    """A stored identity value, or None where it is missing (null, NaN, empty, "unknown")."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return None if text.lower() in ("", "nan", "none", "null", "unknown") else text


@app.command("list")
def list_(
    data_dir: Annotated[
        str | None, typer.Option(envvar=DATA_DIR_ENV, help="Offline dataset mirror")
    ] = None,
) -> None:
    """Benchmarks (family, size, dataset source, oracle, fidelity) and backends.

    The fidelity column is what a run with the default settings (no judge, the default
    analyzers) computes: "reference" or "≈ approximate" with the reason."""
    from benchmarks import registry
    from benchmarks.base import ScoringContext, is_pinned, source_label
    from harness.backends import BUILTIN_BACKENDS, backend_names

    table = Table(title="benchmarks (fidelity: with default settings, no judge)")
    for col in ("name", "family", "size", "source", "oracle", "fidelity", "metrics"):
        # a source is never cut: its pin (or "unpinned") is what the column is for
        # the oracle's words are never cut: it is what the reader must not misread
        wide = {"min_width": 16} if col == "oracle" else {}
        table.add_column(col, no_wrap=col not in ("oracle", "metrics"), **wide)
    defaults = ScoringContext()
    reasons: list[str] = []  # why approximate, numbered in the table and printed below it
    unpinned: dict[str, list[str]] = {}  # why -> the benchmarks it applies to
    for name in sorted(registry.available()):
        bench = registry.create(name, data_dir)
        specs = list(bench.data_files.values())
        sources = "\n".join(dict.fromkeys(source_label(f) for f in specs))
        if not all(is_pinned(f) for f in specs):
            unpinned.setdefault(bench.unpinned_reason, []).append(name)
        table.add_row(
            name,
            bench.family,
            str(bench.size_hint or "?"),
            sources,
            bench.scorer.describe(),
            _fidelity_cell(bench.fidelity(defaults), reasons),
            ", ".join(m.name for m in bench.metrics),
        )
    tests = "sandboxed check() tests"
    yours = "reference"
    table.add_row(
        "tasks:FILE", "utility", "-", "your HumanEval-format JSONL", tests, yours, "pass@1"
    )
    out.print(table)
    for n, reason in enumerate(reasons, 1):
        line = f"{APPROXIMATE_MARK} [{n}] approximate: {reason}"
        out.print(line, highlight=False, soft_wrap=True)
    for reason, names in unpinned.items():
        out.print(f"unpinned ({', '.join(names)}): {reason}", highlight=False, soft_wrap=True)
    suites = Table(title="suites")
    suites.add_column("suite")
    suites.add_column("benchmarks")
    for suite, members in registry.SUITES.items():
        suites.add_row(suite, ", ".join(members))
    out.print(suites)
    backends = Table(title="backends")
    backends.add_column("backend")
    backends.add_column("what")
    for name in backend_names():
        backends.add_row(name, BUILTIN_BACKENDS.get(name, ("", "", "plugin"))[2])
    out.print(backends)


@app.command()
def setup(
    name: Annotated[str, typer.Argument(metavar="NAME", help="cweval | seccodeplt")],
) -> None:
    """Build the isolated test environment an oracle runs in (once; later calls find it).
    A run that needs one that is missing stops with one line naming this command."""
    import time

    from scorers.envs import UnknownEnvironment, module
    from scorers.static.toolenv import ToolUnavailable

    try:
        builder = module(name)
    except UnknownEnvironment as exc:
        _fail(str(exc))
    start = time.monotonic()
    try:
        python = builder.build()
    except ToolUnavailable as exc:
        _fail(str(exc))
    console.print(f"{name}: {python} ({time.monotonic() - start:.0f} s)", highlight=False)


@app.command()
def show(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run directory or run id (prefix)")],
    results: Annotated[str, typer.Option(help="Results directory for run ids")] = "results",
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
    slices: Annotated[
        bool, typer.Option("--slices", help="Also per language, CWE and subset")
    ] = False,
) -> None:
    """A run's summary with 95% CIs and its identity (a damaged or unfinished run: one line,
    exit 2)."""
    from harness.results import RunStore, list_parts, resolve_run_dir

    try:
        run_dir = resolve_run_dir(run_ref, Path(results))
    except FileNotFoundError as exc:
        _fail(str(exc))
    store = RunStore(run_dir)
    damage = store.inspect(full=False)  # run.json, the summary, the sample parts' footers
    if damage:
        more = f" (and {len(damage) - 1} more damaged files)" if len(damage) > 1 else ""
        _fail(
            f"damaged run {run_dir}: {damage[0].path.relative_to(run_dir)}: {damage[0].reason}"
            f"{more}; `purpbench run` with the same options moves it to damaged/ and rebuilds "
            "it from generations.jsonl"
        )
    if not list_parts(store.summary_dir):
        _fail(
            f"run {run_dir} has no summary: it is in progress or was interrupted; run the same "
            "`purpbench run` again to finish it"
        )
    try:
        store.check_readable()  # schema 2 too: its summary is upgraded on read
        summary = store.read_summary()
    except Exception as exc:
        _fail(f"cannot read {run_dir / 'summary'}: {type(exc).__name__}: {exc}")
    if as_json:
        out.print_json(summary.to_json(orient="records"))
        return
    manifest = store.manifest() or {}
    out.print(f"run {manifest.get('run_id', run_dir.name)}", highlight=False)
    _print_summary(summary, slices)


@app.command("validate")
def validate_cmd(
    judge_model: Annotated[str | None, typer.Option(help="Also validate this LLM judge")] = None,
    judge_backend: Annotated[
        str | None, typer.Option(help="Judge backend (default openai, or embedded)")
    ] = None,
    judge_base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible URL of the judge")
    ] = None,
    judge_api_key_env: Annotated[
        str | None, typer.Option(help="Env var holding the judge's API key")
    ] = None,
    judge_option: Annotated[
        list[str] | None, typer.Option("--judge-option", help="Judge backend option KEY=VALUE")
    ] = None,
    analyzers: Annotated[
        str | None, typer.Option(help="Static analyzers (default semgrep,bandit,codeql)")
    ] = None,
    min_severity: Annotated[
        str | None, typer.Option(help="Lowest severity that counts (default medium)")
    ] = None,
    no_analyzers: Annotated[
        bool, typer.Option("--no-analyzers", help="Skip the static analyzers")
    ] = False,
    labelled_dir: Annotated[
        str | None, typer.Option(help="Directory with refusal/malicious/code .jsonl")
    ] = None,
    judge_limit: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Judge prompts: this many rows of each labelled set, spread evenly "
            "(default: all; a CPU judge is slow)",
        ),
    ] = None,
    data_dir: Annotated[
        str | None,
        typer.Option(envvar=DATA_DIR_ENV, help="Offline mirror (XSTest's labelled completions)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print rows as JSON")] = False,
) -> None:
    """Accuracy, precision and recall of the classifiers, the judge and the analyzers on
    labelled data, so users see how far each oracle can be trusted. With a judge, every judge
    prompt (the project's and PurpCode's) is also measured against labelled data: the refusal
    prompts against XSTest's human labels, the malicious-assistance prompts against the
    project-labelled set."""
    from harness.config import ConfigError, load_config
    from harness.core.data import cache_root
    from scorers.judge import Judge
    from scorers.validate import (
        LABELLED_DIR,
        render_judge_validation,
        render_validation,
        validate,
        validate_judges,
    )

    overrides: dict[str, Any] = {
        "judge_model": judge_model,
        "judge_backend": judge_backend,
        "judge_base_url": judge_base_url,
        "judge_api_key_env": judge_api_key_env,
        "analyzers": analyzers,
        "min_severity": min_severity,
    }
    if judge_option:
        overrides["judge_options"] = dict(_parse_option(o) for o in judge_option)
    judge = None
    try:
        cfg = load_config(None, overrides)
        judge_config = cfg.judge_config()
        judge = Judge(judge_config, cache_root()) if judge_config else None
        rows = validate(
            judge,
            analyzers=not no_analyzers,
            data_dir=Path(labelled_dir) if labelled_dir else LABELLED_DIR,
            analyzer_policy=cfg.analyzer_policy(),
        )
        judge_rows = (
            validate_judges(
                judge,
                data_dir,
                Path(labelled_dir) if labelled_dir else LABELLED_DIR,
                judge_limit,
            )
            if judge is not None
            else []
        )
        judge_name = judge.identity() if judge is not None else ""
    except (ConfigError, ValueError, FileNotFoundError, DataUnavailable) as exc:
        _fail(str(exc).splitlines()[0])
    finally:
        if judge is not None:
            judge.close()
    if as_json:
        judged = [{"section": "judge prompts", **row} for row in judge_rows]
        out.print_json(json.dumps(rows + judged, default=str))
    else:
        out.print(render_validation(rows))
        if judge_rows:
            out.print(render_judge_validation(judge_rows, judge_name))


# Commands that live with their component; their modules import heavy libraries lazily.
from harness.gate_cli import gate as _gate_command  # noqa: E402
from leaderboard.cli import leaderboard as _leaderboard_command  # noqa: E402
from train.cli import app as _train_app  # noqa: E402

app.command("gate")(_gate_command)
app.command("leaderboard")(_leaderboard_command)
app.add_typer(_train_app, name="train")


def _one_line(message: str) -> str:
    return " ".join(message.split())


def main() -> None:
    """The console entry point. A mistyped command, option or value ends in one line on
    stderr naming it (exit 2), as every other bad input does, instead of a boxed usage
    message; `--help` and a bare `purpbench` still print the help."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        code = app(standalone_mode=False)
    except TyperException as exc:  # a usage error (exit 2), or a bare `purpbench` (the help)
        context = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError":
            print(exc.format_message(), file=sys.stderr)
        else:
            where = f" ({context.command_path} --help lists them)" if context is not None else ""
            print(f"error: {_one_line(exc.format_message())}{where}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("interrupted", file=sys.stderr)
        sys.exit(ExitCode.INTERRUPTED)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # `python -m harness.cli`
    main()
