"""Discipline check: findings recorded and withdrawn, then eligibility decided (DOMAIN.md,
Stages 5; the reasons themselves are computed by domain.eligibility)."""

from __future__ import annotations

from .. import commands as c
from .. import events as ev
from ..errors import RuleError
from ..state import CycleState
from .context import Ctx, Handler, current_exclusions, known, within

__all__ = [
    "HANDLERS",
    "close_discipline_check",
    "has_finding",
    "record_finding",
    "withdraw_finding",
]


def has_finding(s: CycleState, unit: str, kind: str) -> bool:
    return any((f.unit, f.kind) == (unit, kind) for f in s.findings)


def _bounded(x: Ctx, unit: str, kind: str) -> None:
    assert x.s.ruleset is not None
    within(x.s, "finding", unit, kind, limit=x.s.ruleset.max_finding_changes, field="kind")


def record_finding(x: Ctx, cmd: c.RecordFinding) -> list[ev.Event]:
    x.chair(or_admin=True)
    x.stage("discipline")
    known(x.s, cmd.unit, "unit")
    if has_finding(x.s, cmd.unit, cmd.kind):
        raise RuleError("finding_exists", f"{cmd.unit} already has a {cmd.kind} finding", "kind")
    _bounded(x, cmd.unit, cmd.kind)
    return [
        x.event(
            ev.FindingRecorded, unit=cmd.unit, kind=cmd.kind, reference=cmd.reference, note=cmd.note
        )
    ]


def withdraw_finding(x: Ctx, cmd: c.WithdrawFinding) -> list[ev.Event]:
    x.chair(or_admin=True)
    x.stage("discipline")
    if not has_finding(x.s, cmd.unit, cmd.kind):
        raise RuleError("unknown_finding", f"{cmd.unit} has no {cmd.kind} finding", "kind")
    _bounded(x, cmd.unit, cmd.kind)
    return [x.event(ev.FindingWithdrawn, unit=cmd.unit, kind=cmd.kind, note=cmd.note)]


def close_discipline_check(x: Ctx, cmd: c.CloseDisciplineCheck) -> list[ev.Event]:
    x.chair()
    x.stage("discipline")
    excluded = current_exclusions(x.s)
    eligible = tuple(u for u in x.s.members if u not in excluded)
    return [x.event(ev.DisciplineCheckClosed, eligible=eligible, excluded=excluded)]


HANDLERS: tuple[Handler, ...] = (record_finding, withdraw_finding, close_discipline_check)
"""This stage's commands, in DOMAIN.md's order."""
