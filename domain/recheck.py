"""Recompute every decision: each accepted command's events must be exactly what the rules
give for the state before it.

The events of one command share their envelope (request id, time, actor) and stand together in
the stream. For each such group the command is rebuilt from its first event, decided again on
the state folded from the events before it — with the recorded time and ids — and the result is
compared with what was recorded. Any difference (a tally, an exclusion, a ranking, an outcome)
or a rejection is a finding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from pydantic import BaseModel

from . import commands as c
from . import events as ev
from .decide import decide
from .errors import DomainError
from .fold import fold
from .state import CycleState

__all__ = ["BY_NAME", "FOLLOWERS", "IRREGULAR", "REBUILD", "Finding", "recheck"]


@dataclass(frozen=True)
class Finding:
    version: int
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"version {self.version}: {self.kind}: {self.detail}"


_Rebuild = Callable[[Any], c.Command]

BY_NAME: dict[type[ev.Event], type[BaseModel]] = {
    ev.CycleStarted: c.StartCycle,
    ev.PledgeSigned: c.SignPledge,
    ev.SelfScoreSubmitted: c.SubmitSelfScore,
    ev.ScoreVerified: c.VerifyScore,
    ev.ReviewHeld: c.HoldReview,
    ev.ScoreCorrected: c.CorrectScore,
    ev.FindingRecorded: c.RecordFinding,
    ev.FindingWithdrawn: c.WithdrawFinding,
    ev.DisciplineCheckClosed: c.CloseDisciplineCheck,
    ev.TieBroken: c.BreakTie,
    ev.VoteRoundOpened: c.OpenVoteRound,
    ev.BallotCast: c.CastBallot,
    ev.VoteRoundClosed: c.CloseVoteRound,
    ev.ElectionOpened: c.OpenElection,
    ev.ElectionBallotCast: c.CastElectionBallot,
    ev.ElectionRoundClosed: c.CloseElection,
    ev.LeadersAppointed: c.AppointLeaders,
    ev.DeadlineExtended: c.ExtendDeadline,
    ev.DeadlineMissed: c.ExpireDeadline,
    ev.CycleCancelled: c.CancelCycle,
}
"""`{event class: its command}` where every field of the command (but `do`) is a field of the
event of the same name: the command is rebuilt from those (a field added to both is carried
without a change here; tests/domain/test_structure.py checks the names)."""

IRREGULAR: dict[type[ev.Event], _Rebuild] = {
    ev.PledgeClosed: lambda e: (
        c.ExpireDeadline(stage="pledge") if e.reason == "deadline" else c.ClosePledge(note=e.note)
    ),
    ev.ScoringClosed: lambda e: (
        c.ExpireDeadline(stage="scoring") if e.reason == "deadline" else c.CloseScoring(note=e.note)
    ),
    ev.LeadersAgreed: lambda e: c.LeadersDecide(
        places=tuple(c.PlaceChoice(place=p, unit=u) for p, u in e.places.items()),
    ),
}
"""The events whose command is not a copy of their fields, rebuilt by hand."""


def _by_name(command: type[BaseModel]) -> _Rebuild:
    names = [n for n in command.model_fields if n != "do"]
    return lambda e: cast("c.Command", command(**{n: getattr(e, n) for n in names}))


REBUILD: dict[type[ev.Event], _Rebuild] = {
    **{event: _by_name(command) for event, command in BY_NAME.items()},
    **IRREGULAR,
}
"""`{event class: the command that produced it, rebuilt from the event}` for every event that
can come first in a command's group."""

FOLLOWERS: frozenset[str] = frozenset({"cycle_completed", "leaders_decided"})
"""Event types that only ever follow another event of the same command."""


def _command(e: ev.Event) -> c.Command | None:
    rebuild = REBUILD.get(type(e))
    return None if rebuild is None else rebuild(e)


def _automatic(e: ev.Event) -> bool:
    """An event that follows from another command by itself (Ctx.automatic)."""
    return isinstance(e, ev.PledgeClosed) and e.reason == "all_signed"


def _groups(events: Sequence[ev.Event]) -> list[tuple[int, list[ev.Event]]]:
    """Events of one command: contiguous, with the same request id, time and actor (every
    command carries a request id in the workflow) — or credited to the system when they follow
    from the command by themselves (domain.rules.context.Ctx.automatic)."""
    out: list[tuple[int, list[ev.Event]]] = []
    for i, e in enumerate(events):
        if out and not isinstance(e, ev.CycleStarted):
            first = out[-1][1][0]
            same = (first.request_id, first.at) == (e.request_id, e.at)
            if same and (e.actor == first.actor or (e.actor.kind == "system" and _automatic(e))):
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
            try:
                again = _again(state, command, group, system_credit=True)
                if again != group:  # a chain written before the system was credited
                    legacy = _again(state, command, group, system_credit=False)
                    if legacy == group:
                        again = legacy
            except DomainError as err:
                findings.append(Finding(version, "rejected_by_rules", str(err)))
            except StopIteration:
                findings.append(
                    Finding(
                        version, "decision_mismatch", "the rules give more events than recorded"
                    )
                )
            else:
                if again != group:
                    at = next(
                        (k for k, (r, a) in enumerate(zip(group, again, strict=False)) if r != a),
                        min(len(group), len(again)),
                    )
                    findings.append(Finding(version + at, "decision_mismatch", _diff(group, again)))
        state = fold(group, state)
    return findings


def _again(
    state: CycleState, command: c.Command, group: list[ev.Event], *, system_credit: bool
) -> list[ev.Event]:
    ids = iter([e.event_id for e in group])
    return decide(
        state,
        command,
        group[0].actor,
        now=group[0].at,
        ids=ids.__next__,
        request_id=group[0].request_id,
        system_credit=system_credit,
    )


def _diff(recorded: list[ev.Event], again: list[ev.Event]) -> str:
    if len(recorded) != len(again):
        return f"recorded {[e.type for e in recorded]}, the rules give {[e.type for e in again]}"
    for r, a in zip(recorded, again, strict=True):
        if r != a:
            rd, ad = r.payload(), a.payload()
            keys = sorted(k for k in rd.keys() | ad.keys() if rd.get(k) != ad.get(k))
            return f"{r.type}: {', '.join(keys) or 'envelope'} differ"
    return "differs"
