"""The lm-eval bridge: lm-eval's own prompts, filters and metrics inside purpbench runs.

The reference is always lm-eval itself: a fresh Task from its TaskManager driven the way its
evaluator drives one, or (slow) a whole `lm_eval.simple_evaluate` run against the real
llama.cpp server.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

# Light: lm_eval.tasks (and `datasets` under it) is imported inside the tests, after the
# session fixtures have set HF_HUB_OFFLINE, which `datasets` reads when first imported.
lm_eval = pytest.importorskip("lm_eval")

from lm_eval.defaults import DEFAULT_OTHER_SEED  # noqa: E402

from benchmarks import registry  # noqa: E402
from benchmarks.base import ScoringContext, ScoringItem  # noqa: E402
from benchmarks.lm_eval_bridge import LmEvalTask, LmEvalTaskError  # noqa: E402
from harness.config import load_config  # noqa: E402
from harness.core.data import DataUnavailable, sha256_of  # noqa: E402
from harness.core.types import Generation, Message  # noqa: E402
from harness.runner import Runner  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "lm_eval_fixtures"
SPEC = "secnum.yaml"  # relative, as a user types it; its data_files are relative too
NAME = f"lmeval:{SPEC}"
FILTERS = ("strict-match", "flexible-extract")
KEYS = tuple(f"exact_match,{f}" for f in FILTERS)


@pytest.fixture(scope="module", autouse=True)
def _datasets_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """`datasets` writes Arrow copies of the local data: into the test's tmp, not ~/.cache."""
    import datasets

    with pytest.MonkeyPatch.context() as mp:
        cache = str(tmp_path_factory.mktemp("hf-datasets"))
        mp.setattr(datasets.config, "HF_DATASETS_CACHE", cache)
        yield


@pytest.fixture(scope="module")
def secnum() -> LmEvalTask:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(FIXTURES)
        return LmEvalTask(SPEC)


def task_manager() -> Any:
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(FIXTURES), include_defaults=False)


def lm_eval_requests(yaml_name: str, limit: int | None = None) -> Any:
    """A fresh lm-eval Task with its requests built the way its evaluator builds them."""
    manager = task_manager()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(FIXTURES)
        (task,) = manager.load(str(FIXTURES / yaml_name))["tasks"].values()
    if task.get_config("num_fewshot") is None:
        task.set_config(key="num_fewshot", value=0)
    task.set_fewshot_seed(seed=DEFAULT_OTHER_SEED)
    task.build_all_requests(limit=limit)
    return task


@pytest.fixture
def lmeval_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    """`lmeval:` in the registry; patched in only while benchmarks/registry.py lacks it."""
    if "lmeval:" in inspect.getsource(registry):
        return
    original = registry.create

    def create(name: str, data_dir: Any = None):
        if name.startswith("lmeval:"):
            return LmEvalTask(name.removeprefix("lmeval:"), data_dir)
        return original(name, data_dir)

    monkeypatch.setattr(registry, "create", create)


def items_for(bench: LmEvalTask, answers: dict[str, str], fmt: str) -> list[ScoringItem]:
    by_id = {s.id: s for s in bench.load()}
    return [
        ScoringItem(by_id[i], 0, Generation(text=text), text, fmt) for i, text in answers.items()
    ]


