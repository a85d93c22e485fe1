"""The province's year: plan the cycles of its blocks, check a cycle's stage, compile the list
of proposals. The plan reads the blocks' streams; the compilation replays the cycles' streams and
appends one event to the province's stream (its id from the workflow run: written once)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol
from uuid import UUID

from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from domain.block_start import LOOKBACK_YEARS, PreviousCycle, plan_start
from domain.commands import StartCycle
from domain.decide import validate
from domain.errors import DomainError
from domain.province import ProposalsCompiled, ProvinceProposals, compile_proposals
from domain.setup import Ruleset, ScoreSheet
from domain.state import CycleState
from domain.values import Actor
from eventstore.execute import execute
from workflows.messages import cycle_key
from workflows.names import COMPILE_PROPOSALS, CYCLE_STAGE, PLAN_YEAR
from workflows.year_messages import (
    CompileInput,
    CycleStatusInput,
    PlanInput,
    PlannedCycle,
    YearPlan,
)

from .block import BlockStore, load_block

__all__ = [
    "BlockDirectory",
    "Running",
    "YearActivities",
    "YearStore",
    "block_start",
    "previous_cycle",
    "workflow_running",
]


class YearStore(BlockStore, Protocol):
    async def replay(self, stream: str) -> Any: ...
    async def head(self, stream: str) -> int: ...


class BlockDirectory(Protocol):
    async def blocks_of(self, province: str, prefix: str) -> list[str]:
        """Ids of the registered blocks of a province."""
        ...


Running = Callable[[str], Awaitable[bool]]
"""Whether the workflow of an id runs now."""


async def previous_cycle(
    store: YearStore, block_id: str, year: int, prefix: str, running: Running
) -> PreviousCycle | None:
    """The block's latest cycle before `year`, from its stream — or, while its workflow runs
    and has not yet written its start, from Temporal ("starting")."""
    for y in range(year - 1, year - 1 - LOOKBACK_YEARS, -1):
        wid, stream = cycle_key(block_id, y, prefix)
        if await store.head(stream):
            state = (await store.replay(stream)).state
            return PreviousCycle(
                year=y, stage=str(state.stage), ruleset=state.ruleset, score_sheet=state.score_sheet
            )
        if await running(wid):
            return PreviousCycle(year=y, stage="starting")
    return None


async def block_start(
    store: YearStore,
    block_id: str,
    year: int,
    prefix: str,
    running: Running,
    *,
    ruleset: Ruleset | None = None,
    score_sheet: ScoreSheet | None = None,
    deadlines: dict[str, datetime] | None = None,
) -> StartCycle:
    """The start of a block's cycle of `year`, the one way for the single block (app/blocks.py)
    and the province's year (plan_year): the block's record and its previous cycle loaded, then
    domain.block_start.plan_start decides (`previous_cycle_open`, `no_members`, …)."""
    state = await load_block(store, f"{prefix}block-{block_id}")
    before = await previous_cycle(store, block_id, year, prefix, running)
    return plan_start(
        state, year, before, ruleset=ruleset, score_sheet=score_sheet, deadlines=deadlines
    )


def workflow_running(client: Any) -> Running:
    """`Running` over a Temporal client."""

    async def running(workflow_id: str) -> bool:
        try:
            desc = await client.get_workflow_handle(workflow_id).describe()
        except RPCError:
            return False
        return bool(desc.status == WorkflowExecutionStatus.RUNNING)

    return running


class YearActivities:
    def __init__(
        self, store: YearStore, directory: BlockDirectory, running: Running | None = None
    ) -> None:
        self._store = store
        self._directory = directory
        self._running = running

    def _is_running(self) -> Running:
        """The given `Running`, else one over the client of the worker running the activity."""
        return self._running or workflow_running(activity.client())

    @activity.defn(name=PLAN_YEAR)
    async def plan_year(self, inp: PlanInput) -> YearPlan:
        """One planned cycle per block of the province: its start (that year's members and
        leaders, domain.block_start.plan_start as for a single block), or the rule that stops
        it — `previous_cycle_open` while the block's previous cycle still elects."""
        out = []
        running = self._is_running()
        for block_id in await self._directory.blocks_of(inp.province, inp.prefix):
            wid, stream = cycle_key(block_id, inp.year, inp.prefix)
            planned = partial(
                PlannedCycle,
                block_id=block_id,
                workflow_id=wid,
                stream=stream,
                block_stream=f"{inp.prefix}block-{block_id}",
            )
            try:
                start = await block_start(
                    self._store,
                    block_id,
                    inp.year,
                    inp.prefix,
                    running,
                    ruleset=inp.ruleset,
                    score_sheet=inp.score_sheet,
                    deadlines=inp.deadlines,
                )
                validate(CycleState(), start, Actor.admin(), now=datetime.now(UTC))
            except DomainError as err:
                out.append(planned(error=err.as_dict()))
                continue
            out.append(planned(start=start))
        return YearPlan(cycles=out)

    @activity.defn(name=CYCLE_STAGE)
    async def cycle_stage(self, inp: CycleStatusInput) -> str:
        """The stage of a cycle as its stream records it ("none" before its start)."""
        replay = await self._store.replay(inp.stream)
        return str(replay.state.stage)

    @activity.defn(name=COMPILE_PROPOSALS)
    async def compile_proposals(self, inp: CompileInput) -> ProvinceProposals:
        states: list[CycleState] = []
        for stream in inp.cycle_streams:
            states.append((await self._store.replay(stream)).state)
        proposals = compile_proposals(inp.province, inp.year, states)
        event = ProposalsCompiled(
            event_id=UUID(inp.event_id),
            at=inp.at,
            actor=Actor.system(),
            request_id=f"compile:{inp.stream}",
            proposals=proposals,
        )
        # idempotent by the event id: a retry finds its own event, whatever the head is now
        await execute(self._store, inp.stream, lambda rows: None, lambda _: [event])
        return proposals
