"""Auditors: a cycle replayed from the store, verified, every decision recomputed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from domain.audit import recheck
from domain.errors import DomainError
from domain.pending import pending_actions
from workflows.messages import cycle_key

from .deps import Caller, Cycle, Cycles, Svc

__all__ = ["router"]

router = APIRouter(tags=["audit"])


@router.get("/cycles/{block}/{year}/audit")
async def audit(
    cycle: Cycle, who: Caller, svc: Svc, cycles: Cycles,
    as_of: Annotated[datetime | None, Query(description="ISO 8601 with a time zone")] = None,
    to_version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Any:
    """Replay from the event store: the state as of a moment or version, the chain's
    verification, and every decision recomputed."""
    stream = cycle_key(cycle.block, cycle.year, cycles.prefix)[1]
    replay = await svc.store.replay(stream, to_version=to_version, as_of=as_of)
    if replay.report.events == 0:
        raise DomainError("unknown_cycle", f"no events for {cycle.block} {cycle.year}")
    return {
        "stream": stream,
        "events": replay.report.events,
        "head_hash": replay.report.head_hash.hex(),
        "problems": [str(p) for p in replay.report.problems],
        "findings": [str(f) for f in recheck(replay.events)],
        "state": replay.state.model_dump(mode="json"),
        "pending": pending_actions(replay.state),
    }
