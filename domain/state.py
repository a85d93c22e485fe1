"""The state of one cycle and the single fold that builds it from events.

`fold(events)` is the one definition of a cycle's state: the workflow uses it, and so do
auditors on the events read back from PostgreSQL. Decision events (eligibility, tallies,
election counts) are applied as recorded; `domain.audit` recomputes them to prove they follow
the rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from . import events as ev
from .setup import Block, Ruleset, ScoreSheet
from .values import Score

__all__ = ["CycleState", "ElectionState", "Finding", "RoundState", "evolve", "fold", "fold_into"]


class Finding(BaseModel):
    unit: str
    kind: str
    reference: str
    note: str = ""


class RoundState(BaseModel):
    round: int
    proposals: list[str]
    voters: list[str]
    ballots: dict[str, list[str]] = Field(default_factory=dict)
    closed: bool = False
    tally: list[ev.TallyLine] = Field(default_factory=list)


class ElectionState(BaseModel):
    mode: Literal["deputy_only", "both"]
    voters: list[str]
    round: int = 1
    head: str | None = None
    deputy: str | None = None
    head_candidates: list[str] = Field(default_factory=list)
    deputy_candidates: list[str] = Field(default_factory=list)
    head_runoff_done: bool = False
    deputy_runoff_done: bool = False
    ballots: dict[str, tuple[str | None, str | None]] = Field(default_factory=dict)
    failed: bool = False
    history: list[ev.ElectionRoundClosed] = Field(default_factory=list)


class CycleState(BaseModel):
    """Everything the rules need to judge the next command."""

    version: int = 0
    stage: str = "none"
    cycle_id: str | None = None
    title: str = ""
    block: Block | None = None
    year: int | None = None
    ruleset: Ruleset | None = None
    score_sheet: ScoreSheet | None = None
    deadlines: dict[str, datetime] = Field(default_factory=dict)
    started_at: datetime | None = None
    last_at: datetime | None = None
    signed: list[str] = Field(default_factory=list)
    unsigned: list[str] = Field(default_factory=list)
    pledge_closed_by: str | None = None
    self_scores: dict[str, dict[str, Score]] = Field(default_factory=dict)
    verified: dict[str, dict[str, Score]] = Field(default_factory=dict)
    not_scored: list[str] = Field(default_factory=list)
    held_on: date | None = None
    present: list[str] = Field(default_factory=list)
    absent: list[ev.Absence] = Field(default_factory=list)
    adopted: dict[str, ev.AdoptedScore] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)
    excluded: dict[str, list[str]] | None = None
    tie_breaks: list[list[str]] = Field(default_factory=list)
    rounds: list[RoundState] = Field(default_factory=list)
    nominations: list[ev.Nomination] = Field(default_factory=list)
    rejected: list[str] = Field(default_factory=list)
    leaders_decided: bool = False
    election: ElectionState | None = None
    next_head: str | None = None
    next_deputy: str | None = None
    missed: list[str] = Field(default_factory=list)
    outcome: ev.Outcome | None = None
    cancel_reason: str | None = None
    requests: dict[str, list[int]] = Field(default_factory=dict)

    # ---- derived views ---------------------------------------------------------------------

    @property
    def members(self) -> tuple[str, ...]:
        return self.block.member_ids if self.block else ()

    @property
    def is_closed(self) -> bool:
        return self.stage in ("completed", "cancelled")

    @property
    def open_round(self) -> RoundState | None:
        if self.rounds and not self.rounds[-1].closed:
            return self.rounds[-1]
        return None

    @property
    def voters(self) -> list[str]:
        """Who votes in the nomination vote and the election: the present units, plus absent
        units that sent a written opinion when the ruleset counts written opinions."""
        assert self.ruleset is not None
        extra = [
            a.unit for a in self.absent if a.written_opinion and self.ruleset.vote.written_opinions
        ]
        return [u for u in self.members if u in self.present or u in extra]

    @property
    def chair(self) -> str | None:
        """The unit that chairs: the head, or the deputy when the head unit is absent from the
        review or excluded."""
        if self.block is None:
            return None
        head = self.block.head
        if self.held_on is not None and head not in self.present:
            return self.block.deputy
        if self.excluded is not None and head in self.excluded:
            return self.block.deputy
        return head

    def open_places(self) -> list[int]:
        assert self.ruleset is not None
        taken = {n.place for n in self.nominations}
        return [p.place for p in self.ruleset.places if p.place not in taken]

    def total_of(self, unit: str) -> Decimal | None:
        score = self.adopted.get(unit)
        return score.total if score else None


def _apply(s: CycleState, e: ev.Event) -> None:
    match e:
        case ev.CycleStarted():
            s.stage = "pledge"
            s.block, s.year, s.ruleset, s.score_sheet = e.block, e.year, e.ruleset, e.score_sheet
            s.cycle_id = f"{e.block.id}/{e.year}"
            s.title = e.title
            s.deadlines = dict(e.deadlines)
            s.started_at = e.at
        case ev.PledgeSigned():
            s.signed.append(e.unit)
        case ev.PledgeClosed():
            s.unsigned = list(e.unsigned)
            s.pledge_closed_by = e.reason
            s.stage = "scoring"
        case ev.SelfScoreSubmitted():
            s.self_scores[e.unit] = dict(e.sections)
        case ev.ScoreVerified():
            s.verified[e.unit] = dict(e.sections)
        case ev.ScoringClosed():
            s.not_scored = list(e.not_scored)
            s.stage = "review"
        case ev.ReviewHeld():
            s.held_on, s.present, s.absent = e.held_on, list(e.present), list(e.absent)
            s.adopted = dict(e.adopted)
            s.stage = "discipline"
        case ev.ScoreCorrected():
            s.adopted[e.unit] = ev.AdoptedScore(
                sections=dict(e.sections), total=e.total, source="corrected"
            )
            if e.excluded is not None:
                s.excluded = {u: list(r) for u, r in e.excluded.items()}
        case ev.FindingRecorded():
            s.findings.append(Finding(unit=e.unit, kind=e.kind, reference=e.reference, note=e.note))
        case ev.FindingWithdrawn():
            s.findings = [f for f in s.findings if (f.unit, f.kind) != (e.unit, e.kind)]
        case ev.DisciplineCheckClosed():
            s.excluded = {u: list(r) for u, r in e.excluded.items()}
            s.stage = "vote"
        case ev.TieBroken():
            s.tie_breaks.append(list(e.order))
        case ev.VoteRoundOpened():
            s.rounds.append(
                RoundState(round=e.round, proposals=list(e.proposals), voters=list(e.voters))
            )
        case ev.BallotCast():
            s.rounds[-1].ballots[e.voter] = list(e.approve)
        case ev.VoteRoundClosed():
            r = s.rounds[-1]
            r.closed, r.tally = True, list(e.tally)
            assert s.ruleset is not None
            for line in e.tally:
                if line.confirmed and line.place is not None:
                    s.nominations.append(
                        ev.Nomination(
                            place=line.place,
                            unit=line.unit,
                            title=s.ruleset.title_of(line.place),
                            approvals=line.approvals,
                            voters=len(r.voters),
                            round=e.round,
                            decided_by="vote",
                        )
                    )
                elif not line.confirmed:
                    s.rejected.append(line.unit)
            s.nominations.sort(key=lambda n: n.place)
        case ev.LeadersDecided():
            assert s.ruleset is not None
            for place, unit in sorted(e.places.items()):
                s.nominations.append(
                    ev.Nomination(
                        place=place,
                        unit=unit,
                        title=s.ruleset.title_of(place),
                        approvals=None,
                        voters=None,
                        round=None,
                        decided_by="leaders",
                    )
                )
            s.nominations.sort(key=lambda n: n.place)
            s.leaders_decided = True
        case ev.ElectionOpened():
            s.stage = "election"
            s.election = ElectionState(
                mode=e.mode,
                voters=list(e.voters),
                round=e.round,
                head=e.head,
                head_candidates=list(e.head_candidates),
                deputy_candidates=list(e.deputy_candidates),
            )
        case ev.ElectionBallotCast():
            assert s.election is not None
            s.election.ballots[e.voter] = (e.head, e.deputy)
        case ev.ElectionRoundClosed():
            el = s.election
            assert el is not None
            el.history.append(e)
            el.ballots = {}
            if el.head is None and e.head is not None:
                el.head = e.head
            if e.deputy is not None:
                el.deputy = e.deputy
            if e.runoff_head:
                el.head_candidates = list(e.runoff_head)
                el.head_runoff_done = True
            if e.runoff_deputy:
                el.deputy_candidates = list(e.runoff_deputy)
                el.deputy_runoff_done = True
            elif el.head is not None and el.deputy is None and el.head in el.deputy_candidates:
                el.deputy_candidates = [u for u in el.deputy_candidates if u != el.head]
            el.failed = e.failed
            if not e.failed and (el.head is None or el.deputy is None):
                el.round = e.round + 1
            s.next_head, s.next_deputy = el.head, el.deputy
        case ev.LeadersAppointed():
            s.next_head, s.next_deputy = e.head, e.deputy
            if s.election is not None:
                s.election.head, s.election.deputy = e.head, e.deputy
        case ev.DeadlineExtended():
            s.deadlines[e.stage] = e.until
            # A new deadline is a new timer: it may be missed again.
            s.missed = [m for m in s.missed if m != e.stage]
        case ev.DeadlineMissed():
            s.missed.append(e.stage)
        case ev.CycleCancelled():
            s.cancel_reason = e.reason
            s.stage = "cancelled"
        case ev.CycleCompleted():
            s.outcome = e.outcome
            s.next_head, s.next_deputy = e.outcome.next_head, e.outcome.next_deputy
            s.stage = "completed"
    s.version += 1
    s.last_at = e.at
    if e.request_id is not None:
        s.requests.setdefault(e.request_id, []).append(s.version)


def fold(events: Iterable[ev.Event], state: CycleState | None = None) -> CycleState:
    """Apply events in order to a copy of `state` (or to the empty state) and return it."""
    s = CycleState() if state is None else state.model_copy(deep=True)
    for e in events:
        _apply(s, e)
    return s


def fold_into(state: CycleState, events: Iterable[ev.Event]) -> CycleState:
    """Apply events to `state` itself (no copy) and return it: for an owner of the state, such
    as the workflow, that applies each accepted command once. The same rules as `fold`."""
    for e in events:
        _apply(state, e)
    return state


def evolve(state: CycleState, event: ev.Event) -> CycleState:
    """One event applied to a copy of `state`."""
    return fold((event,), state)
