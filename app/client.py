"""A thin client of the cycle workflow: start a cycle, send commands, read state.

Domain rejections come back as `DomainError` with the rule code; a duplicate start as
`cycle_exists`; a request id used before for another command or by another caller as
`idempotency_key_reused`.

A command is one update addressed to the workflow id (never a run id: a cycle continues as new
and callers do not notice). Each `send` uses one update id for all its attempts, so a retry is
never applied twice, and the workflow answers a repeated request id with the first answer
(`duplicate: true`). At most `in_flight` updates per cycle leave this process at once (Temporal
allows ~10 in flight per workflow); what the server refuses as busy (RESOURCE_EXHAUSTED, an
update RPC timeout, a run handing over to the next) is retried with backoff and jitter for
`busy_timeout` seconds, then `CycleBusy` is raised (HTTP: 429 with Retry-After).
"""

from __future__ import annotations

import asyncio
import random
import uuid
import weakref
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.commands import Command, StartCycle
from domain.decide import refusal, validate
from domain.errors import DomainError
from domain.state import CycleState
from domain.values import Actor
from workflows.cycle import EmulationCycle
from workflows.messages import (
    DEFAULT_UPDATES_PER_RUN,
    CommandRequest,
    CommandResult,
    CycleInput,
    CycleResult,
    cycle_key,
)
from workflows.names import CONTINUING
from workflows.search import SEARCH_ATTRIBUTE_KEYS

__all__ = ["BUSY_TIMEOUT", "IN_FLIGHT", "CycleBusy", "CycleClient"]

IN_FLIGHT = 8
"""Updates one process sends to one cycle at once (below the server's ~10 per workflow)."""
FINAL_STATES = 64
"""Ended cycles whose last state one client keeps (to judge commands sent to them)."""
FINAL_STATE_TIMEOUT = timedelta(seconds=5)
"""How long a refusal waits for a worker to answer an ended cycle's last state (else the
answer is `wrong_stage`, as before)."""
BUSY_TIMEOUT = 10.0
"""Seconds a command may wait for a busy cycle (queue and retries) before CycleBusy."""

# RESOURCE_EXHAUSTED: too many updates in flight; UNAVAILABLE: "workflow update was aborted"
# (the server dropped updates it had admitted, e.g. past its limit); DEADLINE_EXCEEDED: slow.
_BUSY_STATUSES = (
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
)


class CycleBusy(Exception):
    """The cycle stayed too busy to take the command within the client's bound; nothing was
    applied unless a retry with the same request id says so (duplicate: true)."""

    def __init__(self, retry_after_seconds: float, message: str | None = None) -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__(message or f"the cycle is busy; retry after {retry_after_seconds:g} s")


def _domain_error(err: BaseException) -> DomainError | None:
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, ApplicationError) and cause.details:
            details = cause.details[0]
            if isinstance(details, dict) and cause.type and details.get("code") == cause.type:
                return DomainError(cause.type, cause.message, details.get("field"))
        cause = cause.__cause__
    return None


def _failure_type(err: BaseException) -> str | None:
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, ApplicationError):
            return cause.type
        cause = cause.__cause__
    return None


