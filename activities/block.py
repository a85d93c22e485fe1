"""Block activities: a block's stream read, folded, judged and appended — the rotation's step
of a completed cycle, and the same path for the secretariat's commands."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from temporalio import activity

from domain.block import (
    BlockCommand,
    BlockEvent,
    SetLeaders,
    block_event_from_record,
    block_record,
)
from domain.block_rules import decide_block
from domain.block_state import BlockState, fold_block
from domain.values import Actor
from eventstore import errors as es_errors
from workflows.year_messages import BlockLeadersInput

__all__ = ["BlockActivities", "BlockStore", "execute_block_command", "load_block"]


class BlockStore(Protocol):
    async def append(self, stream: str, expected_version: int, records: Any) -> Any: ...
    async def read_stream(self, stream: str) -> Any: ...


async def load_block(store: BlockStore, stream: str) -> BlockState:
    """The block's state folded from its stream (the empty state when it has none)."""
    rows = await store.read_stream(stream)
    return fold_block(
        block_event_from_record(
            r.type, r.data, event_id=r.event_id, at=r.effective_at, actor=r.actor,
            request_id=r.request_id,
        )
        for r in rows
    )


async def execute_block_command(
    store: BlockStore, stream: str, command: BlockCommand, actor: Actor, *, now: datetime,
    request_id: str | None = None, ids: Callable[[], UUID] = uuid.uuid4, attempts: int = 5,
) -> tuple[list[BlockEvent], BlockState]:
    """Judge `command` on the block's current state and append its events; when another
    writer moved the stream meanwhile, judge again on the new state. Raises DomainError."""
    for attempt in range(attempts):
        state = await load_block(store, stream)
        events = decide_block(state, command, actor, now=now, ids=ids, request_id=request_id)
        try:
            await store.append(stream, state.version, [block_record(e) for e in events])
        except es_errors.WrongExpectedVersion:
            if attempt == attempts - 1:
                raise
            continue
        return events, fold_block(events, state)
    raise AssertionError("unreachable")


class BlockActivities:
    def __init__(self, store: BlockStore) -> None:
        self._store = store

    @activity.defn(name="set_block_leaders")
    async def set_block_leaders(self, inp: BlockLeadersInput) -> bool:
        """Write the leaders a completed cycle elected as the block's leaders of `year`. The
        event's id is the cycle's (uuid5), so a retry — or a second worker — writes it once.
        False when the block has no record (a cycle started from a file whose block was not
        registered)."""
        state = await load_block(self._store, inp.block_stream)
        if not state.registered:
            return False
        await execute_block_command(
            self._store, inp.block_stream,
            SetLeaders(year=inp.year, head=inp.head, deputy=inp.deputy, source="election",
                       cycle=inp.cycle_stream),
            Actor.system(), now=inp.at, request_id=f"rotation:{inp.cycle_stream}",
        )
        return True
