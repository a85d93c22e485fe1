"""Reconcile a cycle's Temporal history (real dev server) with its event stream."""

from __future__ import annotations

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from app.audit import reconcile, reconcile_all
from app.client import CycleClient
from domain.commands import SignPledge
from domain.values import Actor
from eventstore import EventStore
from tests.eventstore.conftest import pledge
from tests.eventstore.test_integrity import tamper
from tests.workflows.helpers import eventually, reference, stream_of
from workflows.messages import cycle_key

pytestmark = pytest.mark.temporal


async def _cycle_with_pledges(cycles: CycleClient, store: EventStore) -> tuple[str, str, int]:
    """A started reference cycle with three signed pledges: (workflow id, stream, head)."""
    sc = reference()
    handle = await cycles.start(sc.start_command())
    stream = stream_of(cycles, sc)

    async def started() -> None:
        assert await store.head(stream) == 1

    await eventually(started)
    units = [m.id for m in sc.block.members][:3]
    for n, unit in enumerate(units):
        await cycles.send(
            sc.block.id,
            sc.year,
            SignPledge(unit=unit),
            Actor.of_unit(unit),
            request_id=f"pledge-{n}",
        )
    # a repeated request writes nothing and must not confuse the reconciliation
    await cycles.send(
        sc.block.id,
        sc.year,
        SignPledge(unit=units[0]),
        Actor.of_unit(units[0]),
        request_id="pledge-0",
    )
    wid, _ = cycle_key(sc.block.id, sc.year, cycles.prefix)
    assert handle.id == wid
    return wid, stream, 1 + len(units)


async def test_a_clean_cycle_reconciles(
    env: WorkflowEnvironment, worker: Worker, cycles: CycleClient, store: EventStore
) -> None:
    wid, stream, head = await _cycle_with_pledges(cycles, store)
    r = await reconcile(env.client, store, wid, stream)
    assert r.ok, r.differences
    assert r.workflow_version == r.store_version == head
    # the repeated request is an update of its own (a new update id, the same request id) that
    # the workflow answers as a duplicate with the first events, writing nothing
    assert r.updates == 4 and len(r.runs) == 1
    # --all: every cycle stream of the store with its workflow (this test's, by its prefix)
    seen: list[str] = []
    every = await reconcile_all(
        env.client, store, prefix=cycles.prefix, progress=lambda d, t, s: seen.append(s)
    )
    assert [(x.workflow_id, x.stream, x.ok) for x in every] == [(wid, stream, True)]
    assert seen == [stream]
    await cycles.client.get_workflow_handle(wid).terminate("test over")


async def test_an_event_behind_the_workflows_back_and_a_deleted_tail_are_found(
    env: WorkflowEnvironment,
    worker: Worker,
    cycles: CycleClient,
    store: EventStore,
    pool: asyncpg.Pool,
) -> None:
    wid, stream, head = await _cycle_with_pledges(cycles, store)
    await cycles.client.get_workflow_handle(wid).terminate("test over")
    # behind the workflow's back: a well-formed event at the next version
    await store.append(stream, head, [pledge("so-x")])
    r = await reconcile(env.client, store, wid, stream)
    assert (
        [d for d in r.differences if "no update, deadline or start" in d]
        == [d for d in r.differences if d.startswith(f"version {head + 1} (pledge_signed")]
        != []
    )
    # the superuser deletes the tail: the extra event and the workflow's last one
    await tamper(pool, f"DELETE FROM events WHERE stream = '{stream}' AND version >= {head}")
    r = await reconcile(env.client, store, wid, stream)
    assert not r.ok
    assert any(
        d.startswith("update sign_pledge (request pledge-2)") and "not in the store" in d
        for d in r.differences
    ), r.differences
    assert r.differences[-1] == (
        f"the workflow reached version {head}, the store holds {head - 1} (a deleted tail)"
    )
    # --all lists it, and a cycle stream that Temporal knows nothing of
    ghost = f"{cycles.prefix}cycle-ghost-2018"
    await store.append(ghost, 0, [pledge("so-x")])
    every = {
        x.stream: x for x in await reconcile_all(env.client, store, prefix=cycles.prefix, year=2018)
    }
    assert set(every) == {stream, ghost}
    assert every[stream].differences == r.differences
    assert not every[ghost].ok and not every[ghost].history
    assert (
        every[ghost]
        .differences[0]
        .startswith(f"Temporal holds no workflow {cycles.prefix}cycle:ghost:2018")
    )
