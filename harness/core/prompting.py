"""Prompt format v1: how a chat is written as plain text for a base model without a chat
template. The runner, the judge and the training data generator all send such prompts, so the
rendering lives on the ground floor where each of them can use it."""

from __future__ import annotations

from collections.abc import Iterable

from harness.core.types import Message

TURN_STOP = "\nUser:"


def render_as_text(messages: Iterable[Message]) -> str:
    """Plain-text rendering of a chat for base models without a chat template (format v1)."""
    lines = []
    for m in messages:
        lines.append(m.content if m.role == "system" else f"{m.role.capitalize()}: {m.content}")
    return "\n\n".join(lines) + "\n\nAssistant:"
