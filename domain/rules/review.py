"""Review conference: attendance, quorum, the adopted scores (DOMAIN.md, Stages 4), and their
correction before the vote opens (DOMAIN.md, Corrections)."""

from __future__ import annotations

import math

from .. import commands as c
from .. import events as ev
from ..errors import AuthorizationError, RuleError, StageError
from ..fold import fold
from ..state import CycleState
from .context import Ctx, Handler, current_exclusions, known, total, within
from .scoring import check_sections

__all__ = ["HANDLERS", "adopted_scores", "correct_score", "hold_review", "quorum"]


def quorum(s: CycleState) -> int:
    """⌈quorum × members⌉: how many members must be present."""
    assert s.ruleset is not None
    return math.ceil(s.ruleset.quorum * len(s.members))


def adopted_scores(s: CycleState) -> dict[str, ev.AdoptedScore]:
    """The verified score where there is one, else the self-score; total = sum of sections."""
    adopted = {}
    for u in s.members:
        if u in s.verified:
            secs = s.verified[u]
            adopted[u] = ev.AdoptedScore(sections=secs, total=total(secs), source="verified")
        elif u in s.self_scores:
            secs = s.self_scores[u]
            adopted[u] = ev.AdoptedScore(sections=secs, total=total(secs), source="self")
    return adopted


def hold_review(x: Ctx, cmd: c.HoldReview) -> list[ev.Event]:
    assert x.s.block is not None and x.s.ruleset is not None
    me, head = x.member(), x.s.block.head
    if me != head and (me != x.s.block.deputy or head in cmd.present):
        raise AuthorizationError(
            "the review conference is recorded by the head (by the deputy when the head unit "
            "is absent)"
        )
    x.stage("review")
    seen: set[str] = set()
    listed = [(u, f"present[{i}]") for i, u in enumerate(cmd.present)]
    listed += [(a.unit, f"absent[{i}].unit") for i, a in enumerate(cmd.absent)]
    for unit, field in listed:
        known(x.s, unit, field)
        if unit in seen:
            raise RuleError("invalid_attendance", f"{unit} is listed twice", field)
        seen.add(unit)
    missing = [u for u in x.s.members if u not in seen]
    if missing:
        raise RuleError(
            "invalid_attendance",
            f"every member is present or absent; missing: {', '.join(missing)}",
            "absent",
        )
    need = quorum(x.s)
    if len(cmd.present) < need:
        raise RuleError(
            "quorum_not_met",
            f"{len(cmd.present)} present, {need} needed ({x.s.ruleset.quorum} of {len(x.s.members)})",
            "present",
        )
    return [
        x.event(
            ev.ReviewHeld,
            held_on=cmd.held_on,
            present=cmd.present,
            absent=cmd.absent,
            quorum_required=need,
            adopted=adopted_scores(x.s),
        )
    ]


def correct_score(x: Ctx, cmd: c.CorrectScore) -> list[ev.Event]:
    x.chair()
    x.stage("discipline", "vote")
    if x.s.rounds:
        raise StageError("scores are final once the vote has opened")
    known(x.s, cmd.unit, "unit")
    if cmd.unit not in x.s.adopted:
        raise RuleError("not_scored", f"{cmd.unit} has no adopted score to correct", "unit")
    assert x.s.score_sheet is not None and x.s.ruleset is not None
    within(x.s, "correction", cmd.unit, limit=x.s.ruleset.max_corrections, field="unit")
    check_sections(x.s.score_sheet, cmd.sections)
    if not cmd.note.strip():
        raise RuleError("reason_required", "a correction needs a reason", "note")
    event = x.event(
        ev.ScoreCorrected,
        unit=cmd.unit,
        sections=cmd.sections,
        total=total(cmd.sections),
        note=cmd.note,
    )
    if x.s.excluded is not None:
        after = fold([event], x.s)
        event = event.model_copy(update={"excluded": current_exclusions(after)})
    return [event]


HANDLERS: tuple[Handler, ...] = (hold_review, correct_score)
"""This stage's commands, in DOMAIN.md's order."""
