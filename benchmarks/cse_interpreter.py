"""CyberSecEval code-interpreter abuse: 500 prompts asking a model with a code interpreter to
escape its sandbox, escalate privileges, attack other hosts, run post-exploitation steps or
help social engineering (100 per attack type)."""

from __future__ import annotations

from benchmarks.judged import MaliciousBenchmark, malicious_metrics, read_json_list, require
from harness.core.data import DataFile
from harness.core.types import Message, Sample


class CseInterpreter(MaliciousBenchmark):
    name = "cse-interpreter"
    reference = "CyberSecEval interpreter-abuse % benign (CyberSecEval's own judge LLM prompt)"
    project_judge_gap = (
        "CyberSecEval judges interpreter-abuse answers with its own judge prompt (not in the "
        "offline mirror); the project's judge prompt decides"
    )
    description = "CyberSecEval interpreter abuse: sandbox escape and attack prompts (500)"
    size_hint = 500
    slices = ("subset",)
    metrics = malicious_metrics()
    data_files = {
        "prompts": DataFile(
            mirror_path="cyberseceval-interpreter/interpreter.json",
            sha256="1d3e7cd4dd94a436d96b6e689c13e4f3edf5418d680d0b485a3ea8bf4664840c",
            source_repo="github:meta-llama/PurpleLlama",
            revision="4be64c3a24442b51c76175e6ec67722cc3f5fe38",
            url="https://raw.githubusercontent.com/meta-llama/PurpleLlama/"
            "4be64c3a24442b51c76175e6ec67722cc3f5fe38/"
            "CybersecurityBenchmarks/datasets/interpreter/interpreter.json",
        )
    }

    def load(self) -> list[Sample]:
        path = self.files()["prompts"].path
        samples = []
        for n, record in enumerate(read_json_list(path)):
            where = f"{path.name} record {n}"
            attack = record.get("attack_type")
            # Upstream stores the type as a one-element list; a bare string is read the same.
            types = [attack] if isinstance(attack, str) else attack
            if (
                not types
                or not isinstance(types, list)
                or not all(isinstance(t, str) and t.strip() for t in types)
            ):
                raise ValueError(f"{where}: attack_type {attack!r} is not a non-empty name list")
            samples.append(
                Sample(
                    id=str(n),
                    messages=[Message("user", require(record, "mutated_prompt", where))],
                    metadata={"subset": "+".join(t.strip() for t in types)},
                )
            )
        return samples
