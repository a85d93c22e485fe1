"""Block activities: a block's stream read, folded, judged and appended — the rotation's step
of a completed cycle, and the same path for the secretariat's commands."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID

from temporalio import activity

from domain.block import BlockCommand, BlockEvent, BlockEventAdapter, SetLeaders
from domain.block_rules import decide_block
from domain.block_state import BlockState, fold_block
from domain.codec import from_record
from domain.values import Actor
from eventstore.execute import Stream, execute, load
from eventstore.records import StoredEvent
from workflows.names import SET_BLOCK_LEADERS
from workflows.year_messages import BlockLeadersInput

__all__ = ["BlockActivities", "BlockStore", "execute_block_command", "load_block"]


BlockStore = Stream


def fold_block_rows(rows: Sequence[StoredEvent]) -> BlockState:
    """The block's state folded from its stored events (the empty state when it has none)."""
    return fold_block(from_record(r, BlockEventAdapter) for r in rows)


async def load_block(store: BlockStore, stream: str) -> BlockState:
    """The block's state folded from its stream (the empty state when it has none)."""
    return (await load(store, stream, fold_block_rows))[0]


async def execute_block_command(
    store: BlockStore,
    stream: str,
    command: BlockCommand,
    actor: Actor,
    *,
    now: datetime,
    request_id: str | None = None,
    ids: Callable[[], UUID] = uuid.uuid4,
) -> tuple[list[BlockEvent], BlockState]:
    """Judge `command` on the block's current state and append its events (eventstore.execute:
    judged again when another writer moved the stream meanwhile). Raises DomainError."""
    done = await execute(
        store,
        stream,
        fold_block_rows,
        lambda state: decide_block(state, command, actor, now=now, ids=ids, request_id=request_id),
    )
    return list(done.events), fold_block(done.events, done.state)


class BlockActivities:
    def __init__(self, store: BlockStore) -> None:
        self._store = store

    @activity.defn(name=SET_BLOCK_LEADERS)
    async def set_block_leaders(self, inp: BlockLeadersInput) -> bool:
        """Write the leaders a completed cycle elected as the block's leaders of `year`. The
        event's id is the cycle's (uuid5), so a retry — or a second worker — writes it once.
        False when the block has no record (a cycle started from a file whose block was not
        registered)."""
        state = await load_block(self._store, inp.block_stream)
        if not state.registered:
            return False
        await execute_block_command(
            self._store,
            inp.block_stream,
            SetLeaders(
                year=inp.year,
                head=inp.head,
                deputy=inp.deputy,
                source="election",
                cycle=inp.cycle_stream,
            ),
            Actor.system(),
            now=inp.at,
            request_id=f"rotation:{inp.cycle_stream}",
        )
        return True
