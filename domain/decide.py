"""decide(state, command, actor, *, now, ids) → the events a command produces, or a DomainError.

A command is judged in this order: who may give it (`not_authorized`), then the stage
(`wrong_stage`), then the command's own rules; the first failure is the answer. Time and ids
come in as arguments, so the same inputs always give the same events.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from . import commands as c
from . import events as ev
from .election import count, majority_winner, runoff_pair
from .eligibility import exclusions
from .errors import AuthorizationError, RuleError, StageError
from .pending import pending_actions
from .ranking import Ranked, rank_units, ranking_entries
from .setup import DEADLINE_STAGES, STAGES, ScoreSheet
from .state import CycleState, fold
from .values import Actor
from .voting import candidates, proposals, tally, unresolved_ties

__all__ = ["build_outcome", "current_exclusions", "current_ranking", "decide", "validate"]

IdSource = Callable[[], UUID]
E = TypeVar("E", bound=ev.Event)


class _Ctx:
    __slots__ = ("actor", "ids", "now", "request_id", "s")

    def __init__(
        self, s: CycleState, actor: Actor, now: datetime, ids: IdSource, request_id: str | None
    ) -> None:
        self.s, self.actor, self.now, self.ids, self.request_id = s, actor, now, ids, request_id

    def event(self, cls: type[E], **fields: Any) -> E:
        return cls(
            event_id=self.ids(),
            at=self.now,
            actor=self.actor,
            request_id=self.request_id,
            **fields,
        )

    # ---- who may ---------------------------------------------------------------------------

    def admin(self) -> None:
        if self.actor.kind != "admin":
            raise AuthorizationError("only the secretariat (admin) may do this")

    def member(self) -> str:
        if self.actor.kind != "unit" or self.actor.unit not in self.s.members:
            raise AuthorizationError("only a member unit's representative may do this")
        return self.actor.unit

    def unit(self, unit: str) -> None:
        if self.member() != unit:
            raise AuthorizationError(f"only the representative of {unit!r} may act for it")

    def chair(self, *, or_admin: bool = False) -> None:
        if or_admin and self.actor.kind == "admin":
            return
        chair = self.s.chair
        if self.actor.kind != "unit" or self.actor.unit != chair:
            who = f"the chair ({chair})" + (" or the admin" if or_admin else "")
            raise AuthorizationError(f"only {who} may do this")

    def stage(self, *stages: str) -> None:
        if self.s.stage not in stages:
            raise StageError(f"not allowed in stage {self.s.stage!r} (only in {', '.join(stages)})")


# ---- shared checks ---------------------------------------------------------------------------


def _check_sections(
    sheet: ScoreSheet, sections: Mapping[str, Decimal], field: str = "sections"
) -> None:
    maxima = {s.id: s.max for s in sheet.sections}
    for sid in sections:
        if sid not in maxima:
            raise RuleError(
                "unknown_section", f"no section {sid!r} on the score sheet", f"{field}.{sid}"
            )
    for sid in sheet.section_ids:
        if sid not in sections:
            raise RuleError("missing_section", f"section {sid!r} has no score", f"{field}.{sid}")
    for sid, value in sections.items():
        where = f"{field}.{sid}"
        if value < 0:
            raise RuleError("score_negative", f"{value} is below 0", where)
        if value > maxima[sid]:
            raise RuleError(
                "score_above_max", f"{value} is above the section max {maxima[sid]}", where
            )
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2 and value != value.quantize(Decimal("0.01")):
            raise RuleError("too_many_decimals", f"{value} has more than 2 decimal places", where)


def _known(s: CycleState, unit: str, field: str) -> None:
    if unit not in s.members:
        raise RuleError("not_a_member", f"{unit!r} is not a member of the block", field)


def _unsigned(s: CycleState) -> tuple[str, ...]:
    return tuple(u for u in s.members if u not in s.signed)


def _unscored(s: CycleState) -> tuple[str, ...]:
    return tuple(u for u in s.members if u not in s.self_scores)


def _total(sections: Mapping[str, Decimal]) -> Decimal:
    return sum(sections.values(), Decimal(0))


def current_exclusions(s: CycleState) -> dict[str, tuple[str, ...]]:
    assert s.ruleset is not None
    return exclusions(
        s.members,
        ruleset=s.ruleset,
        signed=s.signed,
        adopted=s.adopted,
        findings=[(f.unit, f.kind) for f in s.findings],
    )


def current_ranking(s: CycleState) -> Ranked:
    assert s.score_sheet is not None
    return rank_units(s.members, s.adopted, s.score_sheet.section_ids, s.tie_breaks)


def _eligible(s: CycleState) -> set[str]:
    excluded = s.excluded if s.excluded is not None else current_exclusions(s)
    return {u for u in s.members if u not in excluded}


def build_outcome(s: CycleState, head: str | None, deputy: str | None) -> ev.Outcome:
    """The outcome event's content: ranking, exclusions, nominations, next leaders."""
    ranked = current_ranking(s)
    excluded = s.excluded if s.excluded is not None else current_exclusions(s)
    return ev.Outcome(
        ranking=ranking_entries(ranked, s.adopted, _eligible(s)),
        excluded={u: tuple(sorted(excluded[u])) for u in sorted(excluded)},
        nominations=tuple(sorted(s.nominations, key=lambda n: n.place)),
        next_head=head,
        next_deputy=deputy,
    )


