"""Blocks across the years, as plain async functions over the store and the Temporal client:
register, show, join, leave, rename, set leaders, start a block's cycle of a year, open a
province's year, read the compiled proposals. The CLI and the HTTP API call these.

Errors are DomainError with a rule code (the entry points map them to an exit code or a 4xx).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
from pydantic import TypeAdapter, ValidationError
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.block import execute_block_command, load_block
from activities.year import YearActivities, block_start, previous_cycle, workflow_running
from app.client import CycleClient
from domain.block import (
    JoinBlock,
    LeaveBlock,
    RegisterBlock,
    RenameBlock,
    SetLeaders,
    block_stream,
)
from domain.block_rules import parse_block
from domain.block_start import PreviousCycle, command_of
from domain.block_state import BlockState
from domain.commands import StartCycle
from domain.errors import AuthorizationError, DomainError, RuleError
from domain.province import (
    ProvinceProposals,
    province_slug,
    province_stream,
)
from domain.setup import Block, Ruleset, ScoreSheet, resolve_ruleset
from domain.values import Actor, UtcDatetime
from eventstore import EventStore
from readmodels.blocks import StoreBlockDirectory
from workflows.year import ProvinceYear
from workflows.year_messages import YearInput, YearProgress, YearResult, year_key

__all__ = [
    "BlockService",
    "load_deadlines",
    "load_ruleset",
    "load_score_sheet",
    "show_json",
    "year_activities",
]


def year_activities(store: EventStore, pool: asyncpg.Pool) -> list[Any]:
    """The province's year activities, for a worker (beside the cycle's)."""
    year = YearActivities(store, StoreBlockDirectory(pool))
    return [year.plan_year, year.cycle_stage, year.compile_proposals]


def show_json(state: BlockState) -> dict[str, Any]:
    """A block's record as JSON: members by period, leaders by year."""
    return {
        "id": state.block_id,
        "name": state.name,
        "province": state.province,
        "head": state.head,
        "deputy": state.deputy,
        "members": [m.model_dump() for m in state.memberships],
        "leaders": {
            str(y): {
                "head": e.head,
                "deputy": e.deputy,
                "source": e.source,
                "cycle": e.cycle,
                "reason": e.reason,
            }
            for y, e in sorted(state.leaders.items())
        },
        "version": state.version,
    }


