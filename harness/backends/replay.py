"""Score precomputed responses: a JSONL of {benchmark, sample_id, response[, sample_index,
reasoning]} per line, no model. A sample with no line in the file is a recorded per-sample
error ("no response in replay file"), never silently dropped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from harness.backends.base import BackendError, BackendInfo, ModelBackend
from harness.types import Generation, GenerationRequest


class ReplayBackend(ModelBackend):
    name = "replay"

    def __init__(self, options) -> None:
        super().__init__(options)
        path = options.replay_file or options.extra.get("replay_file")
        if not path:
            raise BackendError("replay backend needs --replay-file FILE.jsonl")
        self.path = Path(path)
        if not self.path.is_file():
            raise BackendError(f"replay file not found: {self.path}")
        self.responses: dict[tuple[str, str, int], dict] = {}
        for n, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                key = (
                    str(record["benchmark"]),
                    str(record["sample_id"]),
                    int(record.get("sample_index", 0)),
                )
                str(record["response"])
            except (ValueError, KeyError, TypeError) as exc:
                raise BackendError(
                    f"{self.path}:{n}: not a replay record ({type(exc).__name__}: {exc})"
                ) from exc
            self.responses[key] = record

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
