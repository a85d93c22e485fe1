"""What the store hands back: positions of appended events and stored events."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias

if TYPE_CHECKING:
    from asyncpg import Connection
    from asyncpg.pool import PoolConnectionProxy

from domain.codec import EventRecord, from_record
from domain.events import Event

__all__ = ["Conn", "Position", "StoredEvent"]

Conn: TypeAlias = "Connection[Any] | PoolConnectionProxy[Any]"
"""A connection, or one borrowed from a pool."""


class Position(NamedTuple):
    """Where an appended event landed: its version in the stream, its global position and the
    hash stored for it (recorded in the workflow's history: Temporal witnesses the chain)."""

    version: int
    position: int
    hash: bytes = b""


class StoredEvent(EventRecord):
    """An EventRecord as read back, with what the store assigned to it."""

    stream: str
    version: int
    position: int
    recorded_at: datetime
    hash: bytes

    def to_event(self) -> Event:
        return from_record(self)

    def record(self) -> EventRecord:
        """The EventRecord it was appended as, without what the store added."""
        return EventRecord.model_validate(self.model_dump(include=set(EventRecord.model_fields)))
