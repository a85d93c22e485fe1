"""A cycle cannot be exhausted: a run continues as new after `updates_per_run` accepted updates
(Temporal refuses a run's 2,001st), callers never see the change of run, a request accepted by
an earlier run is still answered (duplicate) and its id still bound, and every event lands once.

The load: the reference case up to its discipline stage, then each of eight workers records and
withdraws an `other` finding of its own unit, again and again (a command that may repeat), then
the rest of the reference case."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import WorkflowHandle
from temporalio.worker import Worker

from app.client import CycleClient
from domain.commands import RecordFinding, SignPledge, WithdrawFinding
from domain.errors import DomainError
from domain.values import Actor
from eventstore import EventStore
from workflows.messages import DEFAULT_UPDATES_PER_RUN

from .helpers import check_store, eventually, reference, send_steps, stream_of

pytestmark = pytest.mark.temporal

WORKERS = 8  # commands in flight at once
DISCIPLINE = 26  # the reference case's steps before its first finding
REFERENCE_EVENTS = 52  # the events of the reference case


async def _runs(cycles: CycleClient, handle: WorkflowHandle) -> int:  # type: ignore[type-arg]
    query = f'WorkflowId = "{handle.id}"'
    return len([w async for w in cycles.client.list_workflows(query)])


async def _churn(cycles: CycleClient, block: str, year: int, pairs: int) -> int:
    """Each worker records and withdraws its unit's `other` finding `pairs` times."""
    sc = reference()
    admin = Actor.admin()

    async def worker(i: int) -> int:
        unit = sc.block.members[i].id
        for n in range(pairs):
            rec = await cycles.send(
                block,
                year,
                RecordFinding(unit=unit, kind="other", reference=f"r{n}"),
                admin,
                request_id=f"rec-{i}-{n}",
            )
            wd = await cycles.send(
                block,
                year,
                WithdrawFinding(unit=unit, kind="other"),
                admin,
                request_id=f"wd-{i}-{n}",
            )
            assert not rec.duplicate and not wd.duplicate
        return 2 * pairs

    return sum(await asyncio.gather(*(worker(i) for i in range(WORKERS))))


async def _long_cycle(
    cycles: CycleClient, store: EventStore, *, pairs: int, per_run: int
) -> tuple[int, int]:
    sc = reference()
    # the ruleset bounds how often one finding may change; this load needs the highest bound
    start = sc.start_command()
    start = start.model_copy(
        update={"ruleset": start.ruleset.model_copy(update={"max_finding_changes": 1000})}
    )
    handle = await cycles.start(start, updates_per_run=per_run)
    await send_steps(cycles, sc, sc.steps[:DISCIPLINE])
    first_answer = await cycles.send(
        sc.block.id, sc.year, sc.steps[0].command, sc.steps[0].actor, request_id="step-0"
    )
    churned = await _churn(cycles, sc.block.id, sc.year, pairs)
    updates = DISCIPLINE + 1 + churned

    # A request accepted by the first run: the first answer, read back, marked duplicate.
    again = await cycles.send(
        sc.block.id, sc.year, sc.steps[0].command, sc.steps[0].actor, request_id="step-0"
    )
    assert again.duplicate and first_answer.duplicate
    assert [e.event_id for e in again.events] == [e.event_id for e in first_answer.events]
    assert again.events[0].type == "pledge_signed" and again.version > per_run
    # Its id is still bound to that caller and command.
    with pytest.raises(DomainError) as err:
        await cycles.send(
            sc.block.id,
            sc.year,
            SignPledge(unit="so-khdt"),
            Actor.of_unit("so-khdt"),
            request_id="step-0",
        )
    assert err.value.code == "idempotency_key_reused"

    await send_steps(cycles, sc, sc.steps[DISCIPLINE:])
    updates += 2 + len(sc.steps) - DISCIPLINE
    result = await handle.result()  # follows the runs to the last one
    assert result.stage == "completed"
    events = REFERENCE_EVENTS + churned
    assert result.version == events
    await check_store(store, stream_of(cycles, sc), sc, events=events)
    runs = await eventually(lambda: _at_least_runs(cycles, handle, updates // per_run))
    return updates, runs


async def _at_least_runs(cycles: CycleClient, handle: WorkflowHandle, n: int) -> int:  # type: ignore[type-arg]
    runs = await _runs(cycles, handle)
    assert runs >= n, (runs, n)
    return runs


async def test_a_cycle_continues_as_new_and_callers_do_not_notice(
    cycles: CycleClient, store: EventStore, worker: Worker
) -> None:
    updates, runs = await _long_cycle(cycles, store, pairs=8, per_run=40)
    assert updates > 3 * 40 and runs >= 4


@pytest.mark.slow
@pytest.mark.parametrize("per_run", [300, DEFAULT_UPDATES_PER_RUN])
async def test_five_thousand_updates_to_one_cycle(
    per_run: int, cycles: CycleClient, store: EventStore, worker: Worker
) -> None:
    updates, runs = await _long_cycle(cycles, store, pairs=312, per_run=per_run)
    assert updates >= 5000 and runs >= 5000 // per_run
