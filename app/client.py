"""A thin client of the cycle workflow: start a cycle, send commands, read state.

Domain rejections come back as `DomainError` with the rule code; a duplicate start as
`cycle_exists`. An update that times out under load is retried with the same update id (the
request id), so it is never applied twice.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.commands import Command, StartCycle
from domain.decide import validate
from domain.errors import DomainError
from domain.state import CycleState
from domain.values import Actor
from workflows.cycle import EmulationCycle
from workflows.messages import CommandRequest, CommandResult, CycleInput, CycleResult, cycle_key

__all__ = ["CycleClient"]


def _domain_error(err: BaseException) -> DomainError | None:
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, ApplicationError) and cause.details:
            details = cause.details[0]
            if isinstance(details, dict) and details.get("code") == cause.type:
                return DomainError(cause.type, cause.message, details.get("field"))
        cause = cause.__cause__
    return None


class CycleClient:
    def __init__(self, client: Client, task_queue: str, *, prefix: str = "") -> None:
        self.client = client
        self.task_queue = task_queue
        self.prefix = prefix

    def handle(self, block_id: str, year: int) -> WorkflowHandle[Any, CycleResult]:
        wid, _ = cycle_key(block_id, year, self.prefix)
        return self.client.get_workflow_handle(wid, result_type=CycleResult)

    async def start(
        self, start: StartCycle, actor: Actor | None = None, *, request_id: str | None = None,
        enforce_past_deadlines: bool = False,
    ) -> WorkflowHandle[Any, CycleResult]:
        wid, stream = cycle_key(start.block.id, start.year, self.prefix)
        actor = actor or Actor.admin()
        # The rules judge the start before a workflow exists, so a refused start is answered
        # here and leaves nothing behind (the workflow judges it again, deterministically).
        validate(CycleState(), start, actor, now=datetime.now(UTC))
        inp = CycleInput(
            start=start, actor=actor, request_id=request_id or f"start:{wid}",
            stream=stream, enforce_past_deadlines=enforce_past_deadlines,
            block_stream=f"{self.prefix}block-{start.block.id}",
        )
        try:
            return await self.client.start_workflow(
                EmulationCycle.run, inp, id=wid, task_queue=self.task_queue,
                # one cycle per block and year, ever: its stream is already in the store
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                result_type=CycleResult,
            )
        except WorkflowAlreadyStartedError:
            raise DomainError(
                "cycle_exists", f"the cycle of {start.block.id} for {start.year} already exists"
            ) from None

    async def send(
        self, block_id: str, year: int, command: Command, actor: Actor, *,
        request_id: str | None = None, attempts: int = 5,
    ) -> CommandResult:
        """Send one command as its named update; raise DomainError when it is rejected."""
        req = CommandRequest(command=command, actor=actor, request_id=request_id or str(uuid.uuid4()))
        handle = self.handle(block_id, year)
        for attempt in range(attempts):
            try:
                return await handle.execute_update(
                    command.do, req, id=req.request_id, result_type=CommandResult
                )
            except WorkflowUpdateFailedError as err:
                domain = _domain_error(err)
                if domain is not None:
                    raise domain from None
                raise
            except RPCError as err:
                if err.status == RPCStatusCode.NOT_FOUND:
                    raise await self._closed_or_unknown(block_id, year) from None
                # The worker that last ran the cycle died (its sticky queue has no poller): the
                # server refuses the update once; the same update id again goes to a live one.
                if err.status != RPCStatusCode.FAILED_PRECONDITION or attempt == attempts - 1:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))
            except WorkflowUpdateRPCTimeoutOrCancelledError:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _closed_or_unknown(self, block_id: str, year: int) -> DomainError:
        try:
            desc = await self.handle(block_id, year).describe()
        except RPCError:
            return DomainError("unknown_cycle", f"no cycle of {block_id} for {year}")
        status = desc.status.name.lower() if desc.status else "closed"
        return DomainError("wrong_stage", f"the cycle is closed ({status}); it accepts no command")

    async def state(self, block_id: str, year: int) -> CycleState:
        return await self.handle(block_id, year).query(EmulationCycle.state, result_type=CycleState)

    async def pending(self, block_id: str, year: int) -> dict[str, list[str]]:
        return await self.handle(block_id, year).query(EmulationCycle.pending)
