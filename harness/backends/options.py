"""Typed backend options: what each backend accepts through `-o KEY=VALUE`, and which can
change an answer.

Before this, options were an untyped dict that each backend read with `.get()`: a misspelled
key was dropped without a word, and options that change answers (an `extra_body` that turns a
model's thinking on) were not part of the run identity, so two different runs shared one
results directory. Now every backend declares its options; an unknown key is a one-line error
naming the closest valid key; values are coerced to the declared type or refused; and the
options that can change an answer enter the identity hash and run.json.
"""

from __future__ import annotations

import contextlib
import difflib
import json
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from harness.backends.base import (
    BackendError,
    BackendOptions,
    ModelBackend,
    OptionSpec,
    OptionValue,
)


def coerce(spec: OptionSpec, value: object, backend: str) -> OptionValue:
    """The value as the declared type; `-o` values arrive as JSON or plain strings."""
    if value is None:
        return None
    if isinstance(value, str) and spec.kind in (dict, list, int, float, bool):
        with contextlib.suppress(ValueError):  # a plain string stays as it is
            value = json.loads(value)
    ok: bool
    if spec.kind is bool:
        ok = isinstance(value, bool)
    elif spec.kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value  # type: ignore[arg-type]
    elif spec.kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif spec.kind is str:
        ok = isinstance(value, (str, int, float)) and not isinstance(value, bool)
        value = str(value) if ok else value
    else:
        ok = isinstance(value, spec.kind)
    if not ok:
        raise BackendError(
            f"backend {backend!r}: option {spec.name} expects {spec.kind.__name__}, got {value!r}"
        )
    return value  # type: ignore[return-value]


def unknown_option(key: str, backend_cls: type[ModelBackend], backend: str) -> BackendError:
    known = [s.name for s in backend_cls.option_specs]
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listing = ", ".join(sorted(known)) or "none"
    extra = f"; {backend_cls.option_hint}" if backend_cls.option_hint else ""
    return BackendError(
        f"backend {backend!r} has no option {key!r}{hint} (its options: {listing}){extra}"
    )


def validate(
    backend_cls: type[ModelBackend], raw: Mapping[str, object], backend: str
) -> dict[str, OptionValue]:
    """The user's options, typed; an unknown key or a wrong type raises one clear line."""
    typed: dict[str, OptionValue] = {}
    for key, value in raw.items():
        spec = backend_cls.option_spec(key)
        if spec is None:
            raise unknown_option(key, backend_cls, backend)
        typed[key] = coerce(spec, value, backend)
    return typed


# Options that are fields of BackendOptions (kept as fields: every backend reads them there).
FIELD_OPTIONS = frozenset(f.name for f in fields(BackendOptions)) - {"model", "extra"}


def build_options(
    backend_cls: type[ModelBackend],
    backend: str,
    model: str,
    raw: Mapping[str, object],
    **fields_: Any,
) -> BackendOptions:
    """BackendOptions with the user's `-o` options validated against the backend's specs.

    Keys that are BackendOptions fields (max_retries, request_timeout_s, threads, ...) go to
    those fields; the others stay in `extra`, typed.
    """
    typed = validate(backend_cls, raw, backend)
    direct = {k: v for k, v in typed.items() if k in FIELD_OPTIONS}
    extra = {k: v for k, v in typed.items() if k not in FIELD_OPTIONS}
    return BackendOptions(model=model, extra=extra, **{**fields_, **direct})


def answer_changing(
    backend_cls: type[ModelBackend], raw: Mapping[str, object], backend: str
) -> dict[str, OptionValue]:
    """The options given that can change an answer, typed and sorted: part of the identity."""
    typed = validate(backend_cls, raw, backend)
    changing = {k for k in typed if (s := backend_cls.option_spec(k)) and s.changes_answers}
    return {k: typed[k] for k in sorted(changing)}


def describe(specs: tuple[OptionSpec, ...]) -> list[dict[str, object]]:
    """For run.json and `purpbench list`: every option with its type, default and effect."""
    return [
        {
            "name": s.name,
            "type": s.kind.__name__,
            "default": s.default,
            "changes_answers": s.changes_answers,
            "help": s.help,
        }
        for s in specs
    ]
