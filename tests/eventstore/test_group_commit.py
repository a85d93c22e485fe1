"""Group commit: one-event appends that wait for a lane go in one statement and one commit, and
each caller gets the answer it would have had alone: its position, an idempotent retry's
original position, or its own refusal; a statement that fails does not fail the others."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from eventstore import (
    DatabaseError,
    EventIdConflict,
    EventStore,
    StoreUnavailable,
    WrongExpectedVersion,
    create_pool,
)
from tests.faultproxy import Cut, FaultProxy

from .conftest import new_stream, pledge

pytestmark = pytest.mark.db


async def at_once(store: EventStore, calls: list[tuple[str, int, Any]]) -> list[Any]:
    """Start every append in the same loop turn: with lanes=1 the first runs alone and the
    others wait for it, then go together as one group."""
    return await asyncio.gather(
        *(store.append(stream, expected, [record]) for stream, expected, record in calls),
        return_exceptions=True,
    )


def xid(position: int) -> int:
    return position >> 20


async def test_a_group_is_one_transaction_and_each_caller_gets_its_own_answer(
    pool: asyncpg.Pool,
) -> None:
    store = EventStore(pool, lanes=1, group=32)
    first, raced, chained, behind, bad_id, retried = (new_stream() for _ in range(6))
    twin = pledge("a")
    await store.append(retried, 0, [twin])  # stored before: its retry below is idempotent
    clash = pledge("b").model_copy(update={"event_id": twin.event_id})
    plain = [(new_stream(), 0, pledge("c")) for _ in range(6)]
    calls = [
        (first, 0, pledge("a")),  # runs alone, the rest waits for its lane
        *plain,
        (raced, 0, pledge("a")),
        (raced, 0, pledge("b")),  # two writers, one version
        (chained, 0, pledge("a")),
        (chained, 1, pledge("b")),  # the second needs the first
        (behind, 3, pledge("a")),  # the stream has no version 3
        (retried, 0, twin),  # a retry of a stored event
        (bad_id, 0, clash),  # a stored id with other content
    ]
    got = await at_once(store, calls)

    grouped = [p[0].position for p in got[1 : 1 + len(plain)]]
    assert len({xid(p) for p in grouped}) == 1, "the waiting appends were not one group"
    assert xid(got[0][0].position) != xid(grouped[0])
    for (stream, _, _), answer in zip(plain, got[1 : 1 + len(plain)], strict=True):
        # the answer carries the stored hash too (Temporal records it: app/audit/reconcile.py)
        assert [(e.version, e.position, e.hash) for e in await store.read_stream(stream)] == [
            tuple(answer[0])
        ]

    a, b = got[7], got[8]
    assert sorted(type(x).__name__ for x in (a, b)) == ["WrongExpectedVersion", "list"]
    assert [e.version for e in await store.read_stream(raced)] == [1]
    assert [p[0].version for p in got[9:11]] == [1, 2]  # the second resolved alone, after
    assert isinstance(got[11], WrongExpectedVersion) and got[11].actual == 0
    stored = await store.read_stream(retried)
    assert got[12] == [(1, stored[0].position, stored[0].hash)] and len(stored) == 1
    assert isinstance(got[13], EventIdConflict)
    assert await store.read_stream(bad_id) == []
    for stream in (first, raced, chained, retried, *(s for s, _, _ in plain)):
        assert (await store.verify(stream)).ok


async def test_an_append_the_database_refuses_does_not_fail_the_rest_of_its_group(
    pool: asyncpg.Pool,
) -> None:
    store = EventStore(pool, lanes=1, group=32)
    # jsonb has no NUL character: PostgreSQL refuses this event's data, failing the statement
    poisoned = pledge("a").model_copy(update={"data": {"unit": "a\u0000"}})
    calls = [(new_stream(), 0, pledge("a")) for _ in range(4)]
    calls.insert(2, (new_stream(), 0, poisoned))
    got = await at_once(store, calls)
    assert isinstance(got[2], DatabaseError)
    assert await store.read_stream(calls[2][0]) == []
    for i in (0, 1, 3, 4):
        assert isinstance(got[i], list) and (await store.verify(calls[i][0])).ok
        assert [e.event_id for e in await store.read_stream(calls[i][0])] == [calls[i][2].event_id]


async def test_many_writers_through_four_lanes_lose_nothing_and_record_nothing_twice(
    store: EventStore,
) -> None:
    streams = [new_stream() for _ in range(24)]
    records = {s: [pledge(u) for u in "abcdefgh"] for s in streams}

    async def write(stream: str) -> None:
        for v, r in enumerate(records[stream]):
            await store.append(stream, v, [r])
            if v == 3:  # a retry of an append that was accepted
                stored = (await store.read_stream(stream))[3]
                assert await store.append(stream, v, [r]) == [(4, stored.position, stored.hash)]

    await asyncio.gather(*(write(s) for s in streams))
    xids = set()
    for s in streams:
        stored = await store.read_stream(s)
        assert [e.event_id for e in stored] == [r.event_id for r in records[s]]
        assert (await store.verify(s)).ok
        xids |= {xid(e.position) for e in stored}
    assert len(xids) < 24 * 8, "no append was grouped"


def test_lanes_and_group_are_checked(pool: asyncpg.Pool) -> None:
    with pytest.raises(ValueError, match="lanes"):
        EventStore(pool, lanes=-1)
    with pytest.raises(ValueError, match="group"):
        EventStore(pool, group=0)


async def test_connections_dropped_under_grouped_appends_lose_nothing_and_double_nothing(
    db_url: str,
    store: EventStore,
) -> None:
    """Connections to the database are dropped at chosen appends while writers append through
    two lanes, retrying what failed as an activity would: every stream ends with exactly its
    events, in order, and its chain verifies.

    The faults are placed by a proxy that reads the wire protocol, not by timing: the first
    grouped append is cut after it committed (each of its callers must then find its event as an
    idempotent retry), and every fourth one-event append is cut, before it runs and after it
    committed in turn."""

    seen = {"group": 0, "one": 0}

    def plan(sql: str, _: int) -> Cut | None:
        if "unnest" in sql:
            seen["group"] += 1
            return "after" if seen["group"] == 1 else None
        seen["one"] += 1
        n = seen["one"]
        return None if n % 4 else ("before" if n % 8 else "after")

    streams = [new_stream() for _ in range(12)]
    records = {s: [pledge(u) for u in "abcdef"] for s in streams}
    failures = 0
    async with FaultProxy(db_url, plan, match=lambda sql: "INSERT INTO events" in sql) as proxy:
        pool = await create_pool(proxy.url, min_size=2, max_size=4)
        proxied = EventStore(pool, lanes=2)

        async def write(stream: str) -> None:
            nonlocal failures
            for v, r in enumerate(records[stream]):
                for _ in range(50):
                    try:
                        await proxied.append(stream, v, [r])
                        break
                    except StoreUnavailable:  # what an activity would retry
                        failures += 1
                else:
                    raise AssertionError(f"{stream} could not append version {v + 1}")

        try:
            await asyncio.gather(*(write(s) for s in streams))
        finally:
            await pool.close()

    kinds = [(kind, "unnest" in sql) for kind, sql in proxy.cuts]
    assert ("after", True) in kinds, "no grouped append was cut after its commit"
    assert ("before", False) in kinds and ("after", False) in kinds, kinds
    # a cut group falls back to each append alone inside the store; a cut one-event append is
    # one failure that its writer saw and retried
    assert failures == sum(not grouped for _, grouped in kinds), (failures, kinds)
    for s in streams:
        stored = await store.read_stream(s)
        assert [e.event_id for e in stored] == [r.event_id for r in records[s]]
        assert (await store.verify(s)).ok