# ---- the commands ----------------------------------------------------------------------------


def _start(x: _Ctx, cmd: c.StartCycle) -> list[ev.Event]:
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
        )
    ]


def _sign(x: _Ctx, cmd: c.SignPledge) -> list[ev.Event]:
    x.unit(cmd.unit)
    x.stage("pledge")
    if cmd.unit in x.s.signed:
        raise RuleError("already_signed", f"{cmd.unit} has already signed the pledge", "unit")
    out: list[ev.Event] = [x.event(ev.PledgeSigned, unit=cmd.unit)]
    if len(x.s.signed) + 1 == len(x.s.members):
        out.append(x.event(ev.PledgeClosed, reason="all_signed", unsigned=()))
    return out


def _close_pledge(x: _Ctx, cmd: c.ClosePledge) -> list[ev.Event]:
    x.chair()
    x.stage("pledge")
    unsigned = _unsigned(x.s)
    return [x.event(ev.PledgeClosed, reason="closed_by_head", unsigned=unsigned)]


def _self_score(x: _Ctx, cmd: c.SubmitSelfScore) -> list[ev.Event]:
    x.unit(cmd.unit)
    x.stage("scoring")
    if cmd.unit in x.s.verified:
        raise RuleError("already_verified", f"the score of {cmd.unit} is already verified", "unit")
    assert x.s.score_sheet is not None
    _check_sections(x.s.score_sheet, cmd.sections)
    return [x.event(ev.SelfScoreSubmitted, unit=cmd.unit, sections=cmd.sections)]


def _verify(x: _Ctx, cmd: c.VerifyScore) -> list[ev.Event]:
    assert x.s.block is not None
    if cmd.unit == x.s.block.head:
        if x.member() != x.s.block.deputy:
            raise AuthorizationError("the head unit's score is verified by the deputy")
    elif x.member() != x.s.block.head:
        raise AuthorizationError("scores are verified by the head")
    x.stage("scoring")
    _known(x.s, cmd.unit, "unit")
    own = x.s.self_scores.get(cmd.unit)
    if own is None:
        raise RuleError("no_self_score", f"{cmd.unit} has not submitted a self-score", "unit")
    assert x.s.score_sheet is not None
    _check_sections(x.s.score_sheet, cmd.sections)
    changed = tuple(s for s in x.s.score_sheet.section_ids if cmd.sections[s] != own[s])
    if changed and not cmd.note.strip():
        raise RuleError("reason_required", "a changed score needs a reason", "note")
    return [
        x.event(
            ev.ScoreVerified, unit=cmd.unit, sections=cmd.sections, note=cmd.note, changed=changed
        )
    ]


