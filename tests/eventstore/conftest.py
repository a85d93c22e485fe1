"""Helpers of the event store tests; the real PostgreSQL (DATABASE_URL, or an embedded server)
and a fresh migrated database per module come from tests/conftest.py."""

from __future__ import annotations

import asyncio
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
    return to_record(
        PledgeSigned(
            event_id=uuid.uuid4(),
            at=datetime.now(UTC),
            actor=Actor.of_unit(unit),
            unit=unit,
            request_id=request_id,
        )
    )


def new_stream() -> str:
    return f"cycle-t{uuid.uuid4().hex[:8]}-2025"


def env() -> dict[str, object]:
    return {"event_id": uuid.uuid4(), "at": datetime.now(UTC), "actor": Actor.admin()}


def started(block_id: str, year: int) -> CycleStarted:
    block = Block(
        id=block_id,
        name="Khối các sở tổng hợp",
        province="Hà Tĩnh",
        members=tuple(Member(id=u, name=f"Sở {u.upper()}") for u in ("a", "b", "c", "d")),
        head="a",
        deputy="b",
    )
    sheet = ScoreSheet(max_total=Decimal(1000), sections=(Section(id="s1", max=Decimal(1000)),))
    return CycleStarted(**env(), block=block, year=year, ruleset=Ruleset(), score_sheet=sheet)


async def append_events(store: EventStore, stream: str, events: list[Event]) -> None:
    head = await store.head(stream)
    for e in events:
        await store.append(stream, head, [to_record(e)])
        head += 1


async def settled(store: EventStore, position: int) -> None:
    """Wait until the event at `position` is readable by `read_all`: any older transaction of
    the cluster still open (an autovacuum's ANALYZE, say) keeps a committed append below the
    watermark for a moment."""
    for _ in range(1000):
        if [e.position for e in await store.read_all(position - 1, 1)] == [position]:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"position {position} stayed below the watermark")
