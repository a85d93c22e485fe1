"""Reads: the list of cycles (read model), a cycle's live state and who still has to act."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from domain.pending import pending_actions
from domain.stages import STAGES
from domain.views import state_for
from readmodels.cycles import list_cycles

from ..client import CycleClient
from ..health import Health, Unavailable
from ..lookups import cycle_state
from .deps import Caller, Cycle, Cycles, Svc

__all__ = ["router"]

router = APIRouter(tags=["reads"])


@router.get("/cycles")
async def cycles_list(
    svc: Svc,
    who: Caller,
    cycles: Cycles,
    year: Annotated[int | None, Query(ge=1945, le=2200)] = None,
    stage: Annotated[Literal[STAGES] | None, Query()] = None,  # type: ignore[valid-type]
    block: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")] = None,
) -> list[dict[str, Any]]:
    """Cycles from the read model, newest year first."""
    rows = await list_cycles(svc.pool, year=year, stage=stage, block=block, prefix=cycles.prefix)
    return [r.as_json() for r in rows]


async def live_state(request: Request, cycles: CycleClient, block: str, year: int) -> Any:
    """The workflow's state (a query, answered by a worker): 503 `no_worker` at once when no
    worker polls, and when none answers within COMMAND_TIMEOUT."""
    health: Health = request.app.state.health
    await health.gate("worker")
    timeout = request.app.state.services.settings.command_timeout
    try:
        async with asyncio.timeout(timeout) as limit:
            return await cycle_state(cycles, block, year)
    except TimeoutError:
        if not limit.expired():
            raise
        raise Unavailable("no_worker", f"no worker answered within {timeout:g} s") from None


@router.get("/cycles/{block}/{year}/state")
async def state(request: Request, cycle: Cycle, who: Caller, cycles: Cycles) -> Any:
    """The live state. While a round is open it shows who has voted, not how."""
    s = await live_state(request, cycles, cycle.block, cycle.year)
    # ballots stay private while a round is open, and nobody reads others' request ids;
    # auditors see everything
    return state_for(s, auditor=who.kind == "auditor")


@router.get("/cycles/{block}/{year}/pending")
async def pending(request: Request, cycle: Cycle, who: Caller, cycles: Cycles) -> Any:
    """Who still has to act in the current stage."""
    return pending_actions(await live_state(request, cycles, cycle.block, cycle.year))
