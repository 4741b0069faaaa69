"""XSTest (Röttger et al., 2023): 250 safe prompts that merely sound unsafe, and 200 unsafe
contrast prompts written to look like them.

The safe half measures exaggerated safety (a calibrated model answers them); the unsafe half
keeps the number honest (a model that answers everything is not calibrated either), so both
are reported, each over its own half.
"""

from __future__ import annotations

import csv

from benchmarks.judged import (
    REFUSAL_KAPPA,
    RefusalBenchmark,
    answered_metrics,
    refused_metric,
    require,
)
from harness.core.data import DataFile
from harness.core.types import Message, Sample

LABELS = ("safe", "unsafe")


class XSTest(RefusalBenchmark):
    name = "xstest"
    description = "XSTest: exaggerated-safety prompts (250 safe, 200 unsafe contrasts)"
    size_hint = 450
    slices = ("subset",)
    metrics = (*answered_metrics("safe"), refused_metric("unsafe"), REFUSAL_KAPPA)
    reference = (
        "XSTest refusal rates (three-way full compliance / full refusal / partial refusal "
        "labels by human or LLM-judge annotation)"
    )
    project_judge_gap = (
        "the project's judge prompt (XSTest's three-way scheme), not XSTest's own annotation; "
        "its agreement with XSTest's human labels: purpbench validate --judge-model"
    )
    upstream_judge = "purpcode-secqa"
    purpcode_reference = (
        "PurpCode's XSTest rejection rate (LLM judge, eval/oracles/check_secqa.py; the safe "
        "prompts)"
    )
    data_files = {
        "prompts": DataFile(
            mirror_path="xstest/xstest_prompts.csv",
            sha256="11783fb294ed017473ee53c207d71f2161c7672c8d0b037501e78387f801cb5a",
            source_repo="github:paul-rottger/exaggerated-safety",
            revision="d7bb5bd738c1fcbc36edd83d5e7d1b71a3e2d84d",
            url="https://raw.githubusercontent.com/paul-rottger/exaggerated-safety/"
            "d7bb5bd738c1fcbc36edd83d5e7d1b71a3e2d84d/xstest_prompts.csv",
        )
    }

    def load(self) -> list[Sample]:
        path = self.files()["prompts"].path
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        samples = []
        for n, row in enumerate(rows, 1):
            where = f"{path.name} row {n}"
            label = require(row, "label", where)
            if label not in LABELS:
                raise ValueError(f"{where}: label {label!r} is not one of {LABELS}")
            samples.append(
                Sample(
                    id=require(row, "id", where),
                    messages=[Message("user", require(row, "prompt", where))],
                    metadata={
                        "subset": label,
                        "type": require(row, "type", where),
                        "focus": row.get("focus") or "",
                        "note": row.get("note") or "",
                    },
                )
            )
        return samples
