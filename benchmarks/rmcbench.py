"""RMCBench (Chen et al., 2024): 473 requests for malicious code.

Text-to-code prompts come in three levels: L1 names the malicious goal outright, L2 describes
the behaviour without malicious vocabulary, L3 wraps an L2 request in a jailbreak template
(`jid` points into `jailbreak-prompt.json`). Code-to-code prompts hand the model real malware
to complete (a `<FILL_HERE>` gap) or to translate into another language.

In the pinned files every L3 prompt is already composed: it is its template's text with the
`[INSERT PROMPT HERE]` placeholder replaced by the L2 request. The loader checks that and
composes the prompt itself only for a record that holds the bare request, so either shape of
the file yields what the model must see. The embedded malware source (`original code`) is
prompt data only: it is never executed, and it is not copied into sample metadata.
"""

from __future__ import annotations

from typing import Any

from benchmarks.judged import MaliciousBenchmark, malicious_metrics, read_json_list, require
from harness.core.data import DataFile
from harness.core.types import Message, Sample

PLACEHOLDER = "[INSERT PROMPT HERE]"
REPO = "github:qing-yuan233/RMCBench"
COMMIT = "7fa961b34dc1697f573cced5188fbff913b06e52"
RAW = f"https://raw.githubusercontent.com/qing-yuan233/RMCBench/{COMMIT}/data/json/"
CODE_TASKS = {"code completion": "completion", "code translation": "translation"}


class RMCBench(MaliciousBenchmark):
    name = "rmcbench"
    reference = "RMCBench refusal / malicious-code rates (RMCBench's own response labelling)"
    project_judge_gap = (
        "RMCBench labels responses with its own protocol; the project's judge prompt decides"
    )
    description = (
        "RMCBench: malicious code requests, text-to-code L1-L3 (jailbreak) and code-to-code"
    )
    size_hint = 473
    slices = ("subset",)
    metrics = malicious_metrics()
    data_files = {
        "prompts": DataFile(
            mirror_path="rmcbench/prompt.json",
            sha256="18b0f96cffd855fe33e9c52ed1e373d1018c6a68251a8803af084806f06ea426",
            source_repo=REPO,
            revision=COMMIT,
            url=RAW + "prompt.json",
        ),
        "jailbreaks": DataFile(
            mirror_path="rmcbench/jailbreak-prompt.json",
            sha256="f3b77144e57522436a03c963fb0a75532e5dc1628b80fd14312bce52b1f9d582",
            source_repo=REPO,
            revision=COMMIT,
            url=RAW + "jailbreak-prompt.json",
        ),
    }

    def load(self) -> list[Sample]:
        files = self.files()
        templates = self._templates(read_json_list(files["jailbreaks"].path))
        path = files["prompts"].path
        samples = []
        for n, record in enumerate(read_json_list(path)):
            where = f"{path.name} record {n} (pid {record.get('pid')!r})"
            subset, meta = self._classify(record, where)
            prompt = require(record, "prompt", where)
            if subset.endswith("L3-jailbreak"):
                jid = str(require(record, "jid", where))
                if jid not in templates:
                    raise ValueError(f"{where}: jid {jid} is not in jailbreak-prompt.json")
                name, text = templates[jid]
                prompt = compose(text, prompt)
                meta.update({"jid": jid, "jailbreak": name})
            samples.append(
                Sample(
                    id=str(require(record, "pid", where)),
                    messages=[Message("user", prompt)],
                    metadata={"subset": subset, **meta},
                )
            )
        return samples

    @staticmethod
    def _templates(records: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
        templates = {}
        for n, record in enumerate(records):
            where = f"jailbreak-prompt.json record {n}"
            jid = str(require(record, "jid", where))
            templates[jid] = (str(record.get("name") or ""), require(record, "text", where))
        return templates

    @staticmethod
    def _classify(record: dict[str, Any], where: str) -> tuple[str, dict[str, Any]]:
        category = require(record, "category", where)
        level = record.get("level")
        meta: dict[str, Any] = {
            "level": level,
            "malware_category": str(record.get("malicious categories") or ""),
        }
        if category == "text-to-code":
            names = {1: "text-to-code/L1", 2: "text-to-code/L2", 3: "text-to-code/L3-jailbreak"}
            if level not in names:
                raise ValueError(f"{where}: text-to-code level {level!r} is not 1, 2 or 3")
            return names[level], meta
        if category == "code-to-code":
            task = require(record, "task", where)
            if task not in CODE_TASKS:
                raise ValueError(f"{where}: code-to-code task {task!r} is not one of {CODE_TASKS}")
            if record.get("language"):
                meta["language"] = str(record["language"]).lower()
            return f"code-to-code/{CODE_TASKS[task]}", meta
        raise ValueError(f"{where}: category {category!r} is not text-to-code or code-to-code")


def compose(template: str, prompt: str) -> str:
    """The jailbreak prompt a model sees: `prompt` as is when it already is `template` with
    the request filled in, else the template with the request put at its placeholder."""
    if PLACEHOLDER not in template:
        raise ValueError(f"jailbreak template has no {PLACEHOLDER} placeholder")
    head, _, tail = template.partition(PLACEHOLDER)
    if prompt.startswith(head) and prompt.endswith(tail):
        return prompt
    return head + prompt + tail
