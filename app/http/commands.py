"""Commands: administrators start cycles; approvers send one step at a time."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Union, get_args

from fastapi import APIRouter, Body
from pydantic import Field

from domain import commands as c
from domain.commands import StartCycle
from workflows.messages import CommandResult

from .deps import Caller, Cycle, Cycles, IdempotencyKey

__all__ = ["router"]

router = APIRouter(tags=["commands"])

_NOT_STEPS = ("start_cycle", "expire_deadline")
_STEPS = tuple(
    cls for cls in get_args(get_args(c.Command)[0])
    if cls.model_fields["do"].default not in _NOT_STEPS
)
Step = Annotated[Union[_STEPS], Field(discriminator="do")]  # type: ignore[valid-type]  # noqa: UP007
"""Every command a person sends at /commands: not the start (POST /cycles), not a deadline."""


@router.post("/cycles", status_code=201)
async def start_cycle(body: StartCycle, who: Caller, cycles: Cycles) -> dict[str, str]:
    """Administrators start a block's yearly cycle."""
    handle = await cycles.start(body, who)
    return {"workflow_id": handle.id, "cycle_id": f"{body.block.id}/{body.year}"}


@router.post("/cycles/{block}/{year}/commands")
async def send_command(
    cycle: Cycle, body: Annotated[Step, Body()], who: Caller, cycles: Cycles,
    key: IdempotencyKey,
) -> CommandResult:
    """One step of a cycle, judged by the rules. Repeat it with the same Idempotency-Key to get
    the first answer again (`duplicate: true`); the same key with another command or caller is
    refused (`idempotency_key_reused`)."""
    result: Any = await cycles.send(
        cycle.block, cycle.year, body, who, request_id=key or str(uuid.uuid4())
    )
    return result  # type: ignore[no-any-return]
