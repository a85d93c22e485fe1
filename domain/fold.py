"""The single fold: how each event changes a cycle's state (domain.state says what the state
is). Stage changes come from the one table domain.stages.STAGE_AFTER."""

from __future__ import annotations

from collections.abc import Iterable

from . import events as ev
from .stages import STAGE_AFTER
from .state import CycleState, ElectionState, Finding, RoundState, act_key

__all__ = ["evolve", "fold", "fold_into"]


def _apply(s: CycleState, e: ev.Event) -> None:
    match e:
        case ev.CycleStarted():
            s.block, s.year, s.ruleset, s.score_sheet = e.block, e.year, e.ruleset, e.score_sheet
            s.cycle_id = f"{e.block.id}/{e.year}"
            s.title = e.title
            s.deadlines = dict(e.deadlines)
            s.started_at = e.at
            s.leaving = list(e.leaving_after_year)
        case ev.PledgeSigned():
            s.signed.append(e.unit)
        case ev.PledgeClosed():
            s.unsigned = list(e.unsigned)
            s.pledge_closed_by = e.reason
        case ev.SelfScoreSubmitted():
            s.self_scores[e.unit] = dict(e.sections)
        case ev.ScoreVerified():
            s.verified[e.unit] = dict(e.sections)
        case ev.ScoringClosed():
            s.not_scored = list(e.not_scored)
        case ev.ReviewHeld():
            s.held_on, s.present, s.absent = e.held_on, list(e.present), list(e.absent)
            s.adopted = dict(e.adopted)
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
        case ev.LeadersAgreed():
            s.leaders_agreed[e.unit] = dict(e.places)
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
        case ev.CycleCompleted():
            s.outcome = e.outcome
            s.next_head, s.next_deputy = e.outcome.next_head, e.outcome.next_deputy
    s.stage = STAGE_AFTER.get(e.type, s.stage)
    act = _act(e)
    if act is not None:
        s.acts[act] = s.acts.get(act, 0) + 1
    s.version += 1
    s.last_at = e.at
    if e.request_id is not None:
        s.requests.setdefault(e.request_id, []).append(s.version)


def _act(e: ev.Event) -> str | None:
    """The repeatable act an event records, if any (see CycleState.acts)."""
    match e:
        case ev.SelfScoreSubmitted():
            return act_key("self_score", e.unit)
        case ev.ScoreCorrected():
            return act_key("correction", e.unit)
        case ev.FindingRecorded() | ev.FindingWithdrawn():
            return act_key("finding", e.unit, e.kind)
        case ev.DeadlineExtended():
            return act_key("extension", e.stage)
        case ev.LeadersAgreed():
            return act_key("leaders", e.unit)
    return None


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
