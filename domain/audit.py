"""Recompute every decision: each accepted command's events must be exactly what the rules
give for the state before it.

The events of one command share their envelope (request id, time, actor) and stand together in
the stream. For each such group the command is rebuilt from its first event, decided again on
the state folded from the events before it — with the recorded time and ids — and the result is
compared with what was recorded. Any difference (a tally, an exclusion, a ranking, an outcome)
or a rejection is a finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from . import commands as c
from . import events as ev
from .decide import decide
from .errors import DomainError
from .state import CycleState, fold

__all__ = ["Finding", "recheck"]


@dataclass(frozen=True)
class Finding:
    version: int
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"version {self.version}: {self.kind}: {self.detail}"


def _command(e: ev.Event) -> c.Command | None:
    match e:
        case ev.CycleStarted():
            return c.StartCycle(
                block=e.block, year=e.year, ruleset=e.ruleset, score_sheet=e.score_sheet,
                deadlines=e.deadlines, title=e.title,
            )
        case ev.PledgeSigned():
            return c.SignPledge(unit=e.unit)
        case ev.PledgeClosed():
            return c.ExpireDeadline(stage="pledge") if e.reason == "deadline" else c.ClosePledge()
        case ev.SelfScoreSubmitted():
            return c.SubmitSelfScore(unit=e.unit, sections=e.sections)
        case ev.ScoreVerified():
            return c.VerifyScore(unit=e.unit, sections=e.sections, note=e.note)
        case ev.ScoringClosed():
            return c.ExpireDeadline(stage="scoring") if e.reason == "deadline" else c.CloseScoring()
        case ev.ReviewHeld():
            return c.HoldReview(held_on=e.held_on, present=e.present, absent=e.absent)
        case ev.ScoreCorrected():
            return c.CorrectScore(unit=e.unit, sections=e.sections, note=e.note)
        case ev.FindingRecorded():
            return c.RecordFinding(unit=e.unit, kind=e.kind, reference=e.reference, note=e.note)
        case ev.FindingWithdrawn():
            return c.WithdrawFinding(unit=e.unit, kind=e.kind)
        case ev.DisciplineCheckClosed():
            return c.CloseDisciplineCheck()
        case ev.TieBroken():
            return c.BreakTie(order=e.order)
        case ev.VoteRoundOpened():
            return c.OpenVoteRound()
        case ev.BallotCast():
            return c.CastBallot(approve=e.approve)
        case ev.VoteRoundClosed():
            return c.CloseVoteRound()
        case ev.LeadersDecided():
            return c.LeadersDecide(
                places=tuple(c.PlaceChoice(place=p, unit=u) for p, u in e.places.items()),
                deputy_agrees=True,
            )
        case ev.ElectionOpened():
            return c.OpenElection()
        case ev.ElectionBallotCast():
            return c.CastElectionBallot(head=e.head, deputy=e.deputy)
        case ev.ElectionRoundClosed():
            return c.CloseElection()
        case ev.LeadersAppointed():
            return c.AppointLeaders(head=e.head, deputy=e.deputy)
        case ev.DeadlineExtended():
            return c.ExtendDeadline(stage=e.stage, until=e.until)
        case ev.DeadlineMissed():
            return c.ExpireDeadline(stage=e.stage)
        case ev.CycleCancelled():
            return c.CancelCycle(reason=e.reason)
        case _:
            return None


def _groups(events: Sequence[ev.Event]) -> list[tuple[int, list[ev.Event]]]:
    """Events of one command: contiguous, with the same request id, time and actor (every
    command carries a request id in the workflow)."""
    out: list[tuple[int, list[ev.Event]]] = []
    for i, e in enumerate(events):
        if out and not isinstance(e, ev.CycleStarted):
            first = out[-1][1][0]
            if (first.request_id, first.at, first.actor) == (e.request_id, e.at, e.actor):
                out[-1][1].append(e)
                continue
        out.append((i, [e]))
    return out


def recheck(events: Sequence[ev.Event]) -> list[Finding]:
    """Every command's events recomputed from the state before it; [] when all agree."""
    findings: list[Finding] = []
    state = CycleState()
    for start, group in _groups(events):
        version = start + 1
        command = _command(group[0])
        if command is None:
            findings.append(Finding(version, "orphan_event", f"{group[0].type} follows no command"))
        else:
            ids = iter([e.event_id for e in group])
            try:
                again = decide(
                    state, command, group[0].actor, now=group[0].at,
                    ids=ids.__next__, request_id=group[0].request_id,
                )
            except DomainError as err:
                findings.append(Finding(version, "rejected_by_rules", str(err)))
            except StopIteration:
                findings.append(Finding(
                    version, "decision_mismatch", "the rules give more events than recorded"
                ))
            else:
                if again != group:
                    at = next(
                        (k for k, (r, a) in enumerate(zip(group, again, strict=False)) if r != a),
                        min(len(group), len(again)),
                    )
                    findings.append(
                        Finding(version + at, "decision_mismatch", _diff(group, again))
                    )
        state = fold(group, state)
    return findings


def _diff(recorded: list[ev.Event], again: list[ev.Event]) -> str:
    if len(recorded) != len(again):
        return (f"recorded {[e.type for e in recorded]}, "
                f"the rules give {[e.type for e in again]}")
    for r, a in zip(recorded, again, strict=True):
        if r != a:
            rd, ad = r.payload(), a.payload()
            keys = sorted(k for k in rd.keys() | ad.keys() if rd.get(k) != ad.get(k))
            return f"{r.type}: {', '.join(keys) or 'envelope'} differ"
    return "differs"
