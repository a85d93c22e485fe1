"""Reading a stream back for auditors: verify the hash chain and the versions, fold the events.
One pass over (version, body, hash) rows, built for speed: the hash covers the stored body
bytes (no re-serialising), each body is decoded once (msgspec for the frequent event types,
orjson for the others) and folded by the fast fold (fastfold.py); the pydantic domain events
are parsed from the bodies only when asked for (`Replay.events`)."""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import orjson
from pydantic import TypeAdapter, ValidationError

from domain.events import Event, EventAdapter
from domain.state import CycleState

from .chain import GENESIS
from .fastfold import FastFold, event_input

__all__ = ["Problem", "Replay", "Row", "VerifyReport", "replay_rows", "verify_rows"]

_EVENTS: TypeAdapter[list[Event]] = TypeAdapter(list[Event])

ProblemKind = Literal["broken_link", "version_gap", "unreadable"]


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    version: int
    detail: str


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of verifying a stream. `first` names the earliest problem, if any."""

    stream: str
    events: int
    head_version: int
    head_hash: bytes
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def __str__(self) -> str:
        if self.ok:
            return (
                f"{self.stream}: {self.events} events, chain intact, "
                f"head {self.head_version} {self.head_hash.hex()}"
            )
        p = self.problems[0]
        return f"{self.stream}: {p.kind} at version {p.version}: {p.detail}"


class Replay:
    """A stream read back: its events (up to the first unreadable one), the state they fold
    into and the verification report.

    The state comes from the fast fold (eventstore/fastfold.py); `events` are the pydantic
    domain events, parsed on first access (auditors recheck them)."""

    def __init__(
        self,
        events: list[Event] | None = None,
        *,
        report: VerifyReport,
        state: CycleState,
        bodies: list[bytes] | None = None,
    ) -> None:
        self._events = events
        self._bodies = bodies if bodies is not None else []
        self.report = report
        self.state = state

    @property
    def events(self) -> list[Event]:
        if self._events is None:
            loads = orjson.loads
            self._events = _EVENTS.validate_python([event_input(loads(b)) for b in self._bodies])
            self._bodies = []
        return self._events

    def __repr__(self) -> str:
        return f"Replay({self.report})"


Row = tuple[int, bytes, bytes]
"""(version, body, hash): a stored event's version, the bytes its hash covers, its hash."""


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The loops below allocate a dict per event and free nothing: in a process with a large
    heap every automatic collection would walk it all, several times per stream. They do not
    await, so nothing else runs meanwhile; collection resumes (and catches up) right after."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def replay_rows(stream: str, rows: Sequence[Row]) -> Replay:
    """Verify and fold rows in version order: each link on its own (sha256(stored hash of the
    previous row || body) == stored hash), contiguous versions, every event parses."""
    with _gc_paused():
        return _replay_rows(stream, rows)


def _replay_rows(stream: str, rows: Sequence[Row]) -> Replay:
    problems: list[Problem] = []
    readable: list[bytes] = []
    folder = FastFold()
    add = folder.add_body
    prev, expected = GENESIS, 1
    sha256, loads = hashlib.sha256, orjson.loads
    failed = False
    version = 0
    for version, body, stored_hash in rows:
        if version != expected:
            problems.append(Problem("version_gap", expected, f"next stored version is {version}"))
        expected = version + 1
        if sha256(prev + body).digest() != stored_hash:
            problems.append(
                Problem(
                    "broken_link", version, "the stored hash does not match the event's content"
                )
            )
        prev = stored_hash
        unreadable: Problem | None = None
        if failed:
            obj = loads(body)
            named = obj["version"], obj["stream"]
            try:
                EventAdapter.validate_python(event_input(obj))
            except ValidationError as exc:
                unreadable = Problem("unreadable", version, _first_error(exc))
        else:
            named_version, named_stream, _, error = add(body)
            named = named_version, named_stream
            if error is None:
                readable.append(body)
            else:
                failed = True
                unreadable = Problem(
                    "unreadable",
                    version,
                    (
                        _first_error(error)
                        if isinstance(error, ValidationError)
                        else f"does not parse as a domain event: {error}"
                    ),
                )
        if named != (version, stream):
            problems.append(
                Problem("broken_link", version, "the hashed object names another stream or version")
            )
        if unreadable is not None:
            problems.append(unreadable)
    problems.sort(key=lambda p: p.version)
    report = VerifyReport(
        stream=stream,
        events=len(rows),
        head_version=version if rows else 0,
        head_hash=prev,
        problems=tuple(problems),
    )
    return Replay(report=report, state=folder.result(), bodies=readable)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(x) for x in err.get("loc", ()))
    return f"does not parse as a domain event: {where}: {err.get('msg')}"


def verify_rows(stream: str, rows: Sequence[Row], *, parse: bool = False) -> VerifyReport:
    """Bulk verification without the fold: each link over the stored bytes, contiguous
    versions, each hashed object naming this stream and its version, and with `parse` every
    event reads as a domain event (pydantic) — the same problems as replay_rows reports."""
    with _gc_paused():
        return _verify_rows(stream, rows, parse)


def _verify_rows(stream: str, rows: Sequence[Row], parse: bool) -> VerifyReport:
    problems: list[Problem] = []
    prev, expected, version = GENESIS, 1, 0
    sha256, loads = hashlib.sha256, orjson.loads
    # canonical JSON sorts the keys: the hashed object ends with ,"stream":S,"type":T,"version":V}
    # and no string value holds an unescaped quote, so the last ,"stream": is the top-level one
    tag = b',"stream":' + orjson.dumps(stream) + b',"type":'
    for version, body, stored_hash in rows:
        if version != expected:
            problems.append(Problem("version_gap", expected, f"next stored version is {version}"))
        expected = version + 1
        if sha256(prev + body).digest() != stored_hash:
            problems.append(
                Problem(
                    "broken_link", version, "the stored hash does not match the event's content"
                )
            )
        elif not body.startswith(tag, body.rfind(b',"stream":')) or not body.endswith(
            b',"version":%d}' % version
        ):
            obj = loads(body)
            if obj.get("stream") != stream or obj.get("version") != version:
                problems.append(
                    Problem(
                        "broken_link", version, "the hashed object names another stream or version"
                    )
                )
        prev = stored_hash
    if parse and rows:
        inputs = [event_input(loads(body)) for _, body, _ in rows]
        try:
            _EVENTS.validate_python(inputs)
        except ValidationError:
            for (v, _, _), item in zip(rows, inputs, strict=True):
                try:
                    EventAdapter.validate_python(item)
                except ValidationError as exc:
                    problems.append(Problem("unreadable", v, _first_error(exc)))
            problems.sort(key=lambda p: p.version)
    return VerifyReport(
        stream=stream,
        events=len(rows),
        head_version=version if rows else 0,
        head_hash=prev,
        problems=tuple(problems),
    )