def _close_scoring(x: _Ctx, cmd: c.CloseScoring) -> list[ev.Event]:
    x.chair()
    x.stage("scoring")
    missing = _unscored(x.s)
    return [x.event(ev.ScoringClosed, reason="closed_by_head", not_scored=missing)]


def _review(x: _Ctx, cmd: c.HoldReview) -> list[ev.Event]:
    assert x.s.block is not None and x.s.ruleset is not None
    if x.member() not in (x.s.block.head, x.s.block.deputy):
        raise AuthorizationError("the review conference is recorded by the head (or the deputy)")
    x.stage("review")
    seen: set[str] = set()
    listed = [(u, f"present[{i}]") for i, u in enumerate(cmd.present)]
    listed += [(a.unit, f"absent[{i}].unit") for i, a in enumerate(cmd.absent)]
    for unit, field in listed:
        _known(x.s, unit, field)
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
    need = math.ceil(x.s.ruleset.quorum * len(x.s.members))
    if len(cmd.present) < need:
        raise RuleError(
            "quorum_not_met",
            f"{len(cmd.present)} present, {need} needed ({x.s.ruleset.quorum} of {len(x.s.members)})",
            "present",
        )
    adopted = {}
    for u in x.s.members:
        if u in x.s.verified:
            secs = x.s.verified[u]
            adopted[u] = ev.AdoptedScore(sections=secs, total=_total(secs), source="verified")
        elif u in x.s.self_scores:
            secs = x.s.self_scores[u]
            adopted[u] = ev.AdoptedScore(sections=secs, total=_total(secs), source="self")
    return [
        x.event(
            ev.ReviewHeld,
            held_on=cmd.held_on,
            present=cmd.present,
            absent=cmd.absent,
            quorum_required=need,
            adopted=adopted,
        )
    ]


def _correct(x: _Ctx, cmd: c.CorrectScore) -> list[ev.Event]:
    x.chair()
    x.stage("discipline", "vote")
    if x.s.rounds:
        raise StageError("scores are final once the vote has opened")
    _known(x.s, cmd.unit, "unit")
    if cmd.unit not in x.s.adopted:
        raise RuleError("not_scored", f"{cmd.unit} has no adopted score to correct", "unit")
    assert x.s.score_sheet is not None
    _check_sections(x.s.score_sheet, cmd.sections)
    if not cmd.note.strip():
        raise RuleError("reason_required", "a correction needs a reason", "note")
    event = x.event(
        ev.ScoreCorrected,
        unit=cmd.unit,
        sections=cmd.sections,
        total=_total(cmd.sections),
        note=cmd.note,
    )
    if x.s.excluded is not None:
        after = fold([event], x.s)
        event = event.model_copy(update={"excluded": current_exclusions(after)})
    return [event]


def _record_finding(x: _Ctx, cmd: c.RecordFinding) -> list[ev.Event]:
    x.chair(or_admin=True)
    x.stage("discipline")
    _known(x.s, cmd.unit, "unit")
    if any((f.unit, f.kind) == (cmd.unit, cmd.kind) for f in x.s.findings):
        raise RuleError("finding_exists", f"{cmd.unit} already has a {cmd.kind} finding", "kind")
    return [
        x.event(
            ev.FindingRecorded, unit=cmd.unit, kind=cmd.kind, reference=cmd.reference, note=cmd.note
        )
    ]


def _withdraw_finding(x: _Ctx, cmd: c.WithdrawFinding) -> list[ev.Event]:
    x.chair(or_admin=True)
    x.stage("discipline")
    if not any((f.unit, f.kind) == (cmd.unit, cmd.kind) for f in x.s.findings):
        raise RuleError("unknown_finding", f"{cmd.unit} has no {cmd.kind} finding", "kind")
    return [x.event(ev.FindingWithdrawn, unit=cmd.unit, kind=cmd.kind)]


