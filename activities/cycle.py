"""The cycle's activities: the only code of a cycle that touches PostgreSQL."""

from __future__ import annotations

from typing import Any, Protocol

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.codec import EventRecord
from eventstore import errors as es_errors
from workflows.messages import (
    Adopted,
    AppendInput,
    AppendResult,
    ReadAfterInput,
    ReadEventsInput,
    ReminderInput,
    TasksInput,
)
from workflows.names import APPEND, READ_AFTER, READ_EVENTS, WRITE_REMINDERS, WRITE_TASKS

__all__ = ["CycleActivities", "Outbox", "Store"]


class Store(Protocol):
    async def append(self, stream: str, expected_version: int, records: Any) -> Any: ...

    async def read_stream(self, stream: str, to_version: int | None = None) -> Any: ...


class Outbox(Protocol):
    async def add_reminders(self, inp: ReminderInput) -> int: ...

    async def add_tasks(self, inp: TasksInput) -> int: ...


class CycleActivities:
    """Activities as methods of one object that receives the store (and the outbox)."""

    def __init__(self, store: Store, outbox: Outbox) -> None:
        self._store = store
        self._outbox = outbox

    @activity.defn(name=APPEND)
    async def append(self, inp: AppendInput) -> AppendResult:
        records: list[EventRecord] = list(inp.records)
        try:
            positions = await self._store.append(inp.stream, inp.expected_version, records)
        except (es_errors.WrongExpectedVersion, es_errors.EventIdConflict) as err:
            # Not retryable: the stream moved under us or an id was reused with other content.
            raise ApplicationError(str(err), type=type(err).__name__, non_retryable=True) from err
        if inp.tasks is not None:
            # after the events: a retry appends nothing again (their ids are stored) and writes
            # only the rows still missing (one per unit and key)
            await self._outbox.add_tasks(inp.tasks)
        return AppendResult(
            version=positions[-1].version if positions else inp.expected_version,
            positions=[p.position for p in positions],
            hashes=[bytes(p.hash).hex() for p in positions if len(p) > 2],
            event_ids=[str(r.event_id) for r in records],
            types=[r.type for r in records],
        )

    @activity.defn(name=WRITE_REMINDERS)
    async def write_reminders(self, inp: ReminderInput) -> int:
        return await self._outbox.add_reminders(inp)

    @activity.defn(name=WRITE_TASKS)
    async def write_tasks(self, inp: TasksInput) -> int:
        return await self._outbox.add_tasks(inp)

    @activity.defn(name=READ_EVENTS)
    async def read_events(self, inp: ReadEventsInput) -> list[EventRecord]:
        """The events at `versions` of a stream, as stored (for a repeated request that an
        earlier run of the workflow accepted)."""
        if not inp.versions:
            return []
        wanted = set(inp.versions)
        stored = await self._store.read_stream(inp.stream, to_version=max(wanted))
        found = [e.record() for e in stored if e.version in wanted]
        if len(found) != len(wanted):
            raise ApplicationError(
                f"{inp.stream} lacks some of versions {sorted(wanted)}",
                type="MissingEvents",
            )
        return found

    @activity.defn(name=READ_AFTER)
    async def read_after(self, inp: ReadAfterInput) -> Adopted:
        """The stream's first `inp.limit` events after `inp.after`, as stored, with their
        hashes."""
        stored = [
            e
            for e in await self._store.read_stream(inp.stream, to_version=inp.after + inp.limit)
            if e.version > inp.after
        ]
        return Adopted(
            stream=inp.stream,
            after=inp.after,
            records=[e.record() for e in stored],
            hashes=[bytes(e.hash).hex() for e in stored],
        )

    @property
    def all(self) -> list[Any]:
        """Every activity of a cycle, for the worker."""
        return [
            self.append,
            self.write_reminders,
            self.write_tasks,
            self.read_events,
            self.read_after,
        ]
