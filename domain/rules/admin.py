"""The secretariat's and the system's commands that belong to no one stage: start, extend a
deadline, cancel, and a deadline's expiry (DOMAIN.md, Stages 1 and 9; Deadlines)."""

from __future__ import annotations

from datetime import datetime

from .. import commands as c
from .. import events as ev
from ..errors import AuthorizationError, RuleError
from ..pending import pending_actions
from ..season import check_deadline
from ..stages import DEADLINE_STAGES, STAGES
from .context import Ctx, Handler, within
from .pledge import unsigned
from .scoring import unscored

__all__ = ["HANDLERS", "cancel_cycle", "expire_deadline", "extend_deadline", "start_cycle"]


def start_cycle(x: Ctx, cmd: c.StartCycle) -> list[ev.Event]:
    x.admin()
    if x.s.stage != "none":
        raise RuleError("cycle_exists", f"the cycle {x.s.cycle_id} already exists")
    last: datetime | None = None
    for stage in DEADLINE_STAGES:
        if stage in cmd.deadlines:
            if last is not None and cmd.deadlines[stage] <= last:
                raise RuleError(
                    "invalid_deadline",
                    "deadlines must follow the stage order",
                    f"deadlines.{stage}",
                )
            last = cmd.deadlines[stage]
    for stage in cmd.deadlines:
        if stage not in DEADLINE_STAGES:
            raise RuleError(
                "invalid_deadline", f"no stage {stage!r} takes a deadline", f"deadlines.{stage}"
            )
        check_deadline(cmd.year, cmd.deadlines[stage], f"deadlines.{stage}")
    for unit in cmd.leaving_after_year:
        if unit not in cmd.block.member_ids:
            raise RuleError(
                "not_a_member", f"{unit!r} is not a member of the block", "leaving_after_year"
            )
    for section in cmd.ruleset.area_floor:
        if section not in cmd.score_sheet.section_ids:
            raise RuleError(
                "invalid_ruleset",
                f"area_floor names unknown section {section!r}",
                f"ruleset.area_floor.{section}",
            )
    return [
        x.event(
            ev.CycleStarted,
            block=cmd.block,
            year=cmd.year,
            ruleset=cmd.ruleset,
            score_sheet=cmd.score_sheet,
            deadlines=cmd.deadlines,
            title=cmd.title,
            leaving_after_year=cmd.leaving_after_year,
        )
    ]


def extend_deadline(x: Ctx, cmd: c.ExtendDeadline) -> list[ev.Event]:
    x.admin()
    x.stage(*DEADLINE_STAGES)
    if cmd.stage not in DEADLINE_STAGES or STAGES.index(cmd.stage) < STAGES.index(x.s.stage):
        raise RuleError(
            "invalid_deadline", f"stage {cmd.stage!r} is over or takes no deadline", "stage"
        )
    assert x.s.ruleset is not None
    within(x.s, "extension", cmd.stage, limit=x.s.ruleset.max_extensions, field="stage")
    current = x.s.deadlines.get(cmd.stage)
    if current is not None and cmd.until <= current:
        raise RuleError(
            "invalid_deadline", f"the new deadline must be after {current.isoformat()}", "until"
        )
    if cmd.until <= x.now:
        raise RuleError("invalid_deadline", "the new deadline must be in the future", "until")
    assert x.s.year is not None
    check_deadline(x.s.year, cmd.until, "until")
    return [x.event(ev.DeadlineExtended, stage=cmd.stage, until=cmd.until, note=cmd.note)]


def cancel_cycle(x: Ctx, cmd: c.CancelCycle) -> list[ev.Event]:
    x.admin()
    x.stage(*DEADLINE_STAGES)
    return [x.event(ev.CycleCancelled, reason=cmd.reason, stage=x.s.stage)]


def expire_deadline(x: Ctx, cmd: c.ExpireDeadline) -> list[ev.Event]:
    if x.actor.kind != "system":
        raise AuthorizationError("deadlines are expired by the system's timers")
    x.stage(*(st for st in DEADLINE_STAGES if st == cmd.stage))
    deadline = x.s.deadlines.get(cmd.stage)
    if deadline is None or x.now < deadline:
        raise RuleError("deadline_not_reached", f"the {cmd.stage} deadline has not passed", "stage")
    if cmd.stage == "pledge":
        return [x.event(ev.PledgeClosed, reason="deadline", unsigned=unsigned(x.s))]
    if cmd.stage == "scoring":
        return [x.event(ev.ScoringClosed, reason="deadline", not_scored=unscored(x.s))]
    if cmd.stage in x.s.missed:
        raise RuleError(
            "deadline_not_reached", f"the {cmd.stage} deadline is already recorded", "stage"
        )
    pending = tuple(u for u in pending_actions(x.s) if u in x.s.members)
    return [x.event(ev.DeadlineMissed, stage=cmd.stage, deadline=deadline, pending=pending)]


HANDLERS: tuple[Handler, ...] = (start_cycle, extend_deadline, cancel_cycle, expire_deadline)
"""This stage's commands, in DOMAIN.md's order."""