def test_prompts_are_lm_evals_own_requests(secnum: LmEvalTask) -> None:
    task = lm_eval_requests(SPEC)
    samples = secnum.load()
    assert [s.id for s in samples] == [str(i.doc_id) for i in task.instances] == list("012345")
    train = [json.loads(x) for x in (FIXTURES / "secnum_train.jsonl").read_text().splitlines()]
    test = [json.loads(x) for x in (FIXTURES / "secnum_test.jsonl").read_text().splitlines()]
    for sample, inst, doc in zip(samples, task.instances, test):
        context, gen_kwargs = inst.args
        assert sample.completion_prompt == context  # byte-identical
        assert sample.messages == [Message("user", context)]
        assert sample.target == doc["answer"] == task.doc_to_target(inst.doc)
        # num_fewshot: 2 from the train split, joined by lm-eval's delimiters.
        shots, question = context.rsplit("\n\n", 1)[0], context.rsplit("\n\n", 1)[1]
        assert question == f"Question: {doc['question']}\nAnswer:"
        assert len(shots.split("\n\n")) == 2
        for shot in shots.split("\n\n"):
            assert shot in {f"Question: {t['question']}\nAnswer: {t['answer']}" for t in train}
        assert gen_kwargs["until"] == ["\n"] and gen_kwargs["max_gen_toks"] == 16
    assert secnum.stop_sequences("completion") == ("\n",)
    assert secnum.stop_sequences("chat") == ()
    assert secnum.default_max_tokens == 16
    # Zero-shot through `include`: just doc_to_text, as lm-eval builds it.
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(FIXTURES)
        zero = LmEvalTask("secnum_qa.yaml")
    qa_task = lm_eval_requests("secnum_qa.yaml")
    assert [s.completion_prompt for s in zero.load()] == [i.args[0] for i in qa_task.instances]
    assert zero.load()[0].completion_prompt == f"Question: {test[0]['question']}\nAnswer:"


# doc_id -> (response, strict-match, flexible-extract)
HAND_WRITTEN = {
    "0": (" 443", 1.0, 1.0),
    "1": (" CWE-78", 0.0, 1.0),  # strict wants a bare number; flexible takes the last one
    "2": (" 79 or maybe 80", 0.0, 0.0),
    "3": (" no idea", 0.0, 0.0),  # both regexes fall back to "[invalid]"
    "4": (" 3389\nQuestion: and 22?", 1.0, 1.0),  # cut at `until` as lm-eval's models do
    "5": ("160", 1.0, 1.0),
}


def test_scores_are_lm_evals_metrics(secnum: LmEvalTask) -> None:
    answers = {i: r for i, (r, _, _) in HAND_WRITTEN.items()}
    scores = secnum.score(items_for(secnum, answers, "completion"), ScoringContext())
    # lm-eval's evaluator path: responses on its instances, its filters, process_results.
    task = lm_eval_requests(SPEC)
    for inst in task.instances:
        inst.resps.append(answers[str(inst.doc_id)].split("\n")[0])
    task.apply_filters()
    for doc_id, score in zip(answers, scores):
        inst = task.instances[int(doc_id)]
        expected = {
            f"{metric},{key}": value
            for key, filtered in inst.filtered_resps.items()
            for metric, value in task.process_results(inst.doc, [filtered]).items()
        }
        assert score.status == "ok"
        assert score.values == expected
        assert score.details["filtered"] == inst.filtered_resps
        _, strict, flexible = HAND_WRITTEN[doc_id]
        assert (score.values[KEYS[0]], score.values[KEYS[1]]) == (strict, flexible)
        assert score.value == strict  # headline: first metric, first filter
        assert score.label == ("correct" if strict else "incorrect")
    # A chat answer is not cut at `until`: lm-eval's stops are for continuations.
    (chat,) = secnum.score(items_for(secnum, {"4": answers["4"]}, "chat"), ScoringContext())
    assert chat.values[KEYS[0]] == 0.0 and chat.values[KEYS[1]] == 0.0


def test_metrics_family_version_and_dataset_identity(secnum: LmEvalTask) -> None:
    assert [(m.name, m.key, m.higher_is_better) for m in secnum.metrics] == [
        (k, k, True) for k in KEYS
    ]
    assert (secnum.family, secnum.version, secnum.name) == ("utility", "1.0", NAME)
    scorer, version = secnum.scorer_identity(ScoringContext())
    assert scorer == "lm-eval" and version.startswith(f"{lm_eval.__version__}+")
    assert secnum.scorer.produces() == frozenset(KEYS)  # known only once the task is loaded
    identity = secnum.dataset_identity()
    files = [FIXTURES / "secnum_test.jsonl", FIXTURES / "secnum_train.jsonl"]
    assert identity["dataset_sha256"] == ";".join(sha256_of(f) for f in files)
    assert identity["dataset_id"] == ";".join(f"file:{f}" for f in files)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(FIXTURES)
        qa = LmEvalTask("secnum_qa.yaml")  # include + metadata.purpbench_family
    assert (qa.family, qa.version) == ("security-qa", "2.0")
    assert qa.dataset_identity() == identity