class BlockService:
    """Blocks, their cycles and the provinces' years. `cycles` carries the Temporal client, the
    task queue and the prefix of ids and streams (tests keep theirs apart with it)."""

    def __init__(
        self, store: EventStore, pool: asyncpg.Pool, cycles: CycleClient | None = None
    ) -> None:
        self.store, self.pool, self._cycles = store, pool, cycles
        self.prefix = cycles.prefix if cycles is not None else ""

    @property
    def cycles(self) -> CycleClient:
        if self._cycles is None:
            raise RuntimeError("this command needs Temporal")
        return self._cycles

    def stream(self, block_id: str) -> str:
        return block_stream(block_id, self.prefix)

    async def _do(
        self, block_id: str, command: Any, actor: Actor | None, request_id: str | None
    ) -> BlockState:
        _, state = await execute_block_command(
            self.store,
            self.stream(block_id),
            command,
            actor or Actor.admin(),
            now=datetime.now(UTC),
            request_id=request_id,
        )
        return state

    # ---- the block's record -------------------------------------------------------------

    async def register(
        self, data: Any, actor: Actor | None = None, request_id: str | None = None
    ) -> BlockState:
        """Register a block from the scenario format's `block` object (or a whole scenario)."""
        block = data if isinstance(data, Block) else parse_block(data)
        return await self._do(block.id, RegisterBlock(block=block), actor, request_id)

    async def ensure_registered(self, block: Block, actor: Actor | None = None) -> bool:
        """Register `block` when its id is new (a cycle started from a scenario file); True when
        it was registered now."""
        try:
            await self.register(block, actor, request_id=f"register:{block.id}")
        except DomainError as err:
            if err.code == "block_exists":
                return False
            raise
        return True

    async def state(self, block_id: str) -> BlockState:
        state = await load_block(self.store, self.stream(block_id))
        if not state.registered:
            raise RuleError("unknown_block", f"no block {block_id!r}", "block")
        return state

    async def show(self, block_id: str) -> dict[str, Any]:
        return show_json(await self.state(block_id))

    async def join(
        self, block_id: str, unit: str, name: str, from_year: int, actor: Actor | None = None
    ) -> BlockState:
        cmd = command_of(JoinBlock, unit=unit, name=name, from_year=from_year)
        return await self._do(block_id, cmd, actor, None)

    async def leave(
        self, block_id: str, unit: str, after_year: int, actor: Actor | None = None
    ) -> BlockState:
        return await self._do(
            block_id, command_of(LeaveBlock, unit=unit, after_year=after_year), actor, None
        )

    async def rename(self, block_id: str, name: str, actor: Actor | None = None) -> BlockState:
        return await self._do(block_id, command_of(RenameBlock, name=name), actor, None)

    async def appoint_leaders(
        self,
        block_id: str,
        year: int,
        head: str,
        deputy: str,
        reason: str,
        actor: Actor | None = None,
    ) -> BlockState:
        """The secretariat appoints the leaders of `year` (an election failed, a leader left)."""
        cmd = command_of(
            SetLeaders, year=year, head=head, deputy=deputy, source="appointment", reason=reason
        )
        return await self._do(block_id, cmd, actor, None)

    async def blocks_of(self, province: str) -> list[str]:
        return await StoreBlockDirectory(self.pool).blocks_of(province, self.prefix)

    # ---- a block's cycle of a year ------------------------------------------------------

    async def previous_cycle(self, block_id: str, year: int) -> PreviousCycle | None:
        """The block's latest cycle before `year` (its stage "starting" while its workflow runs
        and has not yet written its start)."""
        return await previous_cycle(
            self.store, block_id, year, self.prefix, workflow_running(self.cycles.client)
        )

    async def start_command(
        self,
        block_id: str,
        year: int,
        *,
        ruleset: Ruleset | None = None,
        score_sheet: ScoreSheet | None = None,
        deadlines: dict[str, datetime] | None = None,
    ) -> StartCycle:
        """The start of the block's cycle of `year` (domain.block_start.plan_start): that year's
        members and leaders; ruleset and sheet default to the previous cycle's. Refused with
        `previous_cycle_open` while the previous cycle runs (its election names this year's
        leaders)."""
        return await block_start(
            self.store,
            block_id,
            year,
            self.prefix,
            workflow_running(self.cycles.client),
            ruleset=ruleset,
            score_sheet=score_sheet,
            deadlines=deadlines,
        )

    async def start_cycle(
        self,
        block_id: str,
        year: int,
        *,
        ruleset: Ruleset | None = None,
        score_sheet: ScoreSheet | None = None,
        deadlines: dict[str, datetime] | None = None,
        actor: Actor | None = None,
    ) -> WorkflowHandle[Any, Any]:
        start = await self.start_command(
            block_id, year, ruleset=ruleset, score_sheet=score_sheet, deadlines=deadlines
        )
        return await self.cycles.start(start, actor)

    # ---- a province's year ------------------------------------------------------------

    def year_id(self, province: str, year: int) -> str:
        return year_key(province_slug(province), year, self.prefix)

    async def open_year(
        self,
        province: str,
        year: int,
        *,
        ruleset: Ruleset,
        score_sheet: ScoreSheet,
        deadlines: dict[str, datetime] | None = None,
        poll_seconds: float = 3600.0,
        actor: Actor | None = None,
    ) -> tuple[WorkflowHandle[Any, YearResult], bool]:
        """Start the province's year; (handle, False) when it is already open (nothing new is
        started). Opening a closed year again starts only the cycles still missing."""
        if actor is not None and actor.kind != "admin":
            raise AuthorizationError("only the secretariat (admin) opens a province's year")
        inp = YearInput(
            province=province,
            year=year,
            ruleset=ruleset,
            score_sheet=score_sheet,
            deadlines=deadlines or {},
            prefix=self.prefix,
            poll_seconds=poll_seconds,
        )
        wid = self.year_id(province, year)
        try:
            handle: WorkflowHandle[Any, YearResult] = await self.cycles.client.start_workflow(  # type: ignore[call-overload]
                ProvinceYear.run,
                inp,
                id=wid,
                task_queue=self.cycles.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                result_type=YearResult,
            )
        except WorkflowAlreadyStartedError:
            return self.cycles.client.get_workflow_handle(wid, result_type=YearResult), False
        return handle, True

    async def year_progress(self, province: str, year: int) -> YearProgress:
        handle = self.cycles.client.get_workflow_handle(self.year_id(province, year))
        try:
            progress: YearProgress = await handle.query(  # type: ignore[call-overload]
                ProvinceYear.progress, result_type=YearProgress
            )
            return progress
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise RuleError("unknown_year", f"{province} has not opened {year}") from None
            raise

    async def proposals(self, province: str, year: int) -> ProvinceProposals | None:
        """The province's latest compiled list of proposals of `year`, if any."""
        stream = province_stream(province, year, self.prefix)
        data = await StoreBlockDirectory(self.pool).proposals(stream)
        return ProvinceProposals.model_validate(data) if data is not None else None

    async def proposals_document(self, province: str, year: int) -> str | None:
        from .documents.proposals import render_document  # the documents' libraries, lazily

        p = await self.proposals(province, year)
        return render_document(p) if p is not None else None


def _part(data: Any, key: str) -> Any:
    """A part of a file: the object itself, or the part `key` of a scenario file."""
    if isinstance(data, dict) and key in data and ("format" in data or "block" in data):
        return data[key]
    return data


def load_ruleset(data: Any) -> Ruleset:
    """`{"id": "default", …overrides}` (or a scenario file's ruleset) → the pinned ruleset."""
    part = _part(data, "ruleset")
    try:
        if not isinstance(part, dict):
            raise ValueError('invalid_ruleset: expected an object like {"id": "default"}')
        return resolve_ruleset(part)
    except (ValueError, TypeError, ValidationError) as exc:  # TypeError: `vote` not an object
        raise RuleError("invalid_ruleset", _message(exc), "ruleset") from None


def load_score_sheet(data: Any) -> ScoreSheet:
    """A score sheet object (or a scenario file's score_sheet)."""
    try:
        return ScoreSheet.model_validate(_part(data, "score_sheet"))
    except ValidationError as exc:
        raise RuleError("invalid_score_sheet", _message(exc), "score_sheet") from None


def load_deadlines(data: Any) -> dict[str, datetime]:
    """`{"pledge": "2019-03-31T17:00:00+07:00", …}` (or a scenario file's deadlines)."""
    part = _part(data, "deadlines")
    try:
        return _DEADLINES.validate_python(part)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(["deadlines", *(str(p) for p in err["loc"])])
        raise RuleError(
            "invalid_deadline", str(err["msg"]).removeprefix("Value error, "), field
        ) from None


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        text = str(err["msg"]).removeprefix("Value error, ")
        return f"{where}: {text}" if where else text
    if isinstance(exc, TypeError):  # Python's words about a part that is not an object
        return "a part of it is not an object"
    return str(exc).split(": ", 1)[-1]


_DEADLINES: TypeAdapter[dict[str, UtcDatetime]] = TypeAdapter(dict[str, UtcDatetime])
