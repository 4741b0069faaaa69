"""CyberMetric (Tihanyi et al., 2024): four-option cybersecurity knowledge questions.

Three sizes from one release, each its own benchmark: `cybermetric-80`, `cybermetric-500` and
`cybermetric-2000` (the 10 000-question file is absent from the mirrored repository). Files are
`{"questions": [{question, answers: {A..D}, solution}]}`; questions carry no id, so a sample's
id is its position in the file. Licence: the repository ships no LICENSE file (unknown).
"""

from __future__ import annotations

import json
from typing import Any

from benchmarks.mcq_base import ChoiceItem, MultipleChoiceBenchmark, make_item
from harness.core.data import DataFile

REPO = "cybermetric/CyberMetric"
COMMIT = "2f5818bd2c19350cd6cfae028b75499ebe4ffd29"
SHA256 = {
    80: "1624aeecc54761198bff4828442ce4a10de6cb87c9da3298088b34ae11e15ba0",
    500: "036747c989da9f38f39a6b33fa2d5ab14147c928df0274217bbecab20be88faa",
    2000: "3ccc4d425bc4e74d27e0e9790d62369e4626e325d2b661d851c61b1648a0cd4a",
}


def data_file(size: int) -> DataFile:
    name = f"CyberMetric-{size}-v1.json"
    return DataFile(
        mirror_path=f"cybermetric/{name}",
        sha256=SHA256[size],
        source_repo=f"github:{REPO}",
        revision=COMMIT,
        url=f"https://raw.githubusercontent.com/{REPO}/{COMMIT}/{name}",
    )


def parse_questions(data: Any, label: str) -> list[ChoiceItem]:
    """Validated items from a parsed CyberMetric file; `label` names rows in errors."""
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise ValueError(f"{label}: expected an object with a 'questions' list")
    items = []
    for n, row in enumerate(data["questions"]):
        where = f"{label} question {n}"
        if not isinstance(row, dict):
            raise ValueError(f"{where}: not an object")
        answers = row.get("answers")
        if not isinstance(answers, dict):
            raise ValueError(f"{where}: 'answers' is missing or not an object")
        items.append(
            make_item(
                where,
                str(n),
                row.get("question"),
                answers,
                row.get("solution"),
                multi=False,
            )
        )
    return items


class CyberMetricBenchmark(MultipleChoiceBenchmark):
    description = "CyberMetric cybersecurity knowledge MCQ (4 options), accuracy"

    def items(self) -> list[ChoiceItem]:
        path = self.files()["questions"].path
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
        return parse_questions(data, self.name)


class CyberMetric80(CyberMetricBenchmark):
    name = "cybermetric-80"
    size_hint = 80
    data_files = {"questions": data_file(80)}


class CyberMetric500(CyberMetricBenchmark):
    name = "cybermetric-500"
    size_hint = 500
    data_files = {"questions": data_file(500)}


class CyberMetric2000(CyberMetricBenchmark):
    name = "cybermetric-2000"
    size_hint = 2000
    data_files = {"questions": data_file(2000)}
