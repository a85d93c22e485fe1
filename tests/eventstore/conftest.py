"""Helpers of the event store tests; the real PostgreSQL (DATABASE_URL, or an embedded server)
and a fresh migrated database per module come from tests/conftest.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from domain.codec import EventRecord, to_record
from domain.events import PledgeSigned
from domain.values import Actor


def pledge(unit: str = "a", request_id: str | None = None) -> EventRecord:
    """A real domain event, as the workflow would append it."""
    return to_record(PledgeSigned(
        event_id=uuid.uuid4(), at=datetime.now(UTC), actor=Actor.of_unit(unit), unit=unit,
        request_id=request_id,
    ))


def new_stream() -> str:
    return f"cycle-t{uuid.uuid4().hex[:8]}-2025"
