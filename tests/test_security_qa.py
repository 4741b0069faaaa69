"""CyberMetric, SecEval and CTI-Bench: real mirror files, prompts, gold sets, scoring, bad rows,
and a few samples answered by the real embedded model."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest

from benchmarks.base import Benchmark, ScoringContext, ScoringItem
from benchmarks.ctibench import CTIBenchMCQ, CTIBenchRCM, parse_mcq_rows, parse_rcm_rows, read_tsv
from benchmarks.cybermetric import CyberMetric80, CyberMetric500, CyberMetric2000
from benchmarks.mcq_base import MultipleChoiceBenchmark
from benchmarks.seceval import SecEval, parse_records
from harness.core.data import DataUnavailable, sha256_of
from harness.core.types import Generation, GenerationRequest, Sample, Score
from harness.runner import _load_samples
from scorers.postprocess import strip_reasoning

COUNTS = [
    (CyberMetric80, 80),
    (CyberMetric500, 500),
    (CyberMetric2000, 2000),
    (SecEval, 2189),
    (CTIBenchMCQ, 2500),
    (CTIBenchRCM, 1000),
]


@pytest.fixture(scope="module")
def loaded(data_dir: Path) -> dict[str, list[Sample]]:
    return {cls.name: cls(data_dir).load() for cls, _ in COUNTS}


def score(bench: Benchmark, sample: Sample, response: str, fmt: str = "chat") -> Score:
    item = ScoringItem(sample, 0, Generation(text=response), response, fmt)
    (result,) = bench.score([item], ScoringContext())
    return result


def by_id(samples: list[Sample], sample_id: str) -> Sample:
    return next(s for s in samples if s.id == sample_id)


@pytest.mark.parametrize(("cls", "count"), COUNTS, ids=[c.name for c, _ in COUNTS])
def test_counts_ids_and_prompts(cls: type[Benchmark], count: int, loaded) -> None:
    samples = loaded[cls.name]
    assert len(samples) == count == cls.size_hint
    assert len({s.id for s in samples}) == count
    assert cls.family == "security-qa"
    assert [m.name for m in cls.metrics] == ["accuracy", "% answered"]
    for s in samples:
        assert len(s.messages) == 1 and s.messages[0].role == "user"
        assert s.completion_prompt
        assert s.target or s.metadata.get("defect")  # 7 SecEval rows have no gold (see below)
    if issubclass(cls, MultipleChoiceBenchmark):
        assert all(s.completion_prompt.endswith("\nAnswer:") for s in samples)
        assert all(len(s.metadata["options"]) >= 3 for s in samples)


def test_dataset_identity_is_the_pinned_commit(data_dir: Path) -> None:
    identity = CyberMetric500(data_dir).dataset_identity()
    assert identity["dataset_id"] == "github:cybermetric/CyberMetric"
    assert identity["dataset_revision"] == "2f5818bd2c19350cd6cfae028b75499ebe4ffd29"
    assert identity["dataset_sha256"] == sha256_of(
        data_dir / "cybermetric" / "CyberMetric-500-v1.json"
    )


def test_cybermetric_prompt_and_gold_follow_the_file(data_dir: Path, loaded) -> None:
    raw = json.loads((data_dir / "cybermetric" / "CyberMetric-80-v1.json").read_text())
    questions = raw["questions"]
    samples = loaded["cybermetric-80"]
    assert [s.target for s in samples] == [[q["solution"]] for q in questions]
    first, q = samples[0], questions[0]
    chat = first.messages[0].content
    assert q["question"] in chat
    for letter, text in q["answers"].items():
        assert f"\n{letter}) {text}" in chat and f"\n{letter}) {text}" in first.completion_prompt
    assert "Answer with the letter of the correct option" in chat
    assert "One or more" not in chat
    assert first.id == "0" and samples[-1].id == "79"
    assert CyberMetric80.slices == ()


def test_seceval_gold_sets_topics_and_prefixes(data_dir: Path, loaded) -> None:
    records = json.loads((data_dir / "seceval" / "questions-data.json").read_text())
    samples = {s.id: s for s in loaded["seceval"]}
    for r in records:
        s = samples[r["id"]]
        assert s.target == sorted(set(r["answer"]))
        assert s.metadata["subset"] == (r["topics"][0] if r["topics"] else None)
        assert list(s.metadata["options"]) == ["A", "B", "C", "D"]
        # upstream choices read "A: ..."; shown once as "A) ..."
        assert s.metadata["options"]["A"] == r["choices"][0].removeprefix("A: ")
    multi = next(s for s in samples.values() if s.target == ["A", "C"])
    assert "all correct letters" in multi.messages[0].content
    assert "\nA) " in multi.messages[0].content and "A: " not in multi.metadata["options"]["A"]
    defects = [s for s in samples.values() if s.metadata["defect"]]
    assert len(defects) == sum(1 for r in records if not r["answer"]) == 7
    assert samples["517936e0-f232-4d26-8549-20c27d718b1c"].target == ["A"]  # upstream "AA"
    assert SecEval.slices == ("subset",) and SecEval.multi_answer


def test_ctibench_mcq_rows_with_upstream_quirks(data_dir: Path, loaded) -> None:
    samples = loaded["ctibench-mcq"]
    rows = read_tsv(data_dir / "ctibench" / "cti-mcq.tsv", "t", ("GT",))
    assert [s.target for s in samples] == [[r["GT"].upper()] for r in rows]
    assert samples[108].target == ["B"]  # upstream writes "b"
    three = samples[56]  # option D empty upstream: shown with three options
    assert list(three.metadata["options"]) == ["A", "B", "C"]
    assert "\nD)" not in three.messages[0].content and three.metadata["defect"] is None
    broken = samples[2235]  # gold C is the empty option
    assert "C" not in broken.metadata["options"] and "empty option" in broken.metadata["defect"]
    prefixed = samples[139]  # upstream options repeat their letter: "A. It uses ..."
    assert prefixed.metadata["options"]["A"].startswith("It uses")
    subsets = {s.metadata["subset"] for s in samples}
    assert subsets == {"mitre-attack", "capec", "cwe", "document"}
    assert "cyber threat intelligence" in samples[0].messages[0].content


def test_ctibench_rcm_ids_and_gold(data_dir: Path, loaded) -> None:
    samples = loaded["ctibench-rcm"]
    rows = read_tsv(data_dir / "ctibench" / "cti-rcm.tsv", "t", ("URL", "GT"))
    assert [s.id for s in samples] == [r["URL"].rsplit("/", 1)[1] for r in rows]
    assert [s.target for s in samples] == [r["GT"] for r in rows]
    first = samples[0]
    assert first.id == "CVE-2024-23848" and first.metadata["cwe"] == "CWE-416"
    assert "use-after-free in cec_queue_msg_fh" in first.messages[0].content
    assert first.completion_prompt.endswith("\nAnswer: CWE-")
    assert CTIBenchRCM(None).stop_sequences("completion") == ("\n",)


def test_scoring_single_answer(data_dir: Path, loaded) -> None:
    bench = CyberMetric80(data_dir)
    sample = loaded["cybermetric-80"][0]  # gold B
    right = score(bench, sample, "The RBG output must be indistinguishable from random.\nAnswer: B")
    assert (right.value, right.label, right.values) == (1.0, "correct", {"answered": 1.0})
    assert right.explanation == "extracted B (answer-line); gold B"
    wrong = score(bench, sample, "A")
    assert (wrong.value, wrong.label, wrong.values["answered"]) == (0.0, "wrong", 1.0)
    assert "gold B" in wrong.explanation and "only-letter" in wrong.explanation
    hedge = score(bench, sample, "Answer: A or B")
    assert (hedge.value, hedge.label, hedge.details["ambiguous"]) == (0.0, "wrong", True)
    none = score(bench, sample, "I would need more context.")
    assert (none.value, none.label, none.values["answered"]) == (0.0, "no-answer", 0.0)
    assert none.status == "ok" and none.explanation
    completion = score(bench, sample, " B) The RBG's output should be", fmt="completion")
    assert completion.value == 1.0


def test_scoring_multi_answer_needs_the_exact_set(data_dir: Path, loaded) -> None:
    bench = SecEval(data_dir)
    sample = next(s for s in loaded["seceval"] if s.target == ["A", "C"])
    assert score(bench, sample, "Answer: A, C").value == 1.0
    assert score(bench, sample, "AC").value == 1.0
    partial = score(bench, sample, "Answer: A")
    assert (partial.value, partial.label) == (0.0, "wrong")
    assert partial.details == {
        "extracted": ["A"],
        "gold": ["A", "C"],
        "method": "answer-line",
        "ambiguous": False,
    }
    assert score(bench, sample, "Answer: A, B, C").value == 0.0


def test_defective_rows_score_as_errors_not_as_answers(data_dir: Path, loaded) -> None:
    no_gold = by_id(loaded["seceval"], "51c2e727-40d0-4783-a620-a924367a6069")
    result = score(SecEval(data_dir), no_gold, "Answer: A")
    assert (result.value, result.status, result.label) == (0.0, "error", "bad-item")
    assert "no gold answer" in result.explanation
    empty_gold = loaded["ctibench-mcq"][2235]
    result = score(CTIBenchMCQ(data_dir), empty_gold, "Answer: C")
    assert result.status == "error" and "empty option" in result.explanation


def test_scoring_cwe_mapping(data_dir: Path, loaded) -> None:
    bench = CTIBenchRCM(data_dir)
    sample = loaded["ctibench-rcm"][0]  # CWE-416
    right = score(bench, sample, "Memory is used after it was freed.\nCWE-416")
    assert (right.value, right.label, right.values) == (1.0, "correct", {"answered": 1.0})
    assert score(bench, sample, "416 (use after free)", fmt="completion").value == 1.0
    wrong = score(bench, sample, "CWE-415")
    assert (wrong.value, wrong.label) == (0.0, "wrong") and "gold CWE-416" in wrong.explanation
    hedge = score(bench, sample, "CWE-416 or CWE-415")
    assert hedge.value == 0.0 and hedge.details["ambiguous"] is True
    none = score(bench, sample, "It is a memory bug.")
    assert (none.label, none.values["answered"]) == ("no-answer", 0.0)


# -- malformed rows: a clear error naming the row, never a silently dropped question ---------


def broken_mirror(tmp_path: Path, data_dir: Path) -> tuple[Path, Path]:
    source = data_dir / "cybermetric" / "CyberMetric-80-v1.json"
    data = json.loads(source.read_text())
    row = next(n for n, q in enumerate(data["questions"]) if q["solution"] == "D")
    del data["questions"][row]["answers"]["D"]  # the gold option is gone
    target = tmp_path / "mirror" / "cybermetric" / "CyberMetric-80-v1.json"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(data))
    return target.parent.parent, target


def test_broken_file_in_a_mirror_names_the_row(tmp_path: Path, data_dir: Path) -> None:
    mirror, broken = broken_mirror(tmp_path, data_dir)
    questions = json.loads(broken.read_text())["questions"]
    row = next(n for n, q in enumerate(questions) if "D" not in q["answers"])
    pinned = CyberMetric80.data_files["questions"]

    class BrokenCyberMetric80(CyberMetric80):  # the same benchmark, pinned to the broken bytes
        data_files = {"questions": dataclasses.replace(pinned, sha256=sha256_of(broken))}

    with pytest.raises(ValueError, match=rf"cybermetric-80 question {row}: .*names D"):
        BrokenCyberMetric80(mirror).load()
    with pytest.raises(DataUnavailable) as err:  # how a run reports it: one line
        _load_samples(BrokenCyberMetric80(mirror))
    assert f"question {row}" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(DataUnavailable, match="sha256"):  # the real pin refuses the bytes
        CyberMetric80(mirror).load()


def test_seceval_parser_rejects_malformed_rows(data_dir: Path) -> None:
    good = json.loads((data_dir / "seceval" / "questions-data.json").read_text())[0]
    assert len(parse_records([good])) == 1
    cases = [
        ({"answer": "E"}, "names E, which is not among the options"),
        ({"choices": good["choices"][:1]}, "fewer than two non-empty options"),
        ({"choices": ["B: x", *good["choices"][1:]]}, "choice 1 is labelled 'B'"),
        ({"question": ""}, "question text is missing"),
        ({"answer": "A1"}, "is not option letters"),
        ({"choices": None}, "'choices' is missing"),
        ({"id": ""}, "'id' is missing"),
    ]
    for change, message in cases:
        with pytest.raises(ValueError, match=message) as err:
            parse_records([good, {**good, **change}])
        assert "seceval row 1" in str(err.value)


def test_ctibench_parsers_reject_malformed_rows(tmp_path: Path, data_dir: Path) -> None:
    rows = read_tsv(data_dir / "ctibench" / "cti-mcq.tsv", "t", ("GT",))[:3]
    assert len(parse_mcq_rows(rows)) == 3
    with pytest.raises(ValueError, match=r"ctibench-mcq row 2: gold answer 'E' names E"):
        parse_mcq_rows([*rows[:2], {**rows[2], "GT": "E"}])
    with pytest.raises(ValueError, match=r"row 1: option D is missing"):
        parse_mcq_rows([rows[0], {k: v for k, v in rows[1].items() if k != "Option D"}])

    short = tmp_path / "short.tsv"
    with short.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["URL", "Description", "Prompt", "GT"])
        writer.writerow(["https://nvd.nist.gov/vuln/detail/CVE-2024-1", "text", "p", "CWE-79"])
        writer.writerow(["https://nvd.nist.gov/vuln/detail/CVE-2024-2", "text"])
    with pytest.raises(ValueError, match="t row 1: wrong number of tab-separated fields"):
        read_tsv(short, "t", ("URL", "Description", "GT"))
    with pytest.raises(ValueError, match=r"column\(s\) Nope missing from short.tsv"):
        read_tsv(short, "t", ("URL", "GT", "Nope"))

    rcm = read_tsv(data_dir / "ctibench" / "cti-rcm.tsv", "t", ("GT",))[:2]
    assert len(parse_rcm_rows(rcm)) == 2
    with pytest.raises(ValueError, match=r"row 1 \(CVE-[\d-]+\): gold 'XSS' is not a CWE id"):
        parse_rcm_rows([rcm[0], {**rcm[1], "GT": "XSS"}])
    with pytest.raises(ValueError, match="row 1: no CVE id"):
        parse_rcm_rows([rcm[0], {**rcm[1], "URL": "https://example.org/"}])
    with pytest.raises(ValueError, match="occurs twice"):
        parse_rcm_rows([rcm[0], rcm[0]])


# -- the real embedded model, end to end -----------------------------------------------------


@pytest.mark.slow
def test_real_model_answers_are_scored(gemma_gguf: Path, data_dir: Path, loaded) -> None:
    from harness.backends import BackendOptions, create_backend

    chosen = [
        (CyberMetric80(data_dir), loaded["cybermetric-80"][0]),
        (SecEval(data_dir), loaded["seceval"][1]),
        (CTIBenchRCM(data_dir), loaded["ctibench-rcm"][0]),
    ]
    requests = [
        GenerationRequest(
            key=f"qa-{n}",
            benchmark=bench.name,
            sample_id=sample.id,
            sample_index=0,
            messages=None,
            prompt=sample.completion_prompt,  # a base model without a chat template
            max_tokens=12,
            temperature=0.0,
            top_p=1.0,
            seed=0,
            stop=bench.stop_sequences("completion"),
        )
        for n, (bench, sample) in enumerate(chosen)
    ]
    backend = create_backend("embedded", BackendOptions(model=str(gemma_gguf), threads=1))
    try:
        assert backend.info().supports_chat is False
        generations = {req.key: gen for req, gen in backend.generate(requests)}
    finally:
        backend.close()
    assert set(generations) == {r.key for r in requests}
    for n, (bench, sample) in enumerate(chosen):
        generation = generations[f"qa-{n}"]
        assert generation.error is None and generation.completion_tokens
        answer = strip_reasoning(generation.text, generation.reasoning).answer
        (result,) = bench.score(
            [ScoringItem(sample, 0, generation, answer, "completion")], ScoringContext()
        )
        assert result.status == "ok"
        assert result.value in (0.0, 1.0)
        assert result.label in {"correct", "wrong", "no-answer"}
        assert result.values["answered"] in (0.0, 1.0)
        assert result.explanation and result.details["method"]
        if result.value == 1.0:
            assert result.label == "correct" and result.values["answered"] == 1.0
