"""Tailing the global log: every committed event exactly once, in position order, even when a
transaction that took a lower position commits late."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from eventstore import EventStore
from eventstore.store import _APPEND

from .conftest import pledge, settled

pytestmark = pytest.mark.db

WRITERS, APPENDS, STREAMS_PER_WRITER = 8, 30, 3


async def test_a_tailing_reader_sees_every_event_once_in_order_despite_late_commits(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    tag = uuid.uuid4().hex[:6]
    start = int(await pool.fetchval("SELECT coalesce(max(position), 0) FROM events"))
    committed: set[uuid.UUID] = set()
    late: set[uuid.UUID] = set()
    writers_done = asyncio.Event()

    async def writer(w: int) -> None:
        heads = [0] * STREAMS_PER_WRITER
        for i in range(APPENDS):
            s = i % STREAMS_PER_WRITER
            stream = f"cycle-{tag}w{w}s{s}-2025"
            rec = pledge(f"u{w}")
            if w == 0 and i in (5, 17):
                # take a position, then keep the transaction open while the others commit
                async with pool.acquire() as conn, conn.transaction():
                    await conn.fetch(_APPEND, *store._append_args(stream, heads[s], [rec]))
                    await asyncio.sleep(0.4)
                late.add(rec.event_id)
            else:
                await store.append(stream, heads[s], [rec])
            heads[s] += 1
            committed.add(rec.event_id)
            await asyncio.sleep(0.002)

    async def tail() -> list[tuple[int, uuid.UUID]]:
        seen: list[tuple[int, uuid.UUID]] = []
        after, idle_after_done = start, 0
        while idle_after_done < 3:
            rows = await store.read_all(after, 50)
            seen += [(r.position, r.event_id) for r in rows if r.stream.startswith(f"cycle-{tag}")]
            if rows:
                after = rows[-1].position
            elif writers_done.is_set():
                idle_after_done += 1
            await asyncio.sleep(0.003)
        return seen

    async def naive_tail() -> set[uuid.UUID]:
        """What a reader gets from `position > checkpoint` alone."""
        seen: set[uuid.UUID] = set()
        after = start
        while not writers_done.is_set():
            rows = await pool.fetch(
                "SELECT position, event_id FROM events WHERE position > $1"
                " ORDER BY position LIMIT 50", after,
            )
            seen |= {r[1] for r in rows}
            if rows:
                after = rows[-1][0]
            await asyncio.sleep(0.003)
        return seen

    async def write_all() -> None:
        await asyncio.gather(*(writer(w) for w in range(WRITERS)))
        writers_done.set()

    _, seen, naive = await asyncio.gather(write_all(), tail(), naive_tail())

    positions = [p for p, _ in seen]
    ids = [i for _, i in seen]
    assert len(ids) == len(set(ids)), "an event was delivered twice"
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert set(ids) == committed, f"missed {len(committed - set(ids))} events"
    assert len(committed) == WRITERS * APPENDS
    # the scenario really has late commits that a naive reader skips
    assert late and late - naive, "the test did not produce a late commit"


async def test_read_all_pages_through_the_log(store: EventStore) -> None:
    stream = f"cycle-p{uuid.uuid4().hex[:6]}-2025"
    written = await store.append(stream, 0, [pledge() for _ in range(7)])
    await settled(store, written[-1].position)
    got, after = [], 0
    while page := await store.read_all(after, 3):
        got += [e for e in page if e.stream == stream]
        after = page[-1].position
    assert [e.version for e in got] == list(range(1, 8))