def test_refuses_what_it_cannot_run_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(LmEvalTaskError, match="output_type 'multiple_choice' is not supported"):
        LmEvalTask(str(FIXTURES / "secnum_choice.yaml"))
    with pytest.raises(DataUnavailable, match="task YAML not found"):
        LmEvalTask(str(tmp_path / "absent.yaml"))
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        (FIXTURES / SPEC)
        .read_text()
        .replace("task: secnum", "task: broken")
        .replace("secnum_test.jsonl", str(tmp_path / "missing.jsonl"))
    )
    with pytest.raises(DataUnavailable, match=r"lmeval:.*broken.yaml: dataset not available"):
        LmEvalTask(str(broken))


@pytest.mark.parametrize(
    ("spec", "error", "needle"),
    [
        ("gsm8k", DataUnavailable, "lmeval:gsm8k: dataset not available"),  # offline, uncached
        ("hellaswag", LmEvalTaskError, "output_type 'multiple_choice'"),
        ("humaneval", LmEvalTaskError, "unsafe_code"),  # would run model code unsandboxed
        ("ai2_arc", LmEvalTaskError, "group or tag of 2 tasks"),
        ("no_such_task_xyz", LmEvalTaskError, "no lm-eval task named"),
    ],
)
def test_registered_task_names(spec: str, error: type[Exception], needle: str) -> None:
    with pytest.raises(error, match=needle) as caught:
        LmEvalTask(spec)
    assert "\n" not in str(caught.value)


