"""Helpers of the event store tests; the real PostgreSQL (DATABASE_URL, or an embedded server)
and a fresh migrated database per module come from tests/conftest.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from domain.codec import EventRecord, to_record
from domain.events import CycleStarted, Event, PledgeSigned
from domain.setup import Block, Member, Ruleset, ScoreSheet, Section
from domain.values import Actor
from eventstore import EventStore


def pledge(unit: str = "a", request_id: str | None = None) -> EventRecord:
    """A real domain event, as the workflow would append it."""
    return to_record(PledgeSigned(
        event_id=uuid.uuid4(), at=datetime.now(UTC), actor=Actor.of_unit(unit), unit=unit,
        request_id=request_id,
    ))


def new_stream() -> str:
    return f"cycle-t{uuid.uuid4().hex[:8]}-2025"


def env() -> dict[str, object]:
    return {"event_id": uuid.uuid4(), "at": datetime.now(UTC), "actor": Actor.admin()}


def started(block_id: str, year: int) -> CycleStarted:
    block = Block(
        id=block_id, name="Khối các sở tổng hợp", province="Hà Tĩnh",
        members=tuple(Member(id=u, name=f"Sở {u.upper()}") for u in ("a", "b", "c", "d")),
        head="a", deputy="b",
    )
    sheet = ScoreSheet(max_total=Decimal(1000), sections=(Section(id="s1", max=Decimal(1000)),))
    return CycleStarted(**env(), block=block, year=year, ruleset=Ruleset(), score_sheet=sheet)


async def append_events(store: EventStore, stream: str, events: list[Event]) -> None:
    head = await store.head(stream)
    for e in events:
        await store.append(stream, head, [to_record(e)])
        head += 1
