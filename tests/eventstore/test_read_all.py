"""Tailing the global log: every committed event exactly once, in position order, even when a
transaction that took a lower position commits late."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from domain.codec import EventRecord
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

    naive_at = 0  # the highest position the naive reader has read

    async def hold_open_past_a_later_commit(stream: str, head: int, rec: EventRecord) -> None:
        """Take a position, then keep the transaction open until an append with a higher
        position has committed and the naive reader has read past it: a late commit, made by
        the test, not by timing."""
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_APPEND, *store._append_args(stream, head, [rec]))
            mine = rows[0][1]
            other = pledge("x")
            later = await store.append(f"cycle-{tag}late{len(late)}-2025", 0, [other])
            committed.add(other.event_id)
            assert later[0].position > mine
            for _ in range(3000):
                if naive_at >= later[0].position:
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the naive reader never read past the later commit")

    async def writer(w: int) -> None:
        heads = [0] * STREAMS_PER_WRITER
        for i in range(APPENDS):
            s = i % STREAMS_PER_WRITER
            stream = f"cycle-{tag}w{w}s{s}-2025"
            rec = pledge(f"u{w}")
            if w == 0 and i in (5, 17):
                await hold_open_past_a_later_commit(stream, heads[s], rec)
                late.add(rec.event_id)
            else:
                await store.append(stream, heads[s], [rec])
            heads[s] += 1
            committed.add(rec.event_id)
            await asyncio.sleep(0.002)

    async def tail() -> list[tuple[int, uuid.UUID]]:
        """Read until every committed event is in (bounded): an older transaction anywhere in
        the cluster may hold the watermark back for a moment after the writers are done."""
        seen: list[tuple[int, uuid.UUID]] = []
        after = start
        for _ in range(20000):
            rows = await store.read_all(after, 50)
            seen += [(r.position, r.event_id) for r in rows if r.stream.startswith(f"cycle-{tag}")]
            if rows:
                after = rows[-1].position
            elif writers_done.is_set() and {i for _, i in seen} >= committed:
                break
            await asyncio.sleep(0.003)
        return seen

    async def naive_tail() -> set[uuid.UUID]:
        """What a reader gets from `position > checkpoint` alone."""
        seen: set[uuid.UUID] = set()
        after = start
        while not writers_done.is_set():
            rows = await pool.fetch(
                "SELECT position, event_id FROM events WHERE position > $1"
                " ORDER BY position LIMIT 50",
                after,
            )
            seen |= {r[1] for r in rows}
            if rows:
                after = rows[-1][0]
                nonlocal naive_at
                naive_at = after
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
    assert len(committed) == WRITERS * APPENDS + len(late)  # with the later commits
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