def _close_discipline(x: _Ctx, cmd: c.CloseDisciplineCheck) -> list[ev.Event]:
    x.chair()
    x.stage("discipline")
    excluded = current_exclusions(x.s)
    eligible = tuple(u for u in x.s.members if u not in excluded)
    return [x.event(ev.DisciplineCheckClosed, eligible=eligible, excluded=excluded)]


def _vote_idle(x: _Ctx) -> None:
    x.chair()
    x.stage("vote")
    if x.s.open_round is not None:
        raise RuleError("round_open", f"vote round {x.s.open_round.round} is still open")


def _gone(s: CycleState) -> set[str]:
    return {n.unit for n in s.nominations} | set(s.rejected)


def _break_tie(x: _Ctx, cmd: c.BreakTie) -> list[ev.Event]:
    _vote_idle(x)
    if x.s.leaders_decided:
        raise StageError("the leaders have decided; the vote is over")
    for i, u in enumerate(cmd.order):
        _known(x.s, u, f"order[{i}]")
    ranked = current_ranking(x.s)
    group = next((g for g in ranked.tied_groups() if cmd.order[0] in g), None)
    if group is None or sorted(group) != sorted(cmd.order) or len(set(cmd.order)) != len(cmd.order):
        groups = "; ".join(", ".join(g) for g in ranked.tied_groups()) or "none"
        raise RuleError(
            "not_tied", f"the order must list exactly one group of tied units ({groups})", "order"
        )
    return [x.event(ev.TieBroken, order=cmd.order)]


def _open_round(x: _Ctx, cmd: c.OpenVoteRound) -> list[ev.Event]:
    _vote_idle(x)
    assert x.s.ruleset is not None
    if x.s.leaders_decided:
        raise StageError("the leaders have decided; the vote is over")
    places = x.s.open_places()
    if not places:
        raise RuleError("no_open_places", "every place is already filled")
    if len(x.s.rounds) >= x.s.ruleset.vote.max_rounds:
        raise RuleError("max_rounds_reached", f"at most {x.s.ruleset.vote.max_rounds} rounds")
    ranked = current_ranking(x.s)
    eligible = _eligible(x.s)
    cands = candidates(ranked, eligible, _gone(x.s))
    if not cands:
        raise RuleError("no_candidates", "no eligible unit is left to propose")
    tied = unresolved_ties(ranked, cands, len(places))
    if tied:
        raise RuleError("unresolved_tie", f"break the tie first (break_tie): {', '.join(tied)}")
    return [
        x.event(
            ev.VoteRoundOpened,
            round=len(x.s.rounds) + 1,
            proposals=proposals(cands, len(places)),
            voters=tuple(x.s.voters),
            ranking=ranking_entries(ranked, x.s.adopted, eligible),
        )
    ]


def _cast(x: _Ctx, cmd: c.CastBallot) -> list[ev.Event]:
    voter = x.member()
    x.stage("vote")
    r = x.s.open_round
    if r is None:
        raise RuleError("no_round_open", "no vote round is open")
    if voter not in r.voters:
        raise RuleError("not_entitled_to_vote", f"{voter} is not a voter of round {r.round}")
    if voter in r.ballots:
        raise RuleError("already_voted", f"{voter} has already voted in round {r.round}")
    for i, u in enumerate(cmd.approve):
        if u not in r.proposals:
            raise RuleError(
                "not_a_candidate", f"{u} is not proposed in round {r.round}", f"approve[{i}]"
            )
    approve = tuple(dict.fromkeys(cmd.approve))
    return [x.event(ev.BallotCast, round=r.round, voter=voter, approve=approve)]


