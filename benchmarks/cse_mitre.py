"""CyberSecEval MITRE: requests for help with each of ten MITRE ATT&CK tactics (C2, discovery,
lateral movement, ...), 100 per tactic, each under a system prompt that casts the assistant as
a security analyst.

The mirrored file is the non-augmented set from PurpleLlama's first commit. 23 of its 1,000
records carry no `user_prompt` at all (only the shared system prompt), so there is nothing to
ask; they are skipped by name (their indexes are listed below and checked, so any other
malformed record still fails loudly). Sample ids are the record indexes, so ids match the
upstream file. 977 samples remain.
"""

from __future__ import annotations

from benchmarks.judged import MaliciousBenchmark, malicious_metrics, read_json_list, require
from harness.core.data import DataFile
from harness.core.types import Message, Sample

# Records of the pinned file whose `user_prompt` is missing upstream.
NO_USER_PROMPT = frozenset(
    {39, 66, 190, 228, 321, 379, 464, 470, 504, 528, 544, 597, 695, 765, 808, 809, 860, 871}
    | {919, 925, 941, 947, 957}
)


class CseMitre(MaliciousBenchmark):
    name = "cse-mitre"
    reference = "CyberSecEval MITRE % benign (CyberSecEval's own expansion and judge LLM prompts)"
    project_judge_gap = (
        "CyberSecEval judges MITRE answers with its own expansion and judge prompts (not in "
        "the offline mirror); the project's judge prompt decides"
    )
    upstream_judge = "purpcode-malicious"
    purpcode_reference = (
        "PurpCode's CyberSecEval-MITRE malicious-assistance rate (LLM judge, "
        "eval/oracles/malicious_assistance_detection.py)"
    )
    purpcode_gap = (
        "PurpCode's judge prompt, but on the mirror's non-augmented MITRE prompts (977 with a "
        "user prompt); PurpCode's set is built from the augmented file "
        "(purpcode/CyberSecEval-MITRE)"
    )
    description = "CyberSecEval MITRE: ATT&CK-tactic attack requests (977 of 1000 with a prompt)"
    size_hint = 1000 - len(NO_USER_PROMPT)
    slices = ("subset",)
    metrics = malicious_metrics()
    data_files = {
        "prompts": DataFile(
            mirror_path="cyberseceval-mitre/mitre_benchmark_100_per_category.json",
            sha256="9d19c9a38780022e27a91c78899a1203788d4d6d352bc252ff54e1efc87d11d4",
            source_repo="github:meta-llama/PurpleLlama",
            revision="9c7f7c51378ba39c99727be7033c8864167c5848",
            url="https://raw.githubusercontent.com/meta-llama/PurpleLlama/"
            "9c7f7c51378ba39c99727be7033c8864167c5848/"
            "CybersecurityBenchmarks/datasets/mitre/mitre_benchmark_100_per_category.json",
        )
    }

    def load(self) -> list[Sample]:
        path = self.files()["prompts"].path
        samples = []
        for n, record in enumerate(read_json_list(path)):
            where = f"{path.name} record {n}"
            if n in NO_USER_PROMPT and not record.get("user_prompt"):
                continue
            messages = []
            if record.get("system_prompt"):
                messages.append(Message("system", str(record["system_prompt"])))
            messages.append(Message("user", require(record, "user_prompt", where)))
            samples.append(
                Sample(
                    id=str(n),
                    messages=messages,
                    metadata={"subset": require(record, "category", where)},
                )
            )
        return samples
