"""How an event is split for storage, and the canonical JSON that its hash covers.

Canonical JSON (documented for auditors who recompute hashes offline): UTF-8, object keys sorted
by code point, no insignificant whitespace, non-ASCII characters written as themselves, numbers
only as integers (scores and fractions are strings), datetimes in ISO 8601 as pydantic writes
them. It is exactly `json.dumps(obj, sort_keys=True, separators=(",", ":"),
ensure_ascii=False).encode()`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, TypeVar, overload
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, TypeAdapter

from .events import SCHEMA_VERSION, Event, EventAdapter
from .values import Actor

__all__ = [
    "EventRecord",
    "Recordable",
    "canonical_json",
    "event_from_record",
    "from_record",
    "to_record",
]


def canonical_json(obj: Any) -> bytes:
    """The canonical JSON bytes of a JSON-ready object (see the module docstring)."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


class EventRecord(BaseModel):
    """An event as the store keeps it: envelope columns plus the JSON payload."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID
    type: str
    schema_version: int = SCHEMA_VERSION
    data: dict[str, Any]
    actor: dict[str, Any]
    effective_at: datetime
    request_id: str | None = None


class Recordable(Protocol):
    """An event of any aggregate (a cycle's, a block's, a province's, a person's): the
    envelope and its own payload."""

    @property
    def event_id(self) -> UUID: ...
    @property
    def type(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor(self) -> Actor: ...
    @property
    def request_id(self) -> str | None: ...
    def payload(self) -> dict[str, Any]: ...


E = TypeVar("E")


def to_record(event: Recordable) -> EventRecord:
    """The event as the store keeps it (envelope columns plus the payload): the one codec of
    every aggregate."""
    return EventRecord(
        event_id=event.event_id,
        type=event.type,
        data=event.payload(),
        actor=event.actor.model_dump(mode="json"),
        effective_at=event.at,
        request_id=event.request_id,
    )


@overload
def from_record(record: EventRecord) -> Event: ...
@overload
def from_record(record: EventRecord, adapter: TypeAdapter[E]) -> E: ...
def from_record(record: EventRecord, adapter: TypeAdapter[Any] = EventAdapter) -> Any:
    """The event of a stored record; `adapter` is the aggregate's union of events (a
    cycle's by default)."""
    return event_from_record(
        record.type,
        record.data,
        event_id=record.event_id,
        at=record.effective_at,
        actor=record.actor,
        request_id=record.request_id,
        adapter=adapter,
    )


def event_from_record(
    type_: str,
    data: dict[str, Any],
    *,
    event_id: UUID | str,
    at: Any,
    actor: Any,
    request_id: str | None,
    adapter: TypeAdapter[Any] = EventAdapter,
) -> Any:
    """Rebuild an event from what the store keeps (payload + envelope columns)."""
    return adapter.validate_python(
        {
            **data,
            "type": type_,
            "event_id": event_id,
            "at": at,
            "actor": actor,
            "request_id": request_id,
        }
    )
