"""Nomination vote (bình xét, suy tôn): tie breaks, rounds, ballots, the tally, and the leaders'
decision after the last round (DOMAIN.md, Stages 6). The ranking and tally arithmetic live in
domain.ranking and domain.voting."""

from __future__ import annotations

from .. import commands as c
from .. import events as ev
from ..errors import RuleError, StageError
from ..ranking import ranking_entries
from ..voting import candidates, proposals, tally, unresolved_ties
from .context import Ctx, Handler, current_ranking, eligible, gone, known

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
    approve = tuple(dict.fromkeys(cmd.approve))
    return [x.event(ev.BallotCast, round=r.round, voter=voter, approve=approve)]


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
        )
    ]


def leaders_decide(x: Ctx, cmd: c.LeadersDecide) -> list[ev.Event]:
    vote_idle(x)
    assert x.s.ruleset is not None and x.s.block is not None
    if x.s.leaders_decided:
        raise StageError("the leaders have already decided")
    if not cmd.deputy_agrees:
        raise RuleError(
            "deputy_must_agree", "the head and the deputy decide together", "deputy_agrees"
        )
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


HANDLERS: tuple[Handler, ...] = (
    break_tie,
    open_vote_round,
    cast_ballot,
    close_vote_round,
    leaders_decide,
)
"""This stage's commands, in DOMAIN.md's order."""
