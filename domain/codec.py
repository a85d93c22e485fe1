"""How an event is split for storage, and the canonical JSON that its hash covers.

Canonical JSON (documented for auditors who recompute hashes offline): UTF-8, object keys sorted
by code point, no insignificant whitespace, non-ASCII characters written as themselves, numbers
only as integers (scores and fractions are strings), datetimes in ISO 8601 as pydantic writes
them. It is exactly `json.dumps(obj, sort_keys=True, separators=(",", ":"),
ensure_ascii=False).encode()`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict

from .events import SCHEMA_VERSION, Event, EventAdapter

__all__ = ["EventRecord", "canonical_json", "from_record", "to_record"]


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


def to_record(event: Event) -> EventRecord:
    return EventRecord(
        event_id=event.event_id,
        type=event.type,
        data=event.payload(),
        actor=event.actor.model_dump(mode="json"),
        effective_at=event.at,
        request_id=event.request_id,
    )


def from_record(record: EventRecord) -> Event:
    return event_from_record(
        record.type,
        record.data,
        event_id=record.event_id,
        at=record.effective_at,
        actor=record.actor,
        request_id=record.request_id,
    )


def event_from_record(
    type_: str,
    data: dict[str, Any],
    *,
    event_id: UUID | str,
    at: Any,
    actor: Any,
    request_id: str | None,
) -> Event:
    """Rebuild an event from what the store keeps (payload + envelope columns)."""
    return EventAdapter.validate_python(
        {
            **data,
            "type": type_,
            "event_id": event_id,
            "at": at,
            "actor": actor,
            "request_id": request_id,
        }
    )
