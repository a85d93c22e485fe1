"""Appending: expected versions, idempotent retries, id conflicts, database clock."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from eventstore import (
    EventIdConflict,
    EventStore,
    Position,
    StoreUnavailable,
    WrongExpectedVersion,
    create_pool,
)

from .conftest import new_stream, pledge

pytestmark = pytest.mark.db


async def count(pool: asyncpg.Pool, stream: str) -> int:
    n: int = await pool.fetchval("SELECT count(*) FROM events WHERE stream = $1", stream)
    return n


async def test_append_assigns_versions_in_order_and_reads_back_the_same_records(
    store: EventStore,
) -> None:
    stream = new_stream()
    records = [pledge("a"), pledge("b", request_id="req-1"), pledge("c")]
    positions = await store.append(stream, 0, records)
    assert [p.version for p in positions] == [1, 2, 3]
    assert [p.position for p in positions] == sorted(p.position for p in positions)
    stored = await store.read_stream(stream)
    assert [s.version for s in stored] == [1, 2, 3]
    for rec, got in zip(records, stored, strict=True):
        assert got.event_id == rec.event_id and got.data == rec.data and got.actor == rec.actor
        assert got.effective_at == rec.effective_at and got.request_id == rec.request_id
        assert got.to_event().model_dump() == got.to_event().model_dump()
    assert await store.head(stream) == 3


async def test_two_writers_at_the_same_expected_version_exactly_one_wins(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    stream = new_stream()
    await store.append(stream, 0, [pledge()])
    results = await asyncio.gather(
        store.append(stream, 1, [pledge("a")]),
        store.append(stream, 1, [pledge("b")]),
        return_exceptions=True,
    )
    wins = [r for r in results if isinstance(r, list)]
    losses = [r for r in results if isinstance(r, WrongExpectedVersion)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert losses[0].expected == 1 and losses[0].actual == 2
    assert "expected version 1" in str(losses[0]) and "actual version 2" in str(losses[0])
    assert await count(pool, stream) == 2


async def test_many_concurrent_writers_never_break_the_stream(store: EventStore) -> None:
    stream = new_stream()

    async def writer(unit: str) -> int:
        done = 0
        for _ in range(20):
            head = await store.head(stream)
            try:
                await store.append(stream, head, [pledge(unit)])
                done += 1
            except WrongExpectedVersion:
                pass
        return done

    written = sum(await asyncio.gather(*(writer(u) for u in "abcdefgh")))
    report = await store.verify(stream)
    assert report.ok, report
    assert report.head_version == written


async def test_a_retried_append_is_a_no_op_returning_the_original_positions(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    stream = new_stream()
    batch = [pledge("a"), pledge("b")]
    first = await store.append(stream, 0, batch)
    again = await store.append(stream, 0, batch)
    assert again == first
    await store.append(stream, 2, [pledge("c")])
    assert await store.append(stream, 0, batch) == first  # even when the stream moved on
    assert await store.append(stream, 0, batch[1:]) == first[1:]
    assert await count(pool, stream) == 3


async def test_concurrent_retries_of_one_batch_write_it_once(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    stream = new_stream()
    batch = [pledge("a"), pledge("b")]
    results = await asyncio.gather(*(store.append(stream, 0, batch) for _ in range(5)))
    assert all(r == results[0] for r in results)
    assert await count(pool, stream) == 2


async def test_the_same_event_id_with_other_content_is_refused(store: EventStore) -> None:
    stream = new_stream()
    original = pledge("a")
    await store.append(stream, 0, [original])
    changed = original.model_copy(update={"data": {**original.data, "unit": "b"}})
    with pytest.raises(EventIdConflict) as info:
        await store.append(stream, 1, [changed])
    assert info.value.event_id == original.event_id and "data differs" in str(info.value)
    with pytest.raises(EventIdConflict):  # same id in another stream
        await store.append(new_stream(), 0, [original])
    with pytest.raises(EventIdConflict):  # a retry that smuggles in a new event
        await store.append(stream, 0, [original, pledge("c")])
    assert await store.head(stream) == 1


async def test_an_expected_version_ahead_of_the_stream_is_refused(store: EventStore) -> None:
    stream = new_stream()
    await store.append(stream, 0, [pledge()])
    with pytest.raises(WrongExpectedVersion) as info:
        await store.append(stream, 5, [pledge()])
    assert (info.value.expected, info.value.actual) == (5, 1)
    with pytest.raises(WrongExpectedVersion):
        await store.append(stream, 0, [pledge()])


async def test_recorded_at_comes_from_the_database_clock(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    stream = new_stream()
    before = await pool.fetchval("SELECT clock_timestamp()")
    await store.append(stream, 0, [pledge(), pledge()])
    after = await pool.fetchval("SELECT clock_timestamp()")
    stored = await store.read_stream(stream)
    assert before <= stored[0].recorded_at <= stored[1].recorded_at <= after


async def test_positions_are_returned_as_named_pairs(store: EventStore) -> None:
    (pos,) = await store.append(new_stream(), 0, [pledge()])
    assert isinstance(pos, Position) and pos.version == 1 and pos.position > 0


async def test_an_unreachable_database_raises_store_unavailable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StoreUnavailable):
        await create_pool(f"postgresql://postgres@/x?host={tmp_path}", min_size=1, timeout=2)
