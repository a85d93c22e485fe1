"""eventstore.execute, the one way a command becomes events outside the workflow: another
writer that moves the stream between the load and the append makes it judge again on the new
state (real PostgreSQL; the interleaving is forced, and the test checks that it happened)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.block import BlockEventAdapter, JoinBlock, RegisterBlock, RenameBlock
from domain.block_rules import decide_block
from domain.block_state import BlockState, fold_block
from domain.codec import from_record
from domain.errors import DomainError
from domain.setup import Block, Member
from domain.values import Actor
from eventstore import EventStore
from eventstore.errors import WrongExpectedVersion
from eventstore.execute import execute

pytestmark = pytest.mark.db

ADMIN = Actor.admin(name="test")
NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def fold(rows: Any) -> BlockState:
    return fold_block(from_record(r, BlockEventAdapter) for r in rows)


def decider(command: Any, seen: list[int]) -> Any:
    def decide(state: BlockState) -> Any:
        seen.append(state.version)
        return decide_block(state, command, ADMIN, now=NOW, ids=uuid.uuid4)

    return decide


class Interleaved:
    """The store, with another writer's command appended right after each of the first
    `times` reads."""

    def __init__(self, store: EventStore, other: Any, times: int = 1) -> None:
        self.store, self.other, self.times, self.moved = store, other, times, 0

    async def read_stream(self, stream: str) -> Any:
        rows = await self.store.read_stream(stream)
        if self.moved < self.times:
            self.moved += 1
            await execute(self.store, stream, fold, self.other(self.moved))
        return rows

    async def append(self, stream: str, expected_version: int, records: Any) -> Any:
        return await self.store.append(stream, expected_version, records)


def block() -> Block:
    return Block(
        id="kx",
        name="Khối X",
        province="Tỉnh X",
        head="a",
        deputy="b",
        members=(Member(id="a", name="A"), Member(id="b", name="B"), Member(id="c", name="C")),
    )


async def test_a_stream_moved_meanwhile_is_judged_again_on_its_new_state(
    store: EventStore,
) -> None:
    stream = f"t{uuid.uuid4().hex[:8]}-block-kx"
    await execute(store, stream, fold, decider(RegisterBlock(block=block()), []))
    seen: list[int] = []
    racing = Interleaved(store, lambda n: decider(RenameBlock(name=f"Khối X {n}"), []))
    done = await execute(
        racing, stream, fold, decider(JoinBlock(unit="d", name="D", from_year=2027), seen)
    )
    assert racing.moved == 1  # the other writer did move the stream in between
    assert seen == [1, 2]  # judged on version 1, refused by the store, judged on version 2
    assert done.version == 2
    state = fold(await store.read_stream(stream))
    assert state.version == 3 and state.name == "Khối X 1"
    assert state.memberships[-1].unit == "d"


async def test_a_refusal_writes_nothing_and_a_stream_that_keeps_moving_gives_up(
    store: EventStore,
) -> None:
    stream = f"t{uuid.uuid4().hex[:8]}-block-kx"
    await execute(store, stream, fold, decider(RegisterBlock(block=block()), []))
    with pytest.raises(DomainError) as err:
        await execute(store, stream, fold, decider(RegisterBlock(block=block()), []))
    assert err.value.code == "block_exists"
    racing = Interleaved(store, lambda n: decider(RenameBlock(name=f"Khối X {n}"), []), times=10)
    seen: list[int] = []
    with pytest.raises(WrongExpectedVersion):
        await execute(racing, stream, fold, decider(RenameBlock(name="Khối Y"), seen), attempts=3)
    assert racing.moved == 3 and seen == [1, 2, 3]
    assert fold(await store.read_stream(stream)).name == "Khối X 3"
