"""Idempotency that cannot lie: a request id is bound to (caller, command) within its cycle."""

from __future__ import annotations

from decimal import Decimal

import pytest
from temporalio.worker import Worker

from app.client import CycleClient
from domain.commands import SignPledge, SubmitSelfScore
from domain.errors import DomainError
from domain.values import Actor
from eventstore import EventStore
from workflows.idempotency import binding

from .helpers import eventually, reference, settled, stream_of

KHDT = Actor.of_unit("so-khdt")


def test_binding_covers_the_caller_and_the_command() -> None:
    cmd = SignPledge(unit="so-khdt")
    assert binding(KHDT, cmd) == binding(Actor.of_unit("so-khdt"), SignPledge(unit="so-khdt"))
    assert len(binding(KHDT, cmd)) == 64
    assert binding(KHDT, cmd) != binding(Actor.of_unit("so-khdt", name="ba-lan"), cmd)
    assert binding(KHDT, cmd) != binding(Actor.admin(), cmd)
    assert binding(KHDT, cmd) != binding(KHDT, SignPledge(unit="vp-ubnd"))
    # one value, one binding: 1.50 and 1.5 are the same score
    a = SubmitSelfScore(unit="so-khdt", sections={"c1": Decimal("1.50")})
    b = SubmitSelfScore(unit="so-khdt", sections={"c1": Decimal("1.5")})
    assert binding(KHDT, a) == binding(KHDT, b)


async def _started(cycles: CycleClient, store: EventStore):  # type: ignore[no-untyped-def]
    sc = reference()
    handle = await cycles.start(sc.start_command(), request_id="start-1")

    async def appended() -> None:
        assert await store.head(stream_of(cycles, sc)) == 1

    await eventually(appended)
    await settled(handle)
    return sc, handle


async def _history_len(handle) -> int:  # type: ignore[no-untyped-def]
    return len((await handle.fetch_history()).events)


@pytest.mark.temporal
async def test_same_id_same_caller_same_command_is_the_first_answer(
    cycles: CycleClient, store: EventStore, worker: Worker
) -> None:
    sc, handle = await _started(cycles, store)
    first = await cycles.send(
        sc.block.id, sc.year, SignPledge(unit="so-khdt"), KHDT, request_id="k1"
    )
    assert not first.duplicate
    again = await cycles.send(
        sc.block.id, sc.year, SignPledge(unit="so-khdt"), KHDT, request_id="k1"
    )
    assert again.duplicate
    assert [e.event_id for e in again.events] == [e.event_id for e in first.events]
    assert (again.version, again.stage) == (2, "pledge")
    assert await store.head(stream_of(cycles, sc)) == 2
    await handle.terminate("test over")


@pytest.mark.temporal
@pytest.mark.parametrize(
    ("actor", "command"),
    [
        (KHDT, SignPledge(unit="vp-ubnd")),  # another command
        (Actor.of_unit("vp-ubnd"), SignPledge(unit="vp-ubnd")),  # another caller and command
        (Actor.of_unit("so-khdt", name="ba-lan"), SignPledge(unit="so-khdt")),  # another person
    ],
    ids=["other-command", "other-unit", "other-person"],
)
async def test_same_id_for_anything_else_is_refused_without_trace(
    actor: Actor, command: SignPledge, cycles: CycleClient, store: EventStore, worker: Worker
) -> None:
    sc, handle = await _started(cycles, store)
    stream = stream_of(cycles, sc)
    await cycles.send(sc.block.id, sc.year, SignPledge(unit="so-khdt"), KHDT, request_id="k1")
    head, history = await store.head(stream), await _history_len(handle)
    with pytest.raises(DomainError) as err:
        await cycles.send(sc.block.id, sc.year, command, actor, request_id="k1")
    assert (err.value.code, err.value.field) == ("idempotency_key_reused", "request_id")
    assert (await store.head(stream), await _history_len(handle)) == (head, history)
    state = await cycles.state(sc.block.id, sc.year)
    assert state.signed == ["so-khdt"] and state.version == 2
    await handle.terminate("test over")


@pytest.mark.temporal
async def test_the_start_request_id_is_bound_too(
    cycles: CycleClient, store: EventStore, worker: Worker
) -> None:
    sc, handle = await _started(cycles, store)
    with pytest.raises(DomainError) as err:
        await cycles.send(
            sc.block.id, sc.year, SignPledge(unit="so-khdt"), KHDT, request_id="start-1"
        )
    assert err.value.code == "idempotency_key_reused"
    assert await store.head(stream_of(cycles, sc)) == 1
    await handle.terminate("test over")
