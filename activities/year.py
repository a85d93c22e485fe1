"""The province's year: plan the cycles of its blocks, check a cycle's stage, compile the list
of proposals. The plan reads the blocks' streams; the compilation replays the cycles' streams and
appends one event to the province's stream (its id from the workflow run: written once)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from temporalio import activity

from domain.codec import EventRecord
from domain.commands import StartCycle
from domain.decide import validate
from domain.errors import DomainError
from domain.province import ProposalsCompiled, ProvinceProposals, compile_proposals
from domain.state import CycleState
from domain.values import Actor
from workflows.messages import cycle_key
from workflows.year_messages import (
    CompileInput,
    CycleStatusInput,
    PlanInput,
    PlannedCycle,
    YearPlan,
)

from .block import BlockStore, load_block

__all__ = ["BlockDirectory", "YearActivities", "YearStore"]


class YearStore(BlockStore, Protocol):
    async def replay(self, stream: str) -> Any: ...
    async def head(self, stream: str) -> int: ...


class BlockDirectory(Protocol):
    async def blocks_of(self, province: str, prefix: str) -> list[str]:
        """Ids of the registered blocks of a province."""
        ...


class YearActivities:
    def __init__(self, store: YearStore, directory: BlockDirectory) -> None:
        self._store = store
        self._directory = directory

    @activity.defn(name="plan_year")
    async def plan_year(self, inp: PlanInput) -> YearPlan:
        """One planned cycle per block of the province: its start (that year's members and
        leaders), or the rule that stops it."""
        out = []
        for block_id in await self._directory.blocks_of(inp.province, inp.prefix):
            wid, stream = cycle_key(block_id, inp.year, inp.prefix)
            block_stream = f"{inp.prefix}block-{block_id}"
            state = await load_block(self._store, block_stream)
            try:
                start = StartCycle(
                    block=state.block_for(inp.year), year=inp.year, ruleset=inp.ruleset,
                    score_sheet=inp.score_sheet, deadlines=inp.deadlines,
                    leaving_after_year=state.leaving_after(inp.year),
                )
                validate(CycleState(), start, Actor.admin(), now=datetime.now(UTC))
            except DomainError as err:
                out.append(PlannedCycle(block_id=block_id, workflow_id=wid, stream=stream,
                                        block_stream=block_stream, error=err.as_dict()))
                continue
            out.append(PlannedCycle(block_id=block_id, workflow_id=wid, stream=stream,
                                    block_stream=block_stream, start=start))
        return YearPlan(cycles=out)

    @activity.defn(name="cycle_stage")
    async def cycle_stage(self, inp: CycleStatusInput) -> str:
        """The stage of a cycle as its stream records it ("none" before its start)."""
        replay = await self._store.replay(inp.stream)
        return str(replay.state.stage)

    @activity.defn(name="compile_proposals")
    async def compile_proposals(self, inp: CompileInput) -> ProvinceProposals:
        states: list[CycleState] = []
        for stream in inp.cycle_streams:
            states.append((await self._store.replay(stream)).state)
        proposals = compile_proposals(inp.province, inp.year, states)
        event = ProposalsCompiled(
            event_id=UUID(inp.event_id), at=inp.at, actor=Actor.system(),
            request_id=f"compile:{inp.stream}", proposals=proposals,
        )
        record = EventRecord(
            event_id=event.event_id, type=event.type, data=event.payload(),
            actor=event.actor.model_dump(mode="json"), effective_at=event.at,
            request_id=event.request_id,
        )
        # idempotent by the event id: a retry finds its own event, whatever the head is now
        await self._store.append(inp.stream, await self._store.head(inp.stream), [record])
        return proposals