def test_without_lm_eval_the_error_names_the_extra() -> None:
    # Fault injection: `sys.modules[name] = None` makes the import fail as if not installed.
    code = (
        "import sys; sys.modules['lm_eval'] = None\n"
        "from benchmarks.lm_eval_bridge import LmEvalTask\n"
        "try:\n    LmEvalTask('gsm8k')\nexcept ValueError as exc:\n    print(exc)\n"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "install purpbench[lmeval]" in done.stdout


def run_config(tmp_path: Path, data_dir: Path, **kw: Any):
    return load_config(None, {"output": str(tmp_path / "results"), "data_dir": str(data_dir), **kw})


def test_replay_run_puts_lm_evals_scores_in_the_summary(
    tmp_path: Path, data_dir: Path, lmeval_prefix: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(FIXTURES)
    lines = [
        {"benchmark": NAME, "sample_id": i, "response": r}
        for i, (r, _, _) in HAND_WRITTEN.items()
        if i != "5"  # no answer: a recorded error that stays in the denominator
    ]
    replay = tmp_path / "answers.jsonl"
    replay.write_text("".join(json.dumps(x) + "\n" for x in lines))
    cfg = run_config(
        tmp_path, data_dir, benchmarks=NAME, replay_file=str(replay), prompt_format="completion"
    )
    outcome = Runner(cfg).run()
    samples = pd.read_parquet(outcome.run_dir / "samples").set_index("sample_id")
    assert samples.loc["5", "status"] == "error"
    for i, (_, strict, flexible) in HAND_WRITTEN.items():
        if i == "5":
            continue
        assert json.loads(samples.loc[i, "scores"]) == dict(zip(KEYS, (strict, flexible)))
        assert samples.loc[i, "score"] == strict
    assert set(samples["family"]) == {"utility"} and set(samples["benchmark_version"]) == {"1.0"}
    assert set(samples["scorer"]) == {"lm-eval"}
    summary = outcome.summary.set_index("metric")
    for key, column in zip(KEYS, (1, 2)):
        expected = sum(v[column] for i, v in HAND_WRITTEN.items() if i != "5") / 6
        assert summary.loc[key, "value"] == pytest.approx(expected)
        assert summary.loc[key, "n"] == 6 and summary.loc[key, "n_errors"] == 1
        assert bool(summary.loc[key, "higher_is_better"])


@pytest.mark.slow
def test_embedded_model_run_on_three_docs(
    tmp_path: Path, data_dir: Path, gemma_gguf: Path, lmeval_prefix: None, monkeypatch
) -> None:
    monkeypatch.chdir(FIXTURES)
    outcome = Runner(run_config(tmp_path, data_dir, benchmarks=NAME, limit=3)).run()
    samples = pd.read_parquet(outcome.run_dir / "samples").sort_values("sample_id")
    task = lm_eval_requests(SPEC, limit=3)  # what `lm_eval --limit 3` builds
    assert list(samples["sample_id"]) == ["0", "1", "2"]
    assert list(samples["prompt"]) == [i.args[0] for i in task.instances]
    assert set(samples["backend"]) == {"embedded"} and set(samples["status"]) == {"ok"}
    assert set(samples["prompt_format"]) == {"completion:v1"}
    assert (samples["completion_tokens"] <= 16).all() and (samples["completion_tokens"] > 0).all()
    assert not samples["response"].str.contains("\n").any()  # stopped at `until`
    for _, row in samples.iterrows():
        values = json.loads(row["scores"])
        assert set(values) == set(KEYS) and row["score"] == values[KEYS[0]]
        # the same response through lm-eval's own filters and metric
        inst = task.instances[int(row["sample_id"])]
        inst.resps.append(row["response"])
    task.apply_filters()
    for _, row in samples.iterrows():
        inst = task.instances[int(row["sample_id"])]
        assert json.loads(row["details"])["filtered"] == inst.filtered_resps
    summary = outcome.summary.set_index("metric")
    assert list(summary.loc[list(KEYS), "n"]) == [3, 3]


@pytest.mark.slow
def test_same_prompts_and_scores_as_a_real_lm_eval_run(
    tmp_path: Path, data_dir: Path, llama_server: str, lmeval_prefix: None, monkeypatch
) -> None:
    """lm-eval's own `simple_evaluate` with its `gguf` model against the llama.cpp server;
    its logged prompts must be purpbench's, and its responses scored by purpbench must get
    the per-document values lm-eval logged."""
    monkeypatch.chdir(FIXTURES)
    result = lm_eval.simple_evaluate(
        model="gguf",
        model_args={"base_url": llama_server.removesuffix("/v1")},
        tasks=[SPEC],
        task_manager=task_manager(),
        log_samples=True,
    )
    logged = result["samples"]["secnum"]
    replay = tmp_path / "lm_eval_answers.jsonl"
    by_doc = {str(s["doc_id"]): s for s in logged}
    replay.write_text(
        "".join(
            json.dumps({"benchmark": NAME, "sample_id": i, "response": s["resps"][0][0]}) + "\n"
            for i, s in by_doc.items()
        )
    )
    cfg = run_config(
        tmp_path, data_dir, benchmarks=NAME, replay_file=str(replay), prompt_format="completion"
    )
    samples = pd.read_parquet(Runner(cfg).run().run_dir / "samples").set_index("sample_id")
    assert len(samples) == 6
    for entry in logged:
        row = samples.loc[str(entry["doc_id"])]
        assert row["prompt"] == entry["arguments"][0][0]
        key = f"exact_match,{entry['filter']}"
        assert json.loads(row["scores"])[key] == entry["exact_match"]
        assert json.loads(row["details"])["filtered"][entry["filter"]] == entry["filtered_resps"][0]
    for key in KEYS:
        mean = sum(json.loads(s)[key] for s in samples["scores"]) / len(samples)
        assert mean == pytest.approx(result["results"]["secnum"][key])