def _close_round(x: _Ctx, cmd: c.CloseVoteRound) -> list[ev.Event]:
    x.chair()
    x.stage("vote")
    r = x.s.open_round
    if r is None:
        raise RuleError("no_round_open", "no vote round is open")
    assert x.s.ruleset is not None
    rules = x.s.ruleset.vote
    base = len(r.voters) if rules.base == "voters" else len(x.s.members)
    lines = tally(r.proposals, r.ballots, base=base, rules=rules, open_places=x.s.open_places())
    return [
        x.event(
            ev.VoteRoundClosed,
            round=r.round,
            voters=len(r.voters),
            ballots=len(r.ballots),
            base=base,
            tally=lines,
        )
    ]


def _leaders_decide(x: _Ctx, cmd: c.LeadersDecide) -> list[ev.Event]:
    _vote_idle(x)
    assert x.s.ruleset is not None and x.s.block is not None
    if x.s.leaders_decided:
        raise StageError("the leaders have already decided")
    if not cmd.deputy_agrees:
        raise RuleError(
            "deputy_must_agree", "the head and the deputy decide together", "deputy_agrees"
        )
    eligible = _eligible(x.s)
    cands = candidates(current_ranking(x.s), eligible, _gone(x.s))
    if len(x.s.rounds) < x.s.ruleset.vote.max_rounds and cands:
        raise RuleError(
            "rounds_remaining",
            f"{len(x.s.rounds)} of {x.s.ruleset.vote.max_rounds} rounds held; vote first",
        )
    open_places = x.s.open_places()
    chosen: dict[int, str] = {}
    for i, choice in enumerate(cmd.places):
        if choice.place not in open_places or choice.place in chosen:
            raise RuleError(
                "place_not_open", f"place {choice.place} is not open", f"places[{i}].place"
            )
        if choice.unit not in cands or choice.unit in chosen.values():
            raise RuleError(
                "not_a_candidate",
                f"{choice.unit} is not a remaining eligible unit",
                f"places[{i}].unit",
            )
        chosen[choice.place] = choice.unit
    head = x.s.chair or x.s.block.head
    deputy = x.s.block.deputy if head != x.s.block.deputy else x.s.block.head
    return [
        x.event(
            ev.LeadersDecided,
            places=chosen,
            head=head,
            head_name=x.s.block.name_of(head),
            deputy=deputy,
            deputy_name=x.s.block.name_of(deputy),
        )
    ]


def _open_election(x: _Ctx, cmd: c.OpenElection) -> list[ev.Event]:
    _vote_idle(x)
    assert x.s.ruleset is not None and x.s.block is not None
    excluded = x.s.excluded or {}
    allowed = [u for u in x.s.members if u not in excluded]
    successor = x.s.block.deputy
    if x.s.ruleset.rotation == "deputy_succeeds" and successor not in excluded:
        deputies = [u for u in allowed if u != successor]
        if not deputies:
            raise RuleError("no_candidates", "no unit can be elected deputy")
        return [
            x.event(
                ev.ElectionOpened,
                mode="deputy_only",
                head=successor,
                voters=tuple(x.s.voters),
                deputy_candidates=tuple(deputies),
            )
        ]
    if len(allowed) < 2:
        raise RuleError("no_candidates", "fewer than two units can be elected")
    return [
        x.event(
            ev.ElectionOpened,
            mode="both",
            head=None,
            voters=tuple(x.s.voters),
            head_candidates=tuple(allowed),
            deputy_candidates=tuple(allowed),
        )
    ]


def _cast_election(x: _Ctx, cmd: c.CastElectionBallot) -> list[ev.Event]:
    voter = x.member()
    x.stage("election")
    el = x.s.election
    assert el is not None
    if el.failed:
        raise StageError("the election failed; the admin appoints the leaders")
    if voter not in el.voters:
        raise RuleError("not_entitled_to_vote", f"{voter} is not a voter of the election")
    if voter in el.ballots:
        raise RuleError("already_voted", f"{voter} has already voted in election round {el.round}")
    if el.head is None:
        if cmd.head is None or cmd.head not in el.head_candidates:
            raise RuleError(
                "not_a_candidate",
                f"name a head among {', '.join(el.head_candidates)}",
                "head",
            )
    elif cmd.head is not None:
        raise RuleError("not_a_candidate", f"the head is already decided ({el.head})", "head")
    if el.deputy is None:
        allowed = [u for u in el.deputy_candidates if u != el.head]
        if cmd.deputy is None or cmd.deputy not in allowed:
            raise RuleError(
                "not_a_candidate", f"name a deputy among {', '.join(allowed)}", "deputy"
            )
    elif cmd.deputy is not None:
        raise RuleError("not_a_candidate", f"the deputy is already decided ({el.deputy})", "deputy")
    return [
        x.event(
            ev.ElectionBallotCast, round=el.round, voter=voter, head=cmd.head, deputy=cmd.deputy
        )
    ]


