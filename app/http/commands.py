"""Commands: administrators start cycles; approvers send one step at a time."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from typing import Annotated, Any, Union, get_args

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from domain import commands as c
from domain.commands import StartCycle
from workflows.messages import CommandResult

from ..evidence import check_attached
from ..health import Health, Unavailable
from .deps import Caller, Cycle, Cycles, IdempotencyKey

__all__ = ["router"]

router = APIRouter(tags=["commands"])

_NOT_STEPS = ("start_cycle", "expire_deadline")
_STEPS = tuple(
    cls
    for cls in get_args(get_args(c.Command)[0])
    if cls.model_fields["do"].default not in _NOT_STEPS
)
Step = Annotated[Union[_STEPS], Field(discriminator="do")]  # type: ignore[valid-type]  # noqa: UP007
"""Every command a person sends at /commands: not the start (POST /cycles), not a deadline."""


async def bounded(
    request: Request, call: Awaitable[Any], *, where: str, request_id: str | None
) -> Any:
    """Run a command once PostgreSQL answers and a worker polls (else 503 with the code at
    once), for at most COMMAND_TIMEOUT seconds: then 503 `no_worker` when no worker is left,
    or 202 naming where to look (the command may still be applied; sending it again with the
    same Idempotency-Key answers the first result)."""
    health: Health = request.app.state.health
    timeout = request.app.state.services.settings.command_timeout
    try:
        await health.gate("store", "worker")
    except Unavailable:
        if asyncio.iscoroutine(call):
            call.close()
        raise
    try:
        async with asyncio.timeout(timeout) as limit:
            return await call
    except TimeoutError:
        if not limit.expired():
            raise
    health.forget()
    check = await health.worker()
    if not check.ok:
        raise Unavailable(
            check.code or "no_worker",
            "no worker answered the command in "
            f"{timeout:g} s; send it again with the same Idempotency-Key",
        )
    return JSONResponse(
        {
            "code": "accepted",
            "field": None,
            "request_id": request_id,
            "location": where,
            "message": f"the command was not answered in {timeout:g} s and may still be applied: "
            f"see {where}, or send it again with Idempotency-Key: {request_id}",
        },
        status_code=202,
        headers={"Location": where},
    )


@router.post("/cycles", status_code=201, response_model=dict[str, str])
async def start_cycle(request: Request, body: StartCycle, who: Caller, cycles: Cycles) -> Any:
    """Administrators start a block's yearly cycle."""
    where = f"/cycles/{body.block.id}/{body.year}/state"

    async def start() -> dict[str, str]:
        handle = await cycles.start(body, who)
        return {"workflow_id": handle.id, "cycle_id": f"{body.block.id}/{body.year}"}

    return await bounded(request, start(), where=where, request_id=None)


@router.post("/cycles/{block}/{year}/commands", response_model=CommandResult)
async def send_command(
    request: Request,
    cycle: Cycle,
    body: Annotated[Step, Body()],
    who: Caller,
    cycles: Cycles,
    key: IdempotencyKey,
) -> Any:
    """One step of a cycle, judged by the rules. Repeat it with the same Idempotency-Key to get
    the first answer again (`duplicate: true`); the same key with another command or caller is
    refused (`idempotency_key_reused`)."""
    request_id = key or str(uuid.uuid4())
    await asyncio.to_thread(check_attached, request.app.state.services.evidence, body)
    return await bounded(
        request,
        cycles.send(cycle.block, cycle.year, body, who, request_id=request_id),
        where=f"/cycles/{cycle.block}/{cycle.year}/state",
        request_id=request_id,
    )
