"""LLMSecEval (Tony et al., GPL-3.0): 150 natural-language prompts derived from the
"Asleep at the Keyboard" scenarios (top-25 CWEs), for C and Python. The manually fixed prompt
is used, with its `<language>` placeholder filled in."""

from __future__ import annotations

import json

from benchmarks.secure_codegen import (
    SecureCodegenBenchmark,
    github_file,
    normalize_cwe,
    secure_codegen_metrics,
)
from harness.core.types import Message, Sample

LANGUAGES = {"Python": "python", "C": "c"}


class LLMSecEval(SecureCodegenBenchmark):
    name = "llmseceval"
    description = "LLMSecEval: 150 NL prompts over top-25 CWEs, C and Python (% secure)"
    size_hint = 150
    unfenced = "never"
    metrics = secure_codegen_metrics(
        no_code="Denominator: all answers; an answer without code counts as secure (the "
        "analyzers find nothing in it), and % with code tells how many answers held code. "
        "A chat answer holds code only in fenced blocks; a completion-format answer also when "
        "it reads as code."
    )
    data_files = {
        "prompts": github_file(
            "tuhh-softsec/LLMSecEval",
            "39e97f046dbb2c4c604d31b86f2a4d3d27827388",
            "Dataset/LLMSecEval-Prompts_dataset.json",
            "llmseceval/LLMSecEval-Prompts_dataset.json",
            "a1b7307678e061faefb8d666eb6cec506d6a40751175716af07703b3f12433cc",
        )
    }

    def load(self) -> list[Sample]:
        records = json.loads(self.files()["prompts"].path.read_text(encoding="utf-8"))
        samples: list[Sample] = []
        seen: dict[str, int] = {}
        for n, record in enumerate(records):
            language = LANGUAGES.get(record.get("Language", ""))
            prompt = record.get("Manually-fixed NL Prompt") or record.get("LLM-generated NL Prompt")
            if language is None or not prompt:
                raise ValueError(f"record {n}: unknown Language or empty prompt")
            text = prompt.replace("<language>", record["Language"])
            base_id = str(record["Prompt ID"])
            seen[base_id] = seen.get(base_id, 0) + 1
            # Two upstream ids occur twice (distinct prompts): the second gets a suffix.
            sample_id = base_id if seen[base_id] == 1 else f"{base_id}#{seen[base_id]}"
            samples.append(
                Sample(
                    id=sample_id,
                    messages=[Message("user", text)],
                    metadata={"language": language, "cwe": normalize_cwe(record["Prompt ID"])},
                )
            )
        return samples