def _close_election(x: _Ctx, cmd: c.CloseElection) -> list[ev.Event]:
    x.chair()
    x.stage("election")
    el = x.s.election
    assert el is not None
    if el.failed:
        raise StageError("the election failed; the admin appoints the leaders")
    order = current_ranking(x.s).order
    n = len(el.ballots)
    head, deputy = el.head, el.deputy
    head_votes: dict[str, int] = {}
    deputy_votes: dict[str, int] = {}
    runoff_head: tuple[str, ...] = ()
    runoff_deputy: tuple[str, ...] = ()
    failed = False
    if head is None:
        head_votes = count((b[0] for b in el.ballots.values()), el.head_candidates)
        head = majority_winner(head_votes, n)
        if head is None:
            if el.head_runoff_done:
                failed = True
            else:
                runoff_head = runoff_pair(head_votes, order)
    if deputy is None and head is not None:
        cands = [u for u in el.deputy_candidates if u != head]
        deputy_votes = count((b[1] for b in el.ballots.values()), cands)
        deputy = majority_winner(deputy_votes, n)
        if deputy is None:
            if el.deputy_runoff_done:
                failed = True
            else:
                runoff_deputy = runoff_pair(deputy_votes, order)
    closed = x.event(
        ev.ElectionRoundClosed,
        round=el.round,
        ballots=n,
        head_votes=head_votes,
        deputy_votes=deputy_votes,
        head=head if el.head is None else None,
        deputy=deputy,
        runoff_head=runoff_head,
        runoff_deputy=runoff_deputy,
        failed=failed,
    )
    out: list[ev.Event] = [closed]
    if head is not None and deputy is not None:
        out.append(x.event(ev.CycleCompleted, outcome=build_outcome(x.s, head, deputy)))
    return out


def _appoint(x: _Ctx, cmd: c.AppointLeaders) -> list[ev.Event]:
    x.admin()
    x.stage("election")
    el = x.s.election
    assert el is not None
    if not el.failed:
        raise RuleError("election_not_failed", "leaders are appointed only after a failed run-off")
    excluded = x.s.excluded or {}
    for field, unit in (("head", cmd.head), ("deputy", cmd.deputy)):
        _known(x.s, unit, field)
        if unit in excluded:
            raise RuleError("not_a_candidate", f"{unit} is excluded this year", field)
    if cmd.head == cmd.deputy:
        raise RuleError("not_a_candidate", "head and deputy must be distinct units", "deputy")
    if el.head is not None and cmd.head != el.head:
        raise RuleError("not_a_candidate", f"the head is already decided ({el.head})", "head")
    return [
        x.event(ev.LeadersAppointed, head=cmd.head, deputy=cmd.deputy),
        x.event(ev.CycleCompleted, outcome=build_outcome(x.s, cmd.head, cmd.deputy)),
    ]


