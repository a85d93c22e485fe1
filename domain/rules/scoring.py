"""Scoring: self-scores per section, verification by the head (the deputy verifies the head
unit's), closing (DOMAIN.md, Stages 3). The range and places of a score are checked here."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from .. import commands as c
from .. import events as ev
from ..errors import AuthorizationError, RuleError
from ..setup import ScoreSheet
from ..state import CycleState
from .context import Ctx, Handler, known, within

__all__ = [
    "HANDLERS",
    "check_sections",
    "close_scoring",
    "section_problems",
    "submit_self_score",
    "unscored",
    "verify_score",
]


def check_sections(
    sheet: ScoreSheet, sections: Mapping[str, Decimal], field: str = "sections"
) -> None:
    """Every section of the sheet, no other, each 0 ≤ s ≤ max with at most the sheet's decimals
    (2 by default)."""
    problems = section_problems(sheet, sections, field)
    if problems:
        raise problems[0]


def section_problems(
    sheet: ScoreSheet, sections: Mapping[str, Decimal], field: str = "sections"
) -> list[RuleError]:
    """Every problem of `sections` at once (check_sections raises the first): unknown
    sections, then missing ones, then each section's range and places."""
    maxima = {s.id: s.max for s in sheet.sections}
    out = []
    for sid in sections:
        if sid not in maxima:
            out.append(
                RuleError(
                    "unknown_section", f"no section {sid!r} on the score sheet", f"{field}.{sid}"
                )
            )
    for sid in sheet.section_ids:
        if sid not in sections:
            out.append(
                RuleError("missing_section", f"section {sid!r} has no score", f"{field}.{sid}")
            )
    for sid, value in sections.items():
        where = f"{field}.{sid}"
        if sid not in maxima:
            continue
        if value < 0:
            out.append(RuleError("score_negative", f"{value} is below 0", where))
        elif value > maxima[sid]:
            out.append(
                RuleError(
                    "score_above_max", f"{value} is above the section max {maxima[sid]}", where
                )
            )
        else:
            places = sheet.decimals
            exponent = value.as_tuple().exponent
            if (
                isinstance(exponent, int)
                and exponent < -places
                and value != value.quantize(Decimal(1).scaleb(-places))
            ):
                out.append(
                    RuleError(
                        "too_many_decimals", f"{value} has more than {places} decimal places", where
                    )
                )
    return out


def unscored(s: CycleState) -> tuple[str, ...]:
    return tuple(u for u in s.members if u not in s.self_scores)


def submit_self_score(x: Ctx, cmd: c.SubmitSelfScore) -> list[ev.Event]:
    x.unit(cmd.unit)
    x.stage("scoring")
    if cmd.unit in x.s.verified:
        raise RuleError("already_verified", f"the score of {cmd.unit} is already verified", "unit")
    assert x.s.score_sheet is not None and x.s.ruleset is not None
    within(x.s, "self_score", cmd.unit, limit=1 + x.s.ruleset.max_resubmissions, field="unit")
    check_sections(x.s.score_sheet, cmd.sections)
    for sid in cmd.evidence:
        if sid not in cmd.sections:
            raise RuleError(
                "unknown_section", f"no section {sid!r} on the score sheet", f"evidence.{sid}"
            )
    return [
        x.event(ev.SelfScoreSubmitted, unit=cmd.unit, sections=cmd.sections, evidence=cmd.evidence)
    ]


def verify_score(x: Ctx, cmd: c.VerifyScore) -> list[ev.Event]:
    assert x.s.block is not None
    if cmd.unit == x.s.block.head:
        if x.member() != x.s.block.deputy:
            raise AuthorizationError("the head unit's score is verified by the deputy")
    elif x.member() != x.s.block.head:
        raise AuthorizationError("scores are verified by the head")
    x.stage("scoring")
    known(x.s, cmd.unit, "unit")
    own = x.s.self_scores.get(cmd.unit)
    if own is None:
        raise RuleError("no_self_score", f"{cmd.unit} has not submitted a self-score", "unit")
    assert x.s.score_sheet is not None
    check_sections(x.s.score_sheet, cmd.sections)
    changed = tuple(s for s in x.s.score_sheet.section_ids if cmd.sections[s] != own[s])
    if changed and not cmd.note.strip():
        raise RuleError("reason_required", "a changed score needs a reason", "note")
    return [
        x.event(
            ev.ScoreVerified, unit=cmd.unit, sections=cmd.sections, note=cmd.note, changed=changed
        )
    ]


def close_scoring(x: Ctx, cmd: c.CloseScoring) -> list[ev.Event]:
    x.chair()
    x.stage("scoring")
    return [
        x.event(ev.ScoringClosed, reason="closed_by_head", not_scored=unscored(x.s), note=cmd.note)
    ]


HANDLERS: tuple[Handler, ...] = (submit_self_score, verify_score, close_scoring)
"""This stage's commands, in DOMAIN.md's order."""
