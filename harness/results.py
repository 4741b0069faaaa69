"""Results on disk: one directory per run, Parquet parts written as samples finish.

    <output>/<run_id>/run.json            identity and config of the run (no secrets)
    <output>/<run_id>/generations.jsonl   every model answer, appended as it arrives (resume cache)
    <output>/<run_id>/samples/part-*.parquet   scored rows, one part per scored batch
    <output>/<run_id>/summary/part-0.parquet   metrics with 95% CIs (rewritten at the end;
                                               benchmarks of earlier invocations kept)
    <output>/<run_id>/run.lock, run.lock.json  one writer at a time (harness.core.run_lock)
    <output>/<run_id>/damaged/<UTC time>/      files found unreadable, moved aside, never deleted

Parts are written to a temporary name and renamed, so a killed run never leaves a torn file;
`pandas.read_parquet(<run>/samples)` reads all parts. A part is named by a sequence number (its
place in write order: a later row of a sample supersedes an earlier one) and a token of the
process that wrote it, so two writers can never pick the same name. The schema is fixed in
harness.core.schema (and results/README.md) so that every part of every run has the same columns
and types; a row that does not fit it is refused on write (`RowError`), never coerced.

A file that cannot be read as what it must be (a part torn by a full disk, garbage, a run.json
that is not JSON) is found by `inspect`; `repair` moves it into `damaged/` so that the runner
rebuilds its rows from the generation log by rescoring, without asking the model again. A write
that fails (disk full, read-only filesystem, a file where a directory belongs) is a `StoreError`
naming the path, raised the moment it happens.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from harness.core.preflight import output_problem
from harness.core.run_lock import LOCK_NAME, Holder, RunBusy, RunLock
from harness.core.schema import (
    IDENTITY_FIELDS,
    READABLE_VERSIONS,
    SAMPLE_FIELDS,
    SAMPLE_SCHEMA,
    SCHEMA_VERSION,
    SUMMARY_FIELDS,
    SUMMARY_SCHEMA,
    SUMMARY_V3_COLUMNS,
    RowError,
    SchemaMismatch,
    check_version,
    table_from_rows,
    upgrade_summary,
)
from harness.core.types import Generation

# The schema lives in harness.core.schema; these names stay importable from here for callers.
__all__ = [
    "IDENTITY_FIELDS",
    "READABLE_VERSIONS",
    "SAMPLE_FIELDS",
    "SAMPLE_SCHEMA",
    "SCHEMA_VERSION",
    "SUMMARY_FIELDS",
    "SUMMARY_SCHEMA",
    "Damage",
    "RowError",
    "RunBusy",
    "RunStore",
    "SchemaMismatch",
    "StoreError",
    "check_output",
    "list_parts",
    "read_parts",
    "resolve_run_dir",
    "table_from_rows",
]

DAMAGED_DIR = "damaged"
_PART = re.compile(r"^part-(\d+)")
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_DENIED = (errno.EROFS, errno.EACCES, errno.EPERM)
_IN_THE_WAY = (errno.ENOTDIR, errno.EEXIST, errno.EISDIR)
# What pyarrow raises for a file that is not (or no longer) Parquet: ArrowInvalid (a
# ValueError) for a bad footer, OSError for a page that does not decode.
_UNREADABLE = (OSError, ValueError, pa.ArrowException)


class StoreError(Exception):
    """A run directory cannot be written (disk full, read-only, no permission, a file where a
    directory belongs) or read: one line naming the path. Work finished before it is kept."""


def _reason(exc: OSError) -> str:
    """The OS's reason in a few words, and what to do about it."""
    code = exc.errno
    text = os.strerror(code) if code else (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if code in _FULL:
        return (
            f"{text}: free some space and run the same command again (answers and rows "
            "written so far are kept)"
        )
    if code in _DENIED:
        return f"{text}: use a writable --output"
    if code in _IN_THE_WAY:
        return f"{text}: a file is where a directory belongs, or the reverse"
    return text


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Any OSError inside becomes one StoreError line naming `path`."""
    try:
        yield
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {_reason(exc)}") from None


def check_output(root: Path) -> None:
    """Before any work: `--output` is a directory, or can be made one, where files can be
    written (`harness.core.preflight`; nothing is created). The CLI checks it before loading
    anything; this is the same check for the runner's other callers (training, scripts)."""
    problem = output_problem(root)
    if problem:
        raise StoreError(problem)


def part_order(path: Path) -> tuple[int, str]:
    """Write order of a part: its sequence number, then its name (old parts are
    `part-000003.parquet`, new ones `part-000003-<pid>-<token>.parquet`)."""
    match = _PART.match(path.name)
    return (int(match.group(1)) if match else -1, path.name)


def list_parts(directory: Path) -> list[Path]:
    """The Parquet parts of a samples or summary directory, in write order."""
    if not directory.is_dir():
        return []
    return sorted((p for p in directory.glob("part-*.parquet") if p.is_file()), key=part_order)


@dataclass(frozen=True)
class Damage:
    """A file of a run that cannot be read as what it must be."""

    path: Path
    reason: str


def _first_line(exc: BaseException) -> str:
    text = re.sub(r"^Could not open Parquet input source '[^']*': ", "", str(exc).strip())
    return text.splitlines()[0] if text else type(exc).__name__


def _part_problem(part: Path, schema: pa.Schema, optional: Iterable[str], full: bool) -> str | None:
    """Why `part` is not a readable part of `schema` (columns in `optional` may be missing), or
    None. `full` decodes every page (a torn or overwritten page is found); else the footer only.
    A part that vanished meanwhile (compacted by the run's writer) is no problem."""
    try:
        if full:
            table = pq.read_table(part)
            names = table.schema.names
        else:
            names = pq.read_schema(part).names
    except FileNotFoundError:
        return None
    except _UNREADABLE as exc:
        return f"not readable as Parquet: {_first_line(exc)}"
    skip = set(optional)
    missing = [n for n in schema.names if n not in names and n not in skip]
    if missing:
        return f"lacks column(s) {', '.join(missing)}"
    if full:
        present = [f for f in schema if f.name in names]
        try:
            table.select([f.name for f in present]).cast(pa.schema(present))
        except _UNREADABLE as exc:
            return f"columns of the wrong type: {_first_line(exc)}"
    return None


def _load_manifest(path: Path) -> tuple[dict[str, Any], str | None]:
    """run.json as a dict, or ({}, why it is not one)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        return {}, f"not readable as JSON: {_first_line(exc)}"
    if not isinstance(data, dict):
        return {}, "not a JSON object"
    return data, None


def _write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written (a full disk makes a write short, then fail)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class RunStore:
    """All file access of one run directory.

    The runner writes only while it holds the run's lock (`acquire` ... `close`); readers
    (`purpbench show`, the gate, the leaderboard) take no lock and see whole files only."""

    def __init__(self, run_dir: Path) -> None:
        self.dir = run_dir
        self.samples_dir = run_dir / "samples"
        self.summary_dir = run_dir / "summary"
        self.generations_file = run_dir / "generations.jsonl"
        self.damaged_dir = run_dir / DAMAGED_DIR
        self._lock = threading.Lock()
        self._gen_fd: int | None = None
        self._run_lock: RunLock | None = None
        # in every file name this process writes: two writers never pick the same name
        self._token = f"{os.getpid()}-{secrets.token_hex(3)}"

    # --- one writer per run ---------------------------------------------------------------
    def acquire(self, *, wait: bool = True, on_wait: Callable[[str], None] = print) -> None:
        """Take the run's lock, creating the run directory. Another process holding it: with
        `wait`, `on_wait` gets one line naming it and this blocks until it is done; without,
        RunBusy. Released by `close`."""
        if self._run_lock is not None:
            return
        with _writing(self.dir):
            self.dir.mkdir(parents=True, exist_ok=True)
        lock = RunLock(self.dir)
        with _writing(self.dir / LOCK_NAME):
            lock.acquire(wait=wait, on_wait=on_wait)
        self._run_lock = lock

    def begin(self, *, wait: bool, notice: Callable[[str], None]) -> None:
        """Everything before a run writes: refuse a run of another schema version (before the
        lock, so an old directory gets no lock file), take the lock (`wait`: see `acquire`),
        check again (the run may have been created meanwhile), then move damaged files aside,
        saying so in one `notice` line."""
        self.check_schema()
        self.acquire(wait=wait, on_wait=notice)
        self.check_schema()
        repaired = self.repair()
        if repaired:
            notice(repaired)

    # --- run identity -------------------------------------------------------------------
    def write_manifest(self, manifest: dict[str, Any]) -> None:
        text = json.dumps(manifest, indent=2, sort_keys=True, default=str)
        target = self.dir / "run.json"
        tmp = self.dir / f".run.json.{self._token}.tmp"
        with _writing(target):
            self.dir.mkdir(parents=True, exist_ok=True)
            try:
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, target)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise

    def manifest(self) -> dict[str, Any] | None:
        """run.json, None when there is none; one StoreError line when it cannot be read."""
        path = self.dir / "run.json"
        if not path.exists():
            return None
        data, problem = _load_manifest(path)
        if problem:
            raise StoreError(f"cannot read {path}: {problem}")
        return data

    def check_schema(self) -> None:
        """Before writing: a run of another schema version is not mixed with new rows. A
        schema-2 directory is refused in one line (it stays readable; see results/README.md,
        "Older result directories"). A run.json that cannot be read is left to `repair`."""
        path = self.dir / "run.json"
        if not path.exists():
            return
        manifest, problem = _load_manifest(path)
        if problem:
            return
        check_version(manifest.get("schema_version"), str(self.dir), writing=True)

    def check_readable(self) -> None:
        """Before reading: versions this purpbench reads (READABLE_VERSIONS), else one line."""
        manifest = self.manifest()
        if manifest is None:
            return
        check_version(manifest.get("schema_version"), str(self.dir), writing=False)

    # --- damage: found, moved aside, rebuilt ---------------------------------------------
    def inspect(self, *, full: bool = True) -> list[Damage]:
        """Files of this run that cannot be read as what they must be: run.json that is not a
        JSON object, sample or summary parts that are not Parquet of the run's schema version.
        `full` decodes every sample part (what a run reads anyway); without it only their
        footers are read. Summary parts are always decoded whole (they are small)."""
        damage: list[Damage] = []
        version = SCHEMA_VERSION
        manifest_path = self.dir / "run.json"
        if manifest_path.exists():
            manifest, problem = _load_manifest(manifest_path)
            if problem:
                damage.append(Damage(manifest_path, problem))
            else:
                version = manifest.get("schema_version", SCHEMA_VERSION)
        summary_optional = SUMMARY_V3_COLUMNS if version == 2 else ()
        checks = [
            (self.samples_dir, SAMPLE_SCHEMA, (), full),
            (self.summary_dir, SUMMARY_SCHEMA, summary_optional, True),
        ]
        for directory, schema, optional, whole in checks:
            for part in list_parts(directory):
                problem = _part_problem(part, schema, optional, whole)
                if problem:
                    damage.append(Damage(part, problem))
        return damage

    def repair(self) -> str | None:
        """Move every damaged file into `damaged/<UTC time>/` (same relative path, with a
        `repair.json` saying why) and return one line saying so, or None if nothing is damaged.

        Nothing is deleted. The runner then finds the moved rows missing and rebuilds them from
        the generation log by rescoring (no model call for an answer logged there); a moved
        summary is recomputed, a moved run.json rewritten. Call it holding the lock."""
        manifest, problem = _load_manifest(self.dir / "run.json")
        if not problem and manifest.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
            return None  # an older run is never written into (check_schema refuses it)
        damage = self.inspect(full=True)
        if not damage:
            return None
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        target = self.damaged_dir / stamp
        if target.exists():
            target = self.damaged_dir / f"{stamp}-{self._token}"
        moved = []
        with _writing(target):
            for item in damage:
                relative = item.path.relative_to(self.dir)
                (target / relative).parent.mkdir(parents=True, exist_ok=True)
                os.replace(item.path, target / relative)  # a rename: needs no free space
                moved.append({"file": str(relative), "reason": item.reason})
            note = {"at": stamp, "moved": moved, "by": Holder.this_process().__dict__}
            (target / "repair.json").write_text(json.dumps(note, indent=2), encoding="utf-8")
        listed = "; ".join(f"{m['file']}: {m['reason']}" for m in moved[:3])
        more = f"; and {len(moved) - 3} more" if len(moved) > 3 else ""
        rebuilt = []
        if any(m["file"].startswith("samples") for m in moved):
            rebuilt.append(
                "their rows are rebuilt from generations.jsonl by rescoring (no model call for "
                "an answer logged there)"
            )
        if any(m["file"].startswith("summary") for m in moved):
            rebuilt.append("the summary is recomputed")
        if any(m["file"] == "run.json" for m in moved):
            rebuilt.append("run.json is rewritten")
        files = "file" if len(moved) == 1 else "files"
        return (
            f"repaired: moved {len(moved)} damaged {files} to {target} ({listed}{more}); "
            + ", ".join(rebuilt)
        )

    # --- generation cache ---------------------------------------------------------------
    def load_generations(self) -> dict[str, Generation]:
        """Answers already paid for. A torn line (killed mid-write, disk full) or a damaged
        stretch of the file costs only its own lines."""
        cache: dict[str, Generation] = {}
        if not self.generations_file.exists():
            return cache
        try:
            with self.generations_file.open(encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    try:
                        record = json.loads(line)
                        generation = Generation.from_json(record["generation"])
                    except (ValueError, KeyError, TypeError):
                        continue
                    if not generation.error:  # failed calls are retried on resume
                        cache[record["key"]] = generation
        except OSError as exc:
            raise StoreError(f"cannot read {self.generations_file}: {_reason(exc)}") from None
        return cache

    def append_generation(self, key: str, generation: Generation) -> None:
        record = {"key": key, "generation": generation.to_json()}
        data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock, _writing(self.generations_file):
            if self._gen_fd is None:
                self.dir.mkdir(parents=True, exist_ok=True)
                self._gen_fd = os.open(
                    self.generations_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644
                )
                if not self._ends_with_newline():
                    data = b"\n" + data  # a torn last line stays a line of its own
            try:
                _write_all(self._gen_fd, data)
            except OSError:
                os.close(self._gen_fd)  # reopened (and the torn end fenced off) on next write
                self._gen_fd = None
                raise

    def _ends_with_newline(self) -> bool:
        with self.generations_file.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return True
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"

    # --- scored samples -----------------------------------------------------------------
    def _new_part(self, directory: Path) -> Path:
        """A name no other writer can pick: the next sequence number and this process's
        token."""
        last = max((part_order(p)[0] for p in list_parts(directory)), default=-1)
        return directory / f"part-{last + 1:06d}-{self._token}.parquet"

    def _write_atomic(self, table: pa.Table, target: Path) -> None:
        tmp = target.with_name(f".{target.name}.{self._token}.tmp")
        with _writing(target):
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                pq.write_table(table, tmp, compression="zstd")
                os.replace(tmp, target)
            except BaseException:
                tmp.unlink(missing_ok=True)  # our own temporary file, never anyone else's
                raise

    def append_samples(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        table = table_from_rows(rows, SAMPLE_SCHEMA)
        with self._lock:
            self._write_atomic(table, self._new_part(self.samples_dir))

    def finished_keys(
        self, scorers: dict[str, tuple[str, str]] | None = None
    ) -> set[tuple[str, str, int]]:
        """(benchmark, sample_id, sample_index) of rows already stored with status ok.

        With `scorers` (benchmark -> (scorer, version)), a row scored by another scorer (a
        different judge, analyzer policy or rule pack) is not finished: it is rescored from the
        generation log, without a model call.
        """
        columns = ["benchmark", "sample_id", "sample_index", "status", "scorer", "scorer_version"]
        frame = self.read_samples(columns=columns)
        if frame.empty:
            return set()
        done = frame[frame["status"] == "ok"]
        if scorers is not None:
            current = [
                scorers.get(b) == (s, v)
                for b, s, v in zip(done["benchmark"], done["scorer"], done["scorer_version"])
            ]
            done = done[current]
        return set(zip(done["benchmark"], done["sample_id"], done["sample_index"].astype(int)))

    def read_samples(self, columns: list[str] | None = None) -> pd.DataFrame:
        return read_parts(self.samples_dir, SAMPLE_SCHEMA, columns)

    def compact_samples(self) -> None:
        """Keep the latest row per sample (a resumed error row is superseded) in one part.

        Deletes exactly the parts it read, and only once the part holding their rows is written
        and reads back whole: a full disk leaves the old parts as they were."""
        parts = list_parts(self.samples_dir)
        if not parts:
            return
        frame = _read_tables(parts, None).to_pandas()
        keys = ["benchmark", "sample_id", "sample_index"]
        if len(parts) <= 1 and not frame.duplicated(keys).any():
            return
        frame = frame.drop_duplicates(keys, keep="last")
        table = pa.Table.from_pandas(frame, schema=SAMPLE_SCHEMA, preserve_index=False)
        with self._lock:
            target = self._new_part(self.samples_dir)
            self._write_atomic(table, target)
            try:
                written = pq.read_metadata(target).num_rows
            except _UNREADABLE as exc:
                raise StoreError(f"cannot read back {target}: {_first_line(exc)}") from None
            if written != table.num_rows:
                raise StoreError(
                    f"{target} holds {written} rows, not {table.num_rows}: the parts it "
                    "replaces are kept"
                )
            for part in parts:
                part.unlink()

    def write_summary(self, rows: list[dict[str, Any]]) -> None:
        self._write_atomic(
            table_from_rows(rows, SUMMARY_SCHEMA), self.summary_dir / "part-0.parquet"
        )

    def update_summary(self, rows: list[dict[str, Any]], benchmarks: Iterable[str]) -> list[str]:
        """The summary of `benchmarks` becomes `rows`; every other benchmark keeps the rows it
        was summarized with. A run grown one benchmark at a time (same identity, another
        `--benchmarks`) so summarizes all of them, each as computed when it was scored (its
        data or its lm-eval task need not be loadable now). Returns the benchmarks kept."""
        replaced = set(benchmarks)
        new = table_from_rows(rows, SUMMARY_SCHEMA)
        parts = list_parts(self.summary_dir)
        old = [
            _read_tables([p], None).select(SUMMARY_SCHEMA.names).cast(SUMMARY_SCHEMA) for p in parts
        ]
        kept = [
            t.filter(pa.array([b not in replaced for b in t["benchmark"].to_pylist()], pa.bool_()))
            for t in old
        ]
        merged = pa.concat_tables([*kept, new])
        names = merged["benchmark"].to_pylist()
        # benchmark by benchmark; within one, the stored order (the headline row first)
        merged = merged.take(sorted(range(len(names)), key=lambda i: str(names[i])))
        self._write_atomic(merged, self.summary_dir / "part-0.parquet")
        for part in parts:  # only those read above
            if part.name != "part-0.parquet":
                part.unlink()
        return sorted({str(b) for t in kept for b in t["benchmark"].to_pylist()})

    def read_summary(self) -> pd.DataFrame:
        """Summary rows, a schema-2 summary upgraded on read (`upgrade_summary`: headline and
        definition filled in as schema 2 meant them, nothing rebuilt from today's code)."""
        parts = list_parts(self.summary_dir)
        if not parts:
            return upgrade_summary(read_parts(self.summary_dir, SUMMARY_SCHEMA, None))
        frame = pd.concat([_read_tables([p], None).to_pandas() for p in parts], ignore_index=True)
        return upgrade_summary(frame)

    def close(self) -> None:
        """Close the generation log and release the run's lock (safe to call twice)."""
        with self._lock:
            if self._gen_fd is not None:
                os.close(self._gen_fd)
                self._gen_fd = None
        if self._run_lock is not None:
            lock, self._run_lock = self._run_lock, None
            lock.release()


def _read_tables(parts: list[Path], columns: list[str] | None) -> pa.Table:
    """The parts as one table; a part that cannot be read is one StoreError line naming it."""
    tables = []
    for part in parts:
        try:
            tables.append(pq.read_table(part, columns=columns))
        except _UNREADABLE as exc:
            raise StoreError(
                f"cannot read {part}: {_first_line(exc)} (run the same command again: the "
                "part is moved to damaged/ and its rows rebuilt from generations.jsonl)"
            ) from None
    return pa.concat_tables(tables)


def read_parts(directory: Path, schema: pa.Schema, columns: Iterable[str] | None) -> pd.DataFrame:
    parts = list_parts(directory)
    if not parts:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in (columns or schema.names)})
    return _read_tables(parts, list(columns) if columns else None).to_pandas()


def resolve_run_dir(ref: str, results_root: Path) -> Path:
    """A run given as a path, or as a run id (or unique prefix) under the results root."""
    path = Path(ref)
    if (path / "run.json").exists():
        return path
    if path.is_absolute() or len(path.parts) > 1:  # a path, not a run id: nothing to search
        raise FileNotFoundError(f"no run at {path} (no run.json there)")
    candidates = sorted(p for p in results_root.glob(f"{ref}*") if (p / "run.json").exists())
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise FileNotFoundError(f"no run {ref!r} (looked for {path} and under {results_root})")
    raise FileNotFoundError(f"run {ref!r} is ambiguous: {', '.join(c.name for c in candidates)}")
