"""Busy cycles: Temporal takes ~10 updates in flight per workflow and answers more with
RESOURCE_EXHAUSTED. The client queues per cycle and retries what the server refuses as busy;
past its bound it raises CycleBusy (HTTP 429 + Retry-After)."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.worker import Worker

from app.client import CycleBusy, CycleClient
from domain.errors import DomainError
from eventstore import EventStore

from .helpers import check_store, discipline_load, reference, send_steps, stream_of

pytestmark = pytest.mark.temporal

DISCIPLINE = 26  # the reference case's steps before its first finding


async def _in_discipline(cycles: CycleClient):  # type: ignore[no-untyped-def]
    sc = reference()
    handle = await cycles.start(sc.start_command())
    await send_steps(cycles, sc, sc.steps[:DISCIPLINE])
    return sc, handle


async def _send_all(cycles: CycleClient, sc, round_: int) -> list[object]:  # type: ignore[no-untyped-def]
    state = await cycles.state(sc.block.id, sc.year)
    load = discipline_load(sc, state, round_)
    assert len(load) == 50
    return await asyncio.gather(
        *(
            cycles.send(sc.block.id, sc.year, cmd, who, request_id=f"r{round_}-{i}")
            for i, (cmd, who) in enumerate(load)
        ),
        return_exceptions=True,
    )


async def test_fifty_concurrent_commands_on_one_cycle_all_succeed(
    cycles: CycleClient, store: EventStore, worker: Worker
) -> None:
    sc, handle = await _in_discipline(cycles)
    before = await store.head(stream_of(cycles, sc))
    # Four rounds of 50 at once; the client keeps 8 in flight (past the server's ~10, the dev
    # server aborts admitted updates en masse and most commands end as CycleBusy).
    for round_ in range(4):
        results = await _send_all(cycles, sc, round_)
        failures = [r for r in results if isinstance(r, BaseException)]
        assert failures == [], (round_, len(failures), failures[:3])
        assert not any(r.duplicate for r in results)  # type: ignore[attr-defined]
    state = await cycles.state(sc.block.id, sc.year)
    assert state.findings == [] and state.version == before + 4 * 50
    # the rest of the reference case still reaches its outcome
    await send_steps(cycles, sc, sc.steps[DISCIPLINE:])
    assert (await handle.result()).stage == "completed"
    await check_store(store, stream_of(cycles, sc), sc, events=52 + 4 * 50)


async def test_past_its_bound_the_client_raises_cycle_busy(
    cycles: CycleClient, store: EventStore, worker: Worker
) -> None:
    """No time to wait (bound 0) and one command in flight: the first goes through, the others
    are refused at once as CycleBusy with a Retry-After, and nothing of theirs is written."""
    sc, handle = await _in_discipline(cycles)
    before = await store.head(stream_of(cycles, sc))
    impatient = CycleClient(
        cycles.client, cycles.task_queue, prefix=cycles.prefix, in_flight=1, busy_timeout=0
    )
    results = await _send_all(impatient, sc, 0)
    busy = [r for r in results if isinstance(r, CycleBusy)]
    done = [r for r in results if not isinstance(r, BaseException)]
    assert len(done) == 1 and len(busy) == 49, results[:3]
    assert all(0 < b.retry_after_seconds <= 10 for b in busy)
    assert not any(isinstance(r, DomainError) for r in results)
    assert await store.head(stream_of(cycles, sc)) == before + 1
    await handle.terminate("test over")
