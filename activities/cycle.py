"""The cycle's activities: the only code of a cycle that touches PostgreSQL."""

from __future__ import annotations

from typing import Any, Protocol

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.codec import EventRecord
from eventstore import errors as es_errors
from workflows.messages import AppendInput, AppendResult, ReminderInput

__all__ = ["CycleActivities", "Outbox", "Store"]


class Store(Protocol):
    async def append(self, stream: str, expected_version: int, records: Any) -> Any: ...


class Outbox(Protocol):
    async def add_reminders(self, inp: ReminderInput) -> int: ...


class CycleActivities:
    """Activities as methods of one object that receives the store (and the outbox)."""

    def __init__(self, store: Store, outbox: Outbox) -> None:
        self._store = store
        self._outbox = outbox

    @activity.defn(name="append")
    async def append(self, inp: AppendInput) -> AppendResult:
        records: list[EventRecord] = list(inp.records)
        try:
            positions = await self._store.append(inp.stream, inp.expected_version, records)
        except (es_errors.WrongExpectedVersion, es_errors.EventIdConflict) as err:
            # Not retryable: the stream moved under us or an id was reused with other content.
            raise ApplicationError(str(err), type=type(err).__name__, non_retryable=True) from err
        return AppendResult(
            version=positions[-1].version if positions else inp.expected_version,
            positions=[p.position for p in positions],
        )

    @activity.defn(name="write_reminders")
    async def write_reminders(self, inp: ReminderInput) -> int:
        return await self._outbox.add_reminders(inp)
