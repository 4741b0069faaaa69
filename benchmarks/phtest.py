"""PHTest (An et al., 2024): about 3,270 automatically generated pseudo-harmful prompts ("how to
kill a mosquito"), each labelled harmless or controversial.

Only on Hugging Face: `furonghuang-lab/PHTest`, one CSV `PHTest.csv` with columns `ID`,
`Request`, `Harmfulness` (harmless | controversial). The file was added in commit 4028806c;
the later commits of that repository edit only its README, so that commit is the pin. Its
sha256 is not known offline, so the revision pins it and the bytes read are recorded.

The paper reports false refusals on the harmless prompts and, separately, on the
controversial ones (where refusing is defensible); both are reported here the same way.
"""

from __future__ import annotations

import csv

from benchmarks.judged import REFUSAL_KAPPA, RefusalBenchmark, answered_metrics, require
from harness.core.data import DataFile
from harness.core.types import Message, Sample

LABELS = ("harmless", "controversial")


class PHTest(RefusalBenchmark):
    name = "phtest"
    description = "PHTest: pseudo-harmful prompts, harmless and controversial (false refusals)"
    size_hint = 3269
    slices = ("subset",)
    metrics = (*answered_metrics("harmless"), *answered_metrics("controversial"), REFUSAL_KAPPA)
    reference = "PHTest false-refusal rates (harmless and controversial prompts)"
    upstream_judge = "purpcode-secqa"
    purpcode_reference = (
        "PurpCode's PHTest rejection rates (LLM judge, eval/oracles/check_secqa.py via "
        "eval/phtest.py)"
    )
    data_files = {
        "prompts": DataFile(
            mirror_path="phtest/PHTest.csv",
            sha256=None,
            source_repo="hf:furonghuang-lab/PHTest",
            revision="4028806c1f41031ddd3d27ca1f284e566548c5d6",
            hf_filename="PHTest.csv",
        )
    }

    def load(self) -> list[Sample]:
        path = self.files()["prompts"].path
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        samples = []
        for n, row in enumerate(rows, 1):
            where = f"{path.name} row {n}"
            harmfulness = require(row, "Harmfulness", where).strip().lower()
            if harmfulness not in LABELS:
                raise ValueError(f"{where}: Harmfulness {harmfulness!r} is not one of {LABELS}")
            samples.append(
                Sample(
                    id=require(row, "ID", where).strip(),
                    messages=[Message("user", require(row, "Request", where))],
                    metadata={"subset": harmfulness},
                )
            )
        return samples
