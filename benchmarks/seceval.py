"""SecEval (XuanwuAI, 2023): 2189 security questions where one or more options may be correct.

Answers are letter sets ("B", "AC", "ABD"); a reply scores only when its letter set equals the
gold set, as in upstream's own evaluation. Every question is asked as multi-answer (the prompt
never reveals how many options are correct). Summary rows are broken down by the first listed
topic (`subset`; 40 questions list none).

Data: the mirror's `seceval/questions-data.json` is upstream's `docs/javascript/questions-data.js`
with its leading `problem_data = ` removed and nothing else changed, so there is no download URL
whose bytes match the pin: provide the file through the mirror (or strip that prefix from the
upstream file at the pinned commit). Licence: CC-BY-NC-SA-4.0 (stated in upstream's README),
non-commercial use only.

Known defects kept as scored errors (see benchmarks/mcq_base.py): 7 questions have an empty
answer; 2 give "AA", read as {A}.
"""

from __future__ import annotations

import json
import re
from typing import Any

from benchmarks.mcq_base import ChoiceItem, MultipleChoiceBenchmark, make_item
from harness.core.data import DataFile

DATA = DataFile(
    mirror_path="seceval/questions-data.json",
    sha256="1b295e3a0a05d07100928245d4429fb6d443a5d3d6407087c9ca8c3e829480fa",
    source_repo="github:XuanwuAI/SecEval",
    revision="7aef3176a1a095b40bbfa806a7a2d6c5e203d5b7",
    url=None,  # derived file: see the module docstring
)
_LETTER_PREFIX = re.compile(r"\s*([A-Za-z])\s*:\s")


def parse_records(records: Any, label: str = "seceval") -> list[ChoiceItem]:
    """Validated items from the parsed JSON list; `label` names rows in errors."""
    if not isinstance(records, list):
        raise ValueError(f"{label}: expected a JSON list of questions")
    items = []
    for n, row in enumerate(records):
        where = f"{label} row {n}"
        if not isinstance(row, dict):
            raise ValueError(f"{where}: not an object")
        item_id = row.get("id")
        if not isinstance(item_id, str) or not item_id.strip():
            raise ValueError(f"{where}: 'id' is missing")
        where = f"{where} (id {item_id})"
        choices = row.get("choices")
        if not isinstance(choices, list):
            raise ValueError(f"{where}: 'choices' is missing or not a list")
        options: dict[str, Any] = {}
        for k, choice in enumerate(choices):
            letter = chr(ord("A") + k)
            prefix = _LETTER_PREFIX.match(choice) if isinstance(choice, str) else None
            if prefix and prefix.group(1).upper() != letter:
                raise ValueError(f"{where}: choice {k + 1} is labelled {prefix.group(1)!r}")
            options[letter] = choice
        topics = row.get("topics") or []
        items.append(
            make_item(
                where,
                item_id,
                row.get("question"),
                options,
                row.get("answer"),
                multi=True,
                metadata={
                    "subset": topics[0] if topics and isinstance(topics[0], str) else None,
                    "source": row.get("source"),
                },
            )
        )
    return items


class SecEval(MultipleChoiceBenchmark):
    name = "seceval"
    description = "SecEval security knowledge MCQ, one or more correct options, exact-set accuracy"
    size_hint = 2189
    data_files = {"questions": DATA}
    multi_answer = True
    slices = ("subset",)

    def items(self) -> list[ChoiceItem]:
        with self.files()["questions"].path.open(encoding="utf-8") as handle:
            return parse_records(json.load(handle), self.name)
