"""Election of next year's head and deputy: opening, ballots, the count with its run-off, and
the admin's appointment after a failed run-off (DOMAIN.md, Stages 7). Counting helpers live in
domain.election."""

from __future__ import annotations

from .. import commands as c
from .. import events as ev
from ..election import count, majority_winner, runoff_pair
from ..errors import RuleError, StageError
from .context import Ctx, Handler, build_outcome, current_ranking, eligible, known
from .vote import vote_idle

__all__ = ["HANDLERS", "appoint_leaders", "cast_election_ballot", "close_election", "open_election"]


def open_election(x: Ctx, cmd: c.OpenElection) -> list[ev.Event]:
    vote_idle(x)
    assert x.s.ruleset is not None and x.s.block is not None
    if not any(r.closed for r in x.s.rounds) and eligible(x.s):
        raise RuleError("vote_not_held", "the vote comes first: close at least one vote round")
    excluded = x.s.excluded or {}
    # a unit not in the block next year can lead it neither as head nor as deputy
    allowed = [u for u in x.s.members if u not in excluded and u not in x.s.leaving]
    successor = x.s.block.deputy
    if x.s.ruleset.rotation == "deputy_succeeds" and successor in allowed:
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


def cast_election_ballot(x: Ctx, cmd: c.CastElectionBallot) -> list[ev.Event]:
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


def close_election(x: Ctx, cmd: c.CloseElection) -> list[ev.Event]:
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


def appoint_leaders(x: Ctx, cmd: c.AppointLeaders) -> list[ev.Event]:
    x.admin()
    x.stage("election")
    el = x.s.election
    assert el is not None
    if not el.failed:
        raise RuleError("election_not_failed", "leaders are appointed only after a failed run-off")
    excluded = x.s.excluded or {}
    for field, unit in (("head", cmd.head), ("deputy", cmd.deputy)):
        known(x.s, unit, field)
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


HANDLERS: tuple[Handler, ...] = (
    open_election,
    cast_election_ballot,
    close_election,
    appoint_leaders,
)
"""This stage's commands, in DOMAIN.md's order."""