class CycleClient:
    def __init__(
        self,
        client: Client,
        task_queue: str,
        *,
        prefix: str = "",
        in_flight: int = IN_FLIGHT,
        busy_timeout: float = BUSY_TIMEOUT,
        search_attributes: bool | None = None,
    ) -> None:
        """`search_attributes`: whether cycles upsert ThiduaBlock/Year/Stage/Province; None
        asks the server once whether they are registered."""
        self.client = client
        self.task_queue = task_queue
        self.prefix = prefix
        self.in_flight = in_flight
        self.busy_timeout = busy_timeout
        self.search_attributes = search_attributes
        self._gates: weakref.WeakValueDictionary[str, asyncio.Semaphore] = (
            weakref.WeakValueDictionary()
        )
        self._final: OrderedDict[str, CycleState] = OrderedDict()
        """The last state of ended cycles (it never changes), the most recent FINAL_STATES."""

    def handle(self, block_id: str, year: int) -> WorkflowHandle[Any, CycleResult]:
        wid, _ = cycle_key(block_id, year, self.prefix)
        return self.client.get_workflow_handle(wid, result_type=CycleResult)

    async def start(
        self,
        start: StartCycle,
        actor: Actor | None = None,
        *,
        request_id: str | None = None,
        enforce_past_deadlines: bool = False,
        updates_per_run: int = DEFAULT_UPDATES_PER_RUN,
    ) -> WorkflowHandle[Any, CycleResult]:
        wid, stream = cycle_key(start.block.id, start.year, self.prefix)
        actor = actor or Actor.admin()
        # The rules judge the start before a workflow exists, so a refused start is answered
        # here and leaves nothing behind (the workflow judges it again, deterministically).
        validate(CycleState(), start, actor, now=datetime.now(UTC))
        inp = CycleInput(
            start=start,
            actor=actor,
            request_id=request_id or f"start:{wid}",
            stream=stream,
            enforce_past_deadlines=enforce_past_deadlines,
            updates_per_run=updates_per_run,
            search_attributes=await self._search_attributes_registered(),
            block_stream=f"{self.prefix}block-{start.block.id}",
        )
        try:
            handle: WorkflowHandle[Any, CycleResult] = await self.client.start_workflow(  # type: ignore[call-overload]
                EmulationCycle.run,
                inp,
                id=wid,
                task_queue=self.task_queue,
                # one cycle per block and year, ever: its stream is already in the store
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                result_type=CycleResult,
            )
            return handle
        except WorkflowAlreadyStartedError:
            raise DomainError(
                "cycle_exists", f"the cycle of {start.block.id} for {start.year} already exists"
            ) from None

    async def _search_attributes_registered(self) -> bool:
        if self.search_attributes is None:
            try:
                resp = await self.client.operator_service.list_search_attributes(
                    ListSearchAttributesRequest(namespace=self.client.namespace)
                )
            except RPCError:  # e.g. a server without the operator service
                self.search_attributes = False
            else:
                known = set(resp.custom_attributes)
                self.search_attributes = all(k.name in known for k in SEARCH_ATTRIBUTE_KEYS)
        return self.search_attributes

    async def send(
        self,
        block_id: str,
        year: int,
        command: Command,
        actor: Actor,
        *,
        request_id: str | None = None,
    ) -> CommandResult:
        """Send one command as its named update; raise DomainError when it is rejected and
        CycleBusy when the cycle stays too busy."""
        req = CommandRequest(
            command=command, actor=actor, request_id=request_id or str(uuid.uuid4())
        )
        wid, _ = cycle_key(block_id, year, self.prefix)
        gate = self._gates.get(wid)
        if gate is None:
            gate = self._gates[wid] = asyncio.Semaphore(self.in_flight)
        loop = asyncio.get_running_loop()
        until = loop.time() + self.busy_timeout
        try:
            async with asyncio.timeout_at(until):
                await gate.acquire()
        except TimeoutError:
            raise CycleBusy(self._retry_after()) from None
        try:
            return await self._send(block_id, year, req, until)
        finally:
            gate.release()

    def _retry_after(self) -> float:
        return round(1.0 + random.random(), 1)

    async def _send(
        self, block_id: str, year: int, req: CommandRequest, until: float
    ) -> CommandResult:
        handle = self.handle(block_id, year)
        update_id = f"{req.request_id}/{uuid.uuid4().hex[:12]}"  # one per send, all attempts
        loop = asyncio.get_running_loop()
        delay = 0.05
        while True:
            busy = True
            try:
                result: CommandResult = await handle.execute_update(
                    req.command.do, req, id=update_id, result_type=CommandResult
                )
                return result
            except WorkflowUpdateFailedError as err:
                domain = _domain_error(err)
                if domain is not None:
                    raise domain from None
                if _failure_type(err) != CONTINUING:  # the run hands over: send it again
                    raise
                last: BaseException = err
            except RPCError as err:
                last = err
                if err.status == RPCStatusCode.NOT_FOUND:
                    # No running workflow: closed or unknown, unless a new run just took over.
                    closed = await self._closed_or_unknown(block_id, year, req)
                    if closed is not None:
                        raise closed from None
                elif err.status == RPCStatusCode.FAILED_PRECONDITION:
                    # The worker that last ran the cycle died (its sticky queue has no poller):
                    # the server refuses the update once; the same update id goes to a live one.
                    busy = False
                elif err.status not in _BUSY_STATUSES:
                    raise
            except WorkflowUpdateRPCTimeoutOrCancelledError as err:
                if isinstance(err.__cause__, asyncio.CancelledError):
                    # not the server: our caller gave up (a request's bound, a shutdown); the
                    # SDK turned the cancellation into this error, turn it back
                    raise asyncio.CancelledError() from err
                last = err
            left = until - loop.time()
            if left <= 0:
                if busy:
                    raise CycleBusy(self._retry_after()) from last
                raise last
            await asyncio.sleep(min(left, delay * random.uniform(0.5, 1.5)))
            delay = min(delay * 2, 1.0)

    async def _closed_or_unknown(
        self, block_id: str, year: int, req: CommandRequest | None = None
    ) -> DomainError | None:
        """The error for a cycle that takes no command, or None when it is running. As the
        workflow would judge it (DOMAIN.md): a caller who may never give the command hears
        `not_authorized` from the cycle's last state, the others `wrong_stage`."""
        handle = self.handle(block_id, year)
        try:
            desc = await handle.describe()
        except RPCError:
            return DomainError("unknown_cycle", f"no cycle of {block_id} for {year}")
        if desc.status == WorkflowExecutionStatus.RUNNING:
            return None
        status = desc.status.name.lower() if desc.status else "closed"
        closed = DomainError(
            "wrong_stage", f"the cycle is closed ({status}); it accepts no command"
        )
        if req is None:
            return closed
        state = await self._final_state(handle)
        if state is not None:
            err = refusal(state, req.command, req.actor, now=datetime.now(UTC))
            if err is not None and err.code == "not_authorized":
                return err
        return closed

    async def _final_state(self, handle: WorkflowHandle[Any, CycleResult]) -> CycleState | None:
        """An ended cycle's last state (its query, answered by a worker from the history), or
        None when no worker can answer now."""
        state = self._final.get(handle.id)
        if state is None:
            try:
                state = await handle.query(  # type: ignore[call-overload]
                    EmulationCycle.state, result_type=CycleState, rpc_timeout=FINAL_STATE_TIMEOUT
                )
            except (RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError):
                return None
            self._final[handle.id] = state
            while len(self._final) > FINAL_STATES:
                self._final.popitem(last=False)
        self._final.move_to_end(handle.id)
        return state

    async def state(self, block_id: str, year: int) -> CycleState:
        state: CycleState = await self.handle(block_id, year).query(  # type: ignore[call-overload]
            EmulationCycle.state, result_type=CycleState
        )
        return state

    async def pending(self, block_id: str, year: int) -> dict[str, list[str]]:
        return await self.handle(block_id, year).query(EmulationCycle.pending)
