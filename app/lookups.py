"""Reads that entry points share: a cycle's live state, answered with the rule code
`unknown_cycle` when there is no such cycle."""

from __future__ import annotations

from temporalio.service import RPCError, RPCStatusCode

from domain.errors import DomainError
from domain.state import CycleState

from .client import CycleClient

__all__ = ["cycle_state"]


async def cycle_state(cycles: CycleClient, block: str, year: int) -> CycleState:
    """The workflow's state (a query); `unknown_cycle` when there is no such workflow."""
    try:
        return await cycles.state(block, year)
    except RPCError as exc:
        if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            raise DomainError("unknown_cycle", f"no cycle of {block} for {year}") from None
        raise
