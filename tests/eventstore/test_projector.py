"""The generic projection runner (with a small read model of the test's own), reading a stream
as of a time or a version."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from domain.events import (
    PledgeClosed,
)
from domain.values import Actor
from eventstore import EventStore, LogEvent, ProjectionRunner
from eventstore.records import Conn

from .conftest import append_events, env, new_stream, pledge, started

pytestmark = pytest.mark.db

ADMIN = Actor.admin()


class CountPerStream:
    """A read model of the test's own: events per stream."""

    name = "test_counts"
    version = 1

    async def reset(self, conn: Conn) -> None:
        await conn.execute("TRUNCATE test_counts")

    async def apply(self, conn: Conn, e: LogEvent) -> None:
        await conn.execute(
            "INSERT INTO test_counts (stream, n, last_version) VALUES ($1, 1, $2)"
            " ON CONFLICT (stream) DO UPDATE SET n = test_counts.n + 1, last_version = $2",
            e.stream,
            e.version,
        )


async def test_the_runner_applies_every_event_once_in_order_while_writers_run_and_a_rebuild_equals_it(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await pool.execute(
        "CREATE TABLE IF NOT EXISTS test_counts (stream text PRIMARY KEY, n int, last_version int)"
    )
    runner = ProjectionRunner(pool, [CountPerStream()], batch=7)
    assert await runner.prepare() == ["test_counts"]  # never built: built now
    stop = asyncio.Event()

    async def follow() -> None:
        while not stop.is_set():
            await runner.run_once()
            await asyncio.sleep(0.005)

    follower = asyncio.create_task(follow())
    streams = [new_stream() for _ in range(4)]

    async def write(stream: str) -> None:
        head = 0
        for _ in range(10):
            await store.append(stream, head, [pledge("a"), pledge("b")])
            head += 2

    await asyncio.gather(*(write(s) for s in streams))
    stop.set()
    await follower
    await runner.catch_up()
    rows = {
        r["stream"]: (r["n"], r["last_version"])
        for r in await pool.fetch(
            "SELECT * FROM test_counts WHERE stream = any($1::text[])", streams
        )
    }
    assert rows == {s: (20, 20) for s in streams}
    live = sorted(map(tuple, await pool.fetch("SELECT * FROM test_counts")))
    await runner.rebuild()
    assert sorted(map(tuple, await pool.fetch("SELECT * FROM test_counts"))) == live
    assert await runner.prepare() == []  # same version: nothing to rebuild


class SeenStreams:
    """A read model of the test's own: the streams it has seen."""

    name = "test_seen"
    version = 1

    async def reset(self, conn: Conn) -> None:
        await conn.execute("TRUNCATE test_seen")

    async def apply(self, conn: Conn, e: LogEvent) -> None:
        await conn.execute("INSERT INTO test_seen VALUES ($1) ON CONFLICT DO NOTHING", e.stream)


async def test_catch_up_waits_for_an_older_open_transaction_to_reach_an_append_it_holds_back(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    """Any older transaction of the cluster (here a bare one; in CI probably an autovacuum's
    ANALYZE) keeps a committed append below the watermark: `catch_up()` after the append must
    still make it readable, by waiting until the older transaction ends."""
    await pool.execute("CREATE TABLE IF NOT EXISTS test_seen (stream text PRIMARY KEY)")
    runner = ProjectionRunner(pool, [SeenStreams()])
    await runner.prepare()
    await runner.catch_up()

    async def seen(stream: str) -> bool:
        return bool(await pool.fetchval("SELECT count(*) FROM test_seen WHERE stream = $1", stream))

    older = await pool.acquire()
    try:
        tx = older.transaction()
        await tx.start()
        await older.fetchval("SELECT pg_current_xact_id()")  # takes its id now: older
        held, given_up = new_stream(), new_stream()
        await store.append(given_up, 0, [pledge("a")])
        await runner.catch_up(wait=0.2)  # the bound holds: back with the event not yet in
        assert not await seen(given_up)
        await store.append(held, 0, [pledge("a")])
        waiting = asyncio.create_task(runner.catch_up())
        # what the test is for: while the older transaction is open, catch_up waits
        done, _ = await asyncio.wait({waiting}, timeout=0.3)
        assert not done and not await seen(held), "catch_up came back past an open transaction"
        await tx.commit()
        await waiting
    finally:
        await pool.release(older)
    assert await seen(held) and await seen(given_up)


async def test_a_stream_can_be_read_as_of_a_time_or_up_to_a_version(store: EventStore) -> None:
    stream = "cycle-k9-2025"
    await append_events(store, stream, [started("k9", 2025)])
    await store.append(stream, 1, [pledge("a"), pledge("b")])
    cut = (await store.read_stream(stream))[-1].recorded_at
    await store.append(stream, 3, [pledge("c")])
    await append_events(store, stream, [PledgeClosed(**env(), reason="all_signed")])

    assert [e.version for e in await store.read_stream(stream, as_of=cut)] == [1, 2, 3]
    assert [e.version for e in await store.read_stream(stream, to_version=2)] == [1, 2]
    then = await store.replay(stream, as_of=cut)
    assert then.report.ok and then.state.version == 3 and then.state.stage == "pledge"
    assert then.state.signed == ["a", "b"]
    now = await store.replay(stream)
    assert now.state.version == 5 and now.state.stage == "scoring"
    assert (await store.replay(stream, to_version=1)).state.signed == []
