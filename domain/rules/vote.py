"""Nomination vote (bình xét, suy tôn): tie breaks, rounds, ballots, the tally, and the leaders'
decision after the last round (DOMAIN.md, Stages 6). The ranking and tally arithmetic live in
domain.ranking and domain.voting."""

from __future__ import annotations

from .. import commands as c
from .. import events as ev
from ..errors import AuthorizationError, RuleError, StageError
from ..ranking import ranking_entries
from ..voting import candidates, proposals, tally, unresolved_ties
from .context import Ctx, Handler, current_ranking, eligible, gone, known, within

__all__ = [
    "HANDLERS",
    "break_tie",
    "cast_ballot",
    "close_vote_round",
    "leaders_decide",
    "open_vote_round",
]


def vote_idle(x: Ctx) -> None:
    """The chair acts in the vote stage between rounds."""
    x.chair()
    x.stage("vote")
    if x.s.open_round is not None:
        raise RuleError("round_open", f"vote round {x.s.open_round.round} is still open")


def break_tie(x: Ctx, cmd: c.BreakTie) -> list[ev.Event]:
    vote_idle(x)
    if x.s.leaders_decided:
        raise StageError("the leaders have decided; the vote is over")
    for i, u in enumerate(cmd.order):
        known(x.s, u, f"order[{i}]")
    ranked = current_ranking(x.s)
    group = next((g for g in ranked.tied_groups() if cmd.order[0] in g), None)
    if group is None or sorted(group) != sorted(cmd.order) or len(set(cmd.order)) != len(cmd.order):
        groups = "; ".join(", ".join(g) for g in ranked.tied_groups()) or "none"
        raise RuleError(
            "not_tied", f"the order must list exactly one group of tied units ({groups})", "order"
        )
    return [x.event(ev.TieBroken, order=cmd.order)]


def open_vote_round(x: Ctx, cmd: c.OpenVoteRound) -> list[ev.Event]:
    vote_idle(x)
    assert x.s.ruleset is not None
    if x.s.leaders_decided:
        raise StageError("the leaders have decided; the vote is over")
    places = x.s.open_places()
    if not places:
        raise RuleError("no_open_places", "every place is already filled")
    if len(x.s.rounds) >= x.s.ruleset.vote.max_rounds:
        raise RuleError("max_rounds_reached", f"at most {x.s.ruleset.vote.max_rounds} rounds")
    ranked = current_ranking(x.s)
    allowed = eligible(x.s)
    cands = candidates(ranked, allowed, gone(x.s))
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
            ranking=ranking_entries(ranked, x.s.adopted, allowed),
        )
    ]


def cast_ballot(x: Ctx, cmd: c.CastBallot) -> list[ev.Event]:
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
        if u in cmd.approve[:i]:
            raise RuleError("duplicate_choice", f"{u} is approved twice", f"approve[{i}]")
    return [x.event(ev.BallotCast, round=r.round, voter=voter, approve=cmd.approve)]


def close_vote_round(x: Ctx, cmd: c.CloseVoteRound) -> list[ev.Event]:
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
            note=cmd.note,
        )
    ]


def leaders_decide(x: Ctx, cmd: c.LeadersDecide) -> list[ev.Event]:
    """Each of the two leaders agrees by its own act; the places are filled once both have
    sent the same places (DOMAIN.md, Stages 6)."""
    assert x.s.ruleset is not None and x.s.block is not None
    assert x.s.leaders is not None
    head, deputy = x.s.leaders
    me = x.member()
    if me not in (head, deputy):
        raise AuthorizationError(f"the places are decided by {head} and {deputy} together")
    x.stage("vote")
    if x.s.open_round is not None:
        raise RuleError("round_open", f"vote round {x.s.open_round.round} is still open")
    if x.s.leaders_decided:
        raise StageError("the leaders have already decided")
    cands = candidates(current_ranking(x.s), eligible(x.s), gone(x.s))
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
    other = deputy if me == head else head
    theirs = x.s.leaders_agreed.get(other)
    if theirs is not None and theirs != chosen:
        agreed = ", ".join(f"{p}: {u}" for p, u in sorted(theirs.items()))
        raise RuleError("leaders_disagree", f"{other} agreed to other places ({agreed})", "places")
    within(x.s, "leaders", me, limit=1 + x.s.ruleset.max_resubmissions, field="places")
    out: list[ev.Event] = [x.event(ev.LeadersAgreed, unit=me, places=chosen)]
    if theirs is not None:
        out.append(
            x.event(
                ev.LeadersDecided,
                places=chosen,
                head=head,
                head_name=x.s.block.name_of(head),
                deputy=deputy,
                deputy_name=x.s.block.name_of(deputy),
            )
        )
    return out


HANDLERS: tuple[Handler, ...] = (
    break_tie,
    open_vote_round,
    cast_ballot,
    close_vote_round,
    leaders_decide,
)
"""This stage's commands, in DOMAIN.md's order."""