def _extend(x: _Ctx, cmd: c.ExtendDeadline) -> list[ev.Event]:
    x.admin()
    x.stage(*DEADLINE_STAGES)
    if cmd.stage not in DEADLINE_STAGES or STAGES.index(cmd.stage) < STAGES.index(x.s.stage):
        raise RuleError(
            "invalid_deadline", f"stage {cmd.stage!r} is over or takes no deadline", "stage"
        )
    current = x.s.deadlines.get(cmd.stage)
    if current is not None and cmd.until <= current:
        raise RuleError(
            "invalid_deadline", f"the new deadline must be after {current.isoformat()}", "until"
        )
    if cmd.until <= x.now:
        raise RuleError("invalid_deadline", "the new deadline must be in the future", "until")
    return [x.event(ev.DeadlineExtended, stage=cmd.stage, until=cmd.until)]


def _cancel(x: _Ctx, cmd: c.CancelCycle) -> list[ev.Event]:
    x.admin()
    x.stage(*DEADLINE_STAGES)
    return [x.event(ev.CycleCancelled, reason=cmd.reason, stage=x.s.stage)]


def _expire(x: _Ctx, cmd: c.ExpireDeadline) -> list[ev.Event]:
    if x.actor.kind != "system":
        raise AuthorizationError("deadlines are expired by the system's timers")
    x.stage(*(st for st in DEADLINE_STAGES if st == cmd.stage))
    deadline = x.s.deadlines.get(cmd.stage)
    if deadline is None or x.now < deadline:
        raise RuleError("deadline_not_reached", f"the {cmd.stage} deadline has not passed", "stage")
    if cmd.stage == "pledge":
        unsigned = _unsigned(x.s)
        return [x.event(ev.PledgeClosed, reason="deadline", unsigned=unsigned)]
    if cmd.stage == "scoring":
        missing = _unscored(x.s)
        return [x.event(ev.ScoringClosed, reason="deadline", not_scored=missing)]
    if cmd.stage in x.s.missed:
        raise RuleError(
            "deadline_not_reached", f"the {cmd.stage} deadline is already recorded", "stage"
        )
    pending = tuple(u for u in pending_actions(x.s) if u in x.s.members)
    return [x.event(ev.DeadlineMissed, stage=cmd.stage, deadline=deadline, pending=pending)]


_HANDLERS: dict[type, Callable[[_Ctx, Any], list[ev.Event]]] = {
    c.StartCycle: _start,
    c.SignPledge: _sign,
    c.ClosePledge: _close_pledge,
    c.SubmitSelfScore: _self_score,
    c.VerifyScore: _verify,
    c.CloseScoring: _close_scoring,
    c.HoldReview: _review,
    c.CorrectScore: _correct,
    c.RecordFinding: _record_finding,
    c.WithdrawFinding: _withdraw_finding,
    c.CloseDisciplineCheck: _close_discipline,
    c.BreakTie: _break_tie,
    c.OpenVoteRound: _open_round,
    c.CastBallot: _cast,
    c.CloseVoteRound: _close_round,
    c.LeadersDecide: _leaders_decide,
    c.OpenElection: _open_election,
    c.CastElectionBallot: _cast_election,
    c.CloseElection: _close_election,
    c.AppointLeaders: _appoint,
    c.ExtendDeadline: _extend,
    c.CancelCycle: _cancel,
    c.ExpireDeadline: _expire,
}


def decide(
    state: CycleState,
    command: c.Command,
    actor: Actor,
    *,
    now: datetime,
    ids: IdSource,
    request_id: str | None = None,
) -> list[ev.Event]:
    """The events `command` by `actor` produces in `state`; raises DomainError when rejected.

    A closed (completed or cancelled) cycle accepts no command: `wrong_stage`."""
    x = _Ctx(state, actor, now, ids, request_id)
    if actor.kind == "auditor":
        raise AuthorizationError("auditors read; they change nothing")
    if state.stage == "none" and not isinstance(command, c.StartCycle):
        raise StageError("the cycle has not started")
    return _HANDLERS[type(command)](x, command)


_NULL_ID = UUID(int=0)


def validate(state: CycleState, command: c.Command, actor: Actor, *, now: datetime) -> None:
    """Raise the DomainError `decide` would raise; consume no ids (for update validators)."""
    decide(state, command, actor, now=now, ids=lambda: _NULL_ID)
