"""Deadlines and reminders as durable timers, on the time-skipping test server: a 30-day
deadline passes in well under a second of real time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from app.client import CycleClient
from app.devstack import find_binary
from app.worker import build_worker
from domain.commands import ExtendDeadline
from domain.scenario import Scenario
from domain.values import Actor
from eventstore import EventStore
from eventstore.outbox import Outbox

from .helpers import eventually, scenario, send_steps, stream_of

pytestmark = pytest.mark.temporal


@pytest.fixture(scope="module")
async def skipping() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=find_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    yield env
    await env.shutdown()


async def _start(
    env: WorkflowEnvironment, deadlines: dict[str, timedelta]
) -> tuple[CycleClient, Scenario, datetime]:
    now = await env.get_current_time()
    # five units; head so-a, deputy so-b; a cycle of this year (its deadlines lie in its season)
    sc = scenario("ties.json").model_copy(update={"year": now.year})
    start = sc.start_command().model_copy(
        update={"deadlines": {k: now + d for k, d in deadlines.items()}}
    )
    cycles = CycleClient(
        env.client, f"tq-{uuid.uuid4().hex[:8]}", prefix=f"t{uuid.uuid4().hex[:8]}:"
    )
    await cycles.start(start, request_id="start")
    return cycles, sc, now


async def test_pledge_deadline_closes_the_stage_and_reminds_who_has_not_signed(
    skipping: WorkflowEnvironment, store: EventStore, outbox: Outbox
) -> None:
    cycles, sc, now = await _start(skipping, {"pledge": timedelta(days=30)})
    stream = stream_of(cycles, sc)
    async with build_worker(skipping.client, cycles.task_queue, store, outbox):
        await send_steps(cycles, sc, sc.steps[:2])  # so-a and so-b sign
        assert (await cycles.state(sc.block.id, sc.year)).stage == "pledge"
        await skipping.sleep(timedelta(days=31))

        async def closed() -> list:  # type: ignore[type-arg]
            events = (await store.replay(stream)).events
            assert events[-1].type == "pledge_closed"
            return events

        events = await eventually(closed)
        assert (await cycles.state(sc.block.id, sc.year)).stage == "scoring"
    last = events[-1]
    assert last.reason == "deadline"  # type: ignore[attr-defined]
    assert last.unsigned == ("so-c", "so-d", "so-e")  # type: ignore[attr-defined]
    assert [e.type for e in events] == [
        "cycle_started",
        "pledge_signed",
        "pledge_signed",
        "pledge_closed",
    ]

    rows = await outbox.pending(stream)
    signers = {
        (r["recipient"], r["payload"]["days_before"])
        for r in rows
        if r["payload"]["actions"] == ["sign_pledge"]
    }
    assert signers == {(u, d) for u in ("so-c", "so-d", "so-e") for d in (7, 1)}
    assert "so-b" not in {r["recipient"] for r in rows}
    deadline = now + timedelta(days=30)
    assert {r["due_at"] for r in rows} == {
        deadline - timedelta(days=7),
        deadline - timedelta(days=1),
    }


async def test_extended_deadline_moves_the_timer(
    skipping: WorkflowEnvironment, store: EventStore, outbox: Outbox
) -> None:
    cycles, sc, now = await _start(skipping, {"pledge": timedelta(days=30)})
    stream = stream_of(cycles, sc)
    async with build_worker(skipping.client, cycles.task_queue, store, outbox):
        await cycles.send(
            sc.block.id,
            sc.year,
            ExtendDeadline(stage="pledge", until=now + timedelta(days=60)),
            Actor.admin(),
        )
        await skipping.sleep(timedelta(days=45))
        assert (await cycles.state(sc.block.id, sc.year)).stage == "pledge"
        assert [e.type for e in (await store.replay(stream)).events] == [
            "cycle_started",
            "deadline_extended",
        ]
        await skipping.sleep(timedelta(days=16))

        async def closed() -> None:
            last = (await store.replay(stream)).events[-1]
            assert last.type == "pledge_closed" and last.reason == "deadline"  # type: ignore[attr-defined]

        await eventually(closed)
    due = {r["due_at"] for r in await outbox.pending(stream)}
    extended = now + timedelta(days=60)
    assert {extended - timedelta(days=7), extended - timedelta(days=1)} <= due


async def test_review_deadline_is_recorded_as_missed(
    skipping: WorkflowEnvironment, store: EventStore, outbox: Outbox
) -> None:
    cycles, sc, _ = await _start(skipping, {"review": timedelta(days=10)})
    stream = stream_of(cycles, sc)
    close_scoring = next(i for i, s in enumerate(sc.steps) if s.command.do == "close_scoring")
    async with build_worker(skipping.client, cycles.task_queue, store, outbox):
        await send_steps(cycles, sc, sc.steps[: close_scoring + 1])
        assert (await cycles.state(sc.block.id, sc.year)).stage == "review"
        await skipping.sleep(timedelta(days=11))

        async def missed() -> None:
            last = (await store.replay(stream)).events[-1]
            assert last.type == "deadline_missed"
            assert last.stage == "review"  # type: ignore[attr-defined]
            assert last.pending == ("so-a",)  # type: ignore[attr-defined]

        await eventually(missed)
        state = await cycles.state(sc.block.id, sc.year)
        assert state.stage == "review" and state.missed == ["review"]
        # the stage goes on: the conference may still be recorded
        await send_steps(cycles, sc, sc.steps[close_scoring + 1 : close_scoring + 2])
        assert (await cycles.state(sc.block.id, sc.year)).stage == "discipline"
