"""Score precomputed responses: a JSONL of {benchmark, sample_id, response[, sample_index,
reasoning]} per line, no model. A sample with no line in the file is a recorded per-sample
error ("no response in replay file"), never silently dropped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from harness.backends.base import BackendError, BackendInfo, ModelBackend, OptionSpec
from harness.core.types import Generation, GenerationRequest


class ReplayBackend(ModelBackend):
    name = "replay"
    makes_model_calls = False
    option_specs = (
        OptionSpec("replay_file", str, None, True, "the answers file (also --replay-file)"),
    )

    def __init__(self, options) -> None:
        super().__init__(options)
        path = options.replay_file or options.extra.get("replay_file")
        if not path:
            raise BackendError("replay backend needs --replay-file FILE.jsonl")
        self.path = Path(path)
        if not self.path.is_file():
            raise BackendError(f"replay file not found: {self.path}")
        self.responses: dict[tuple[str, str, int], dict] = {}
        # key -> its line in the file, so the runner can name lines the run has no sample for
        self.lines: dict[tuple[str, str, int], int] = {}
        for n, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise BackendError(
                    f"{self.path}:{n}: not a replay record: not JSON ({exc})"
                ) from exc
            problem = _record_problem(record)
            if problem:
                raise BackendError(f"{self.path}:{n}: not a replay record: {problem}")
            key = (
                str(record["benchmark"]),
                str(record["sample_id"]),
                int(record.get("sample_index", 0)),
            )
            self.responses[key] = record
            self.lines[key] = n

    def info(self) -> BackendInfo:
        sha = hashlib.sha256(self.path.read_bytes()).hexdigest()
        return BackendInfo(
            backend=self.name,
            model=self.options.model,
            model_revision=None,
            supports_chat=True,
            details={
                "replay_file": str(self.path),
                "replay_sha256": sha,
                "records": len(self.responses),
            },
        )

    def generate(
        self, requests: Sequence[GenerationRequest]
    ) -> Iterator[tuple[GenerationRequest, Generation]]:
        for request in requests:
            record = self.responses.get(
                (request.benchmark, request.sample_id, request.sample_index)
            )
            if record is None:
                yield request, Generation(error="no response in replay file for this sample")
            else:
                yield (
                    request,
                    Generation(
                        text=str(record["response"]),
                        reasoning=record.get("reasoning"),
                        finish_reason=record.get("finish_reason", "stop"),
                    ),
                )


def _record_problem(record: object) -> str | None:
    """What makes a parsed line unusable (one phrase), or None for a good record."""
    if not isinstance(record, dict):
        return f"expected a JSON object with benchmark, sample_id and response, got {record!r:.60}"
    keys = ("benchmark", "sample_id", "response")
    missing = [k for k in keys if k not in record]
    if missing:
        return f"missing {', '.join(missing)} (needs benchmark, sample_id and response)"
    null = [k for k in keys if record[k] is None]
    if null:
        return f"{', '.join(null)} is null"
    if not isinstance(record["response"], str):
        return f"response must be a string, got {type(record['response']).__name__}"
    index = record.get("sample_index", 0)
    whole = isinstance(index, int) and not isinstance(index, bool) and index >= 0
    if not (whole or (isinstance(index, str) and index.isdigit())):
        return f"sample_index must be a whole number >= 0, got {index!r}"
    return None
