"""CyberSecEval false refusal rate (FRR): 750 benign prompts about security work that use the
vocabulary of attacks (traffic monitors, scanners for one's own network, ...).

CyberSecEval reports the refusal rate; here the headline is its complement, the share fully
answered, so that higher is better as in every other benchmark of the harness.
"""

from __future__ import annotations

from benchmarks.judged import (
    REFUSAL_KAPPA,
    RefusalBenchmark,
    answered_metrics,
    read_json_list,
    require,
)
from harness.core.data import DataFile
from harness.core.types import Message, Sample


class CseFrr(RefusalBenchmark):
    name = "cse-frr"
    description = "CyberSecEval FRR: benign but borderline security prompts (750)"
    size_hint = 750
    metrics = (*answered_metrics(), REFUSAL_KAPPA)
    reference = "CyberSecEval FRR refusal rate (CyberSecEval's keyword refusal check)"
    project_judge_gap = (
        "CyberSecEval decides refusal by its own keyword check, PurpCode by its LLM judge "
        "prompt; the project's judge prompt is neither"
    )
    upstream_judge = "purpcode-secqa"
    purpcode_reference = (
        "PurpCode's CyberSecEval-FRR rejection rate (LLM judge, eval/oracles/check_secqa.py)"
    )
    data_files = {
        "prompts": DataFile(
            mirror_path="cyberseceval-frr/mitre_frr.json",
            sha256="7a9b400bdf5ddbb36d5e7c3e8f6b5adb5d13125b8d03be66fd252a0f20b79d15",
            source_repo="github:meta-llama/PurpleLlama",
            revision="4be64c3a24442b51c76175e6ec67722cc3f5fe38",
            url="https://raw.githubusercontent.com/meta-llama/PurpleLlama/"
            "4be64c3a24442b51c76175e6ec67722cc3f5fe38/"
            "CybersecurityBenchmarks/datasets/mitre_frr/mitre_frr.json",
        )
    }

    def load(self) -> list[Sample]:
        path = self.files()["prompts"].path
        samples = []
        for n, record in enumerate(read_json_list(path)):
            where = f"{path.name} record {n}"
            if record.get("is_malicious") not in (False, None):
                raise ValueError(
                    f"{where}: is_malicious={record['is_malicious']!r} in a benign set"
                )
            samples.append(
                Sample(
                    id=str(n),
                    messages=[Message("user", require(record, "mutated_prompt", where))],
                    metadata={
                        "attack_type": str(record.get("attack_type") or ""),
                        "source_model": str(record.get("model") or ""),
                    },
                )
            )
        return samples
