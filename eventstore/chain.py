"""The hash chain: what each event's hash covers and how it is computed.

    hash(v) = SHA-256( hash(v-1) || canonical_json(hashed_object(v)) )     hash(0) = 32 zero bytes

The hashed object is a JSON object with exactly these keys (canonical JSON sorts them):

    actor           the actor object as stored (jsonb)
    data            the event's payload as stored (jsonb)
    effective_at    UTC, ISO 8601 with microseconds: "2025-03-01T08:00:00.000000+00:00"
    event_id        lower-case hyphenated UUID
    request_id      string or null
    schema_version  integer
    stream          "cycle-{block_id}-{year}"
    type            the event type
    version         1, 2, 3, ... within the stream

`recorded_at` and `position` are assigned by the database at commit time and are not hashed.
canonical_json is domain.codec.canonical_json (sorted keys, no whitespace, UTF-8).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.codec import EventRecord, canonical_json

__all__ = ["GENESIS", "canonical_body", "chain_hash", "effective_at_text", "record_body"]

GENESIS = bytes(32)


def effective_at_text(at: datetime) -> str:
    """The canonical text of `effective_at` (UTC, microseconds)."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_body(
    *,
    stream: str,
    version: int,
    event_id: UUID,
    type: str,
    schema_version: int,
    data: Any,
    actor: Any,
    effective_at: datetime,
    request_id: str | None,
) -> bytes:
    """The canonical JSON bytes of one event's hashed object."""
    return canonical_json(
        {
            "actor": actor,
            "data": data,
            "effective_at": effective_at_text(effective_at),
            "event_id": str(event_id),
            "request_id": request_id,
            "schema_version": schema_version,
            "stream": stream,
            "type": type,
            "version": version,
        }
    )


def record_body(stream: str, version: int, r: EventRecord) -> bytes:
    """canonical_body of an EventRecord at `version` of `stream`."""
    return canonical_body(
        stream=stream,
        version=version,
        event_id=r.event_id,
        type=r.type,
        schema_version=r.schema_version,
        data=r.data,
        actor=r.actor,
        effective_at=r.effective_at,
        request_id=r.request_id,
    )


def chain_hash(prev: bytes, body: bytes) -> bytes:
    return hashlib.sha256(prev + body).digest()
