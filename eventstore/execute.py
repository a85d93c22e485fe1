"""The one way a command becomes events outside the workflow: load the aggregate's stream,
fold it, decide, append at the version read; when another writer moved the stream meanwhile,
load and decide again (optimistic concurrency). Blocks, provinces and people go this way; the
cycle's workflow has its own (its history is the lock).

The aggregate's parts are pure functions of domain/: `fold` turns the stored events into its
state, `decide` the state into the new events (raising a DomainError to refuse). The codec is
domain.codec's, the same for every aggregate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from domain.codec import Recordable, to_record

from .errors import WrongExpectedVersion
from .records import StoredEvent

__all__ = ["Decided", "Stream", "execute", "load"]

S = TypeVar("S")
E = TypeVar("E", bound=Recordable)


class Stream(Protocol):
    """What `execute` needs of the store."""

    async def append(self, stream: str, expected_version: int, records: Any) -> Any: ...
    async def read_stream(self, stream: str) -> Any: ...


class Decided(NamedTuple, Generic[S, E]):
    """What `execute` did: the state it judged on, the events it appended (none: nothing to
    do) and the stream's version before them."""

    state: S
    events: Sequence[E]
    version: int


async def load(
    store: Stream, stream: str, fold: Callable[[Sequence[StoredEvent]], S]
) -> tuple[S, int]:
    """The aggregate's state folded from its stream, and the stream's version."""
    rows: Sequence[StoredEvent] = await store.read_stream(stream)
    return fold(rows), (rows[-1].version if rows else 0)


async def execute(
    store: Stream,
    stream: str,
    fold: Callable[[Sequence[StoredEvent]], S],
    decide: Callable[[S], Sequence[E]],
    *,
    attempts: int = 5,
) -> Decided[S, E]:
    """Load, fold, decide and append `decide`'s events (nothing when it decides none); judged
    again on the new state when the stream moved meanwhile, at most `attempts` times (then
    WrongExpectedVersion)."""
    for attempt in range(attempts):
        state, version = await load(store, stream, fold)
        events = decide(state)
        if events:
            try:
                await store.append(stream, version, [to_record(e) for e in events])
            except WrongExpectedVersion:
                if attempt == attempts - 1:
                    raise
                continue
        return Decided(state, events, version)
    raise AssertionError("unreachable")
