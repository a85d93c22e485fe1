"""Updates: a rejection leaves no trace; a repeated request id writes nothing new."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.worker import Worker

from app.client import CycleClient
from domain.commands import ClosePledge, SignPledge, SubmitSelfScore
from domain.errors import DomainError
from domain.values import Actor
from eventstore import EventStore
from workflows.messages import CommandRequest, CommandResult

from .helpers import eventually, reference, settled, stream_of

pytestmark = pytest.mark.temporal


async def _started(cycles: CycleClient, store: EventStore):  # type: ignore[no-untyped-def]
    """A started reference cycle whose start event is in the store (run() appends it)."""
    sc = reference()
    handle = await cycles.start(sc.start_command())

    async def appended() -> None:
        assert await store.head(stream_of(cycles, sc)) == 1

    await eventually(appended)
    await settled(handle)
    return sc, handle


async def _history_len(handle) -> int:  # type: ignore[no-untyped-def]
    return len((await handle.fetch_history()).events)


@pytest.mark.parametrize(
    ("actor", "command", "code"),
    [
        (Actor.of_unit("so-khdt"), SignPledge(unit="so-ngoai-vu"), "not_authorized"),
        (Actor.of_unit("so-khdt"), ClosePledge(), "not_authorized"),
        (
            Actor.of_unit("so-khdt"),
            SubmitSelfScore(unit="so-khdt", sections={"c1": "1", "c2": "1", "c3": "1"}),
            "wrong_stage",
        ),
        (Actor.auditor(), SignPledge(unit="so-khdt"), "not_authorized"),
    ],
    ids=["other-unit", "not-chair", "wrong-stage", "auditor"],
)
async def test_rejected_update_writes_no_event_and_no_history(
    actor: Actor,
    command,
    code: str,
    cycles: CycleClient,
    store: EventStore,
    worker: Worker,  # type: ignore[no-untyped-def]
) -> None:
    sc, handle = await _started(cycles, store)
    stream = stream_of(cycles, sc)
    head, history = await store.head(stream), await _history_len(handle)
    with pytest.raises(DomainError) as err:
        await cycles.send(sc.block.id, sc.year, command, actor, request_id="rejected-1")
    assert err.value.code == code
    assert await store.head(stream) == head == 1
    assert await _history_len(handle) == history
    assert (await cycles.state(sc.block.id, sc.year)).version == 1
    await handle.terminate("test over")


async def test_already_signed_is_rejected_without_trace(
    cycles: CycleClient, store: EventStore, worker: Worker
) -> None:
    sc, handle = await _started(cycles, store)
    stream = stream_of(cycles, sc)
    unit = Actor.of_unit("so-khdt")
    await cycles.send(sc.block.id, sc.year, SignPledge(unit="so-khdt"), unit, request_id="a")
    head, history = await store.head(stream), await _history_len(handle)
    with pytest.raises(DomainError) as err:
        await cycles.send(sc.block.id, sc.year, SignPledge(unit="so-khdt"), unit, request_id="b")
    assert err.value.code == "already_signed"
    assert (await store.head(stream), await _history_len(handle)) == (head, history) == (2, history)
    await handle.terminate("test over")


async def test_same_request_id_twice_writes_once(
    cycles: CycleClient, store: EventStore, worker: Worker
) -> None:
    """Through the client (Temporal answers a repeated update id with the first result) and
    through a new update id carrying the same request id (the workflow answers duplicate)."""
    sc, handle = await _started(cycles, store)
    stream = stream_of(cycles, sc)
    cmd, unit = SignPledge(unit="so-khdt"), Actor.of_unit("so-khdt")
    first = await cycles.send(sc.block.id, sc.year, cmd, unit, request_id="req-1")
    again = await cycles.send(sc.block.id, sc.year, cmd, unit, request_id="req-1")
    assert [e.event_id for e in again.events] == [e.event_id for e in first.events]
    other_update = await handle.execute_update(
        "sign_pledge",
        CommandRequest(command=cmd, actor=unit, request_id="req-1"),
        id="another-update-id",
        result_type=CommandResult,
    )
    assert other_update.duplicate is True
    assert [e.event_id for e in other_update.events] == [e.event_id for e in first.events]
    events = (await store.replay(stream)).events
    assert len(events) == 2 and events[1].event_id == first.events[0].event_id
    assert (await cycles.state(sc.block.id, sc.year)).version == 2
    await handle.terminate("test over")


async def test_concurrent_same_request_id_writes_once(
    cycles: CycleClient, store: EventStore, worker: Worker
) -> None:
    sc, handle = await _started(cycles, store)
    cmd, unit = SignPledge(unit="vp-ubnd"), Actor.of_unit("vp-ubnd")
    results = await asyncio.gather(
        *(cycles.send(sc.block.id, sc.year, cmd, unit, request_id="same") for _ in range(5))
    )
    assert len({r.events[0].event_id for r in results}) == 1
    assert await store.head(stream_of(cycles, sc)) == 2
    await handle.terminate("test over")


async def test_second_start_is_cycle_exists(
    cycles: CycleClient, store: EventStore, worker: Worker
) -> None:
    sc, handle = await _started(cycles, store)
    with pytest.raises(DomainError) as err:
        await cycles.start(sc.start_command())
    assert err.value.code == "cycle_exists"
    await handle.terminate("test over")


async def test_a_refused_start_leaves_no_workflow_and_no_event(
    cycles: CycleClient, store: EventStore, worker: Worker
) -> None:
    sc = reference()
    start = sc.start_command()
    swapped = {"pledge": start.deadlines["scoring"], "scoring": start.deadlines["pledge"]}
    with pytest.raises(DomainError) as err:
        await cycles.start(start.model_copy(update={"deadlines": swapped}))
    assert (err.value.code, err.value.field) == ("invalid_deadline", "deadlines.scoring")
    with pytest.raises(DomainError) as err:
        await cycles.start(start, Actor.of_unit("so-khdt"))
    assert err.value.code == "not_authorized"
    assert await store.head(stream_of(cycles, sc)) == 0
    handle = await cycles.start(start)  # the block and year are still free

    async def started() -> None:
        assert await store.head(stream_of(cycles, sc)) == 1

    await eventually(started)
    await handle.terminate("test over")
