"""verify_all: every stream (or one year's), failing ones listed with their first problem."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from app.audit import verify_all
from domain.codec import to_record
from eventstore import EventStore
from tests.eventstore.cycles import reference_events
from tests.eventstore.test_integrity import tamper

pytestmark = pytest.mark.db


@pytest.mark.parametrize("parse", [False, True])
async def test_verify_all_lists_the_failing_streams(
    store: EventStore, pool: asyncpg.Pool, parse: bool
) -> None:
    tag = uuid.uuid4().hex[:6]
    records = [to_record(e) for e in reference_events()][:12]
    streams = {y: [f"cycle-v{tag}{n}-{y}" for n in range(3)] for y in (2018, 2019)}
    for names in streams.values():
        for s in names:
            await store.append(
                s, 0, [r.model_copy(update={"event_id": uuid.uuid4()}) for r in records]
            )
    bad = streams[2019][1]
    await tamper(
        pool,
        f"UPDATE events SET body = NULL, data = jsonb_set(data, '{{x}}', '1')"
        f" WHERE stream = '{bad}' AND version = 7",
    )
    seen: list[tuple[int, int, str]] = []
    failures = await verify_all(
        store, progress=lambda d, t, s: seen.append((d, t, s)), parse=parse, batch=2
    )
    mine = [f for f in failures if tag in f.stream]
    assert [f.stream for f in mine] == [bad]
    first = mine[0].report.first
    assert first is not None and (first.kind, first.version) == ("broken_link", 7)
    assert [d for d, _, _ in seen] == list(range(1, len(seen) + 1))
    assert {s for _, _, s in seen} >= set(streams[2018]) | set(streams[2019])
    only_2018 = await verify_all(store, year=2018, parse=parse)
    assert [f for f in only_2018 if tag in f.stream] == []


async def test_an_unreadable_event_fails_only_when_parsing(
    store: EventStore,
) -> None:
    stream = f"cycle-u{uuid.uuid4().hex[:6]}-2031"
    good = to_record(reference_events()[1])
    bad = good.model_copy(update={"event_id": uuid.uuid4(), "data": {"type": "pledge_signed"}})
    await store.append(stream, 0, [good, bad])
    assert [f.stream for f in await verify_all(store, year=2031)] == []
    failures = await verify_all(store, year=2031, parse=True)
    assert [
        (f.stream, f.report.first.kind, f.report.first.version) for f in failures if f.report.first
    ] == [(stream, "unreadable", 2)]
