"""Pledge (giao ước thi đua): each member signs once; the stage ends when all have signed, when
the head closes it, or at the pledge deadline (DOMAIN.md, Stages 2)."""

from __future__ import annotations

from .. import commands as c
from .. import events as ev
from ..errors import RuleError
from ..state import CycleState
from .context import Ctx, Handler

__all__ = ["HANDLERS", "close_pledge", "sign_pledge", "unsigned"]


def unsigned(s: CycleState) -> tuple[str, ...]:
    return tuple(u for u in s.members if u not in s.signed)


def sign_pledge(x: Ctx, cmd: c.SignPledge) -> list[ev.Event]:
    x.unit(cmd.unit)
    x.stage("pledge")
    if cmd.unit in x.s.signed:
        raise RuleError("already_signed", f"{cmd.unit} has already signed the pledge", "unit")
    out: list[ev.Event] = [x.event(ev.PledgeSigned, unit=cmd.unit)]
    if len(x.s.signed) + 1 == len(x.s.members):
        out.append(x.automatic(ev.PledgeClosed, reason="all_signed", unsigned=()))
    return out


def close_pledge(x: Ctx, cmd: c.ClosePledge) -> list[ev.Event]:
    x.chair()
    x.stage("pledge")
    return [
        x.event(ev.PledgeClosed, reason="closed_by_head", unsigned=unsigned(x.s), note=cmd.note)
    ]


HANDLERS: tuple[Handler, ...] = (sign_pledge, close_pledge)
"""This stage's commands, in DOMAIN.md's order."""
