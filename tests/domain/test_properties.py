"""Hypothesis properties of the pure domain."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from itertools import count
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import Actor, CycleState, DomainError, decide, fold
from domain.events import AdoptedScore, Event, VoteRoundClosed
from domain.ranking import rank_units, score_key
from domain.setup import VoteRules
from domain.voting import tally

from .helpers import T0, Cycle, distinct_scores, start_command
from .random_cycles import check_invariants, check_rejection, draw_command

pytestmark = pytest.mark.pure

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def random_run(data: st.DataObject, steps: int) -> tuple[CycleState, list[Event]]:
    """A cycle driven by `steps` random commands; only accepted ones write events."""
    ids = count(1)
    n = data.draw(st.integers(3, 6))
    state = CycleState()
    events: list[Event] = list(
        decide(state, start_command(n), Actor.admin(), now=T0, ids=lambda: UUID(int=next(ids)))
    )
    state = fold(events)
    for _ in range(steps):
        who, command = draw_command(data.draw, state, T0)
        try:
            new = decide(state, command, Actor.parse(who), now=T0, ids=lambda: UUID(int=next(ids)))
        except DomainError:
            continue
        state = fold(new, state)
        events += new
    return state, events


@FAST
@given(data=st.data())
def test_folding_in_two_chunks_equals_folding_at_once(data: st.DataObject) -> None:
    state, events = random_run(data, data.draw(st.integers(0, 60)))
    cut = data.draw(st.integers(0, len(events)))
    assert fold(events[cut:], fold(events[:cut])) == fold(events) == state
    assert fold(events).version == len(events)


@FAST
@given(data=st.data())
def test_invariants_hold_on_random_runs(data: st.DataObject) -> None:
    state, events = random_run(data, data.draw(st.integers(0, 80)))
    check_invariants(state, events, state.stage)


@FAST
@given(data=st.data())
def test_a_rejected_command_writes_nothing(data: st.DataObject) -> None:
    state, _ = random_run(data, data.draw(st.integers(0, 40)))
    for _ in range(10):
        who, command = draw_command(data.draw, state, T0)
        check_rejection(state, who, command, T0, lambda: UUID(int=0))  # asserts it itself


def _completed() -> Cycle:
    c = Cycle(5)
    c.to_vote(distinct_scores(5))
    c.vote_round({v: ["u1", "u2", "u3"] for v in c.state.voters})
    c.do("u1", "open_election")
    c.election({v: {"deputy": "u3"} for v in c.state.voters})
    assert c.state.stage == "completed"
    return c


def _cancelled() -> Cycle:
    c = Cycle(5)
    c.sign()
    c.do("admin", "cancel_cycle", reason="Khối giải thể")
    return c


CLOSED = {"completed": _completed(), "cancelled": _cancelled()}


@settings(max_examples=200, deadline=None)
@given(which=st.sampled_from(sorted(CLOSED)), data=st.data())
def test_a_closed_cycle_accepts_no_command(which: str, data: st.DataObject) -> None:
    c = CLOSED[which]
    who, command = draw_command(data.draw, c.state, T0)
    err = check_rejection(c.state, who, command, T0, lambda: UUID(int=0))
    assert err is not None
    assert err.code in ("wrong_stage", "not_authorized", "cycle_exists")


# ---- ranking ---------------------------------------------------------------------------------

SECTION_IDS = ("c1", "c2", "c3")
score = st.sampled_from([Decimal(v) for v in ("0", "10", "10.5", "20", "95.25")])


@st.composite
def adopted_scores(draw: st.DrawFn) -> tuple[list[str], dict[str, AdoptedScore]]:
    members = [f"u{i}" for i in range(draw(st.integers(3, 9)))]
    scored = draw(st.lists(st.sampled_from(members), unique=True))
    adopted = {}
    for u in scored:
        secs = {s: draw(score) for s in SECTION_IDS}
        adopted[u] = AdoptedScore(
            sections=secs, total=sum(secs.values(), Decimal(0)), source="self"
        )
    return members, adopted


@settings(max_examples=200, deadline=None)
@given(case=adopted_scores(), data=st.data())
def test_ranking_is_a_permutation_of_the_members(
    case: tuple[list[str], dict[str, AdoptedScore]], data: st.DataObject
) -> None:
    members, adopted = case
    ranked = rank_units(members, adopted, SECTION_IDS)
    assert sorted(ranked.order + ranked.unscored) == sorted(members)
    assert set(ranked.order) == set(adopted)
    keys = [score_key(adopted[u], SECTION_IDS) for u in ranked.order]
    assert keys == sorted(keys, reverse=True)
    for u in ranked.order:  # competition ranking: 1 + the number of units strictly better
        better = sum(
            1
            for v in ranked.order
            if score_key(adopted[v], SECTION_IDS) > score_key(adopted[u], SECTION_IDS)
        )
        assert ranked.rank[u] == better + 1
    # Breaking every tie gives consecutive ranks in the recorded order.
    breaks = [list(data.draw(st.permutations(g))) for g in ranked.tied_groups()]
    broken = rank_units(members, adopted, SECTION_IDS, breaks)
    assert sorted(broken.rank[u] for u in broken.order) == list(range(1, len(broken.order) + 1))
    assert broken.tied_groups() == []
    for order in breaks:
        assert [u for u in broken.order if u in order] == order


# ---- the tally -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    threshold=st.sampled_from(
        [Fraction(1, 2), Fraction(2, 3), Fraction(4, 5), Fraction(1, 100), Fraction(1)]
    ),
    base_kind=st.sampled_from(["voters", "members"]),
    compare=st.sampled_from(["more_than", "at_least"]),
    n_voters=st.integers(0, 9),
    extra_members=st.integers(0, 3),
    open_places=st.lists(st.integers(1, 3), unique=True, min_size=1).map(sorted),
    data=st.data(),
)
def test_confirmed_proposals_have_more_approvals_than_required(
    threshold: Fraction,
    base_kind: str,
    compare: str,
    n_voters: int,
    extra_members: int,
    open_places: list[int],
    data: st.DataObject,
) -> None:
    rules = VoteRules(threshold=threshold, base=base_kind, compare=compare)  # type: ignore[arg-type]
    proposed = [f"p{i}" for i in range(len(open_places))]
    voters = [f"v{i}" for i in range(n_voters)]
    ballots = {
        v: data.draw(st.lists(st.sampled_from(proposed), unique=True))
        for v in data.draw(
            st.lists(st.sampled_from(voters), unique=True) if voters else st.just([])
        )
    }
    base = n_voters if base_kind == "voters" else n_voters + extra_members
    lines = tally(proposed, ballots, base=base, rules=rules, open_places=open_places)
    assert [line.unit for line in lines] == proposed
    need = threshold * base
    for line in lines:
        assert line.approvals == sum(1 for b in ballots.values() if line.unit in b)
        ok = line.approvals >= need if compare == "at_least" else line.approvals > need
        assert line.confirmed == ok
        assert (line.place is not None) == line.confirmed
    confirmed_places = [line.place for line in lines if line.confirmed]
    assert confirmed_places == open_places[: len(confirmed_places)]


@settings(max_examples=40, deadline=None)
@given(
    vote=st.fixed_dictionaries(
        {
            "threshold": st.sampled_from(["1/2", "2/3", "4/5"]),
            "base": st.sampled_from(["voters", "members"]),
            "compare": st.sampled_from(["more_than", "at_least"]),
        }
    ),
    data=st.data(),
)
def test_every_nomination_by_vote_passed_the_threshold(
    vote: dict[str, str], data: st.DataObject
) -> None:
    c = Cycle(6, ruleset={"vote": {**vote, "max_rounds": 3}})
    absent = data.draw(st.lists(st.sampled_from(["u4", "u5", "u6"]), max_size=2, unique=True))
    c.to_vote(distinct_scores(6), absent=absent)
    for _ in range(3):
        if not c.state.open_places():
            break
        try:
            c.do("u1", "open_vote_round")
        except DomainError:
            break
        r = c.state.open_round
        assert r is not None
        for v in r.voters:
            c.do(
                v,
                "cast_ballot",
                approve=data.draw(st.lists(st.sampled_from(r.proposals), unique=True)),
            )
        c.do("u1", "close_vote_round")
    assert c.state.ruleset is not None
    rules = c.state.ruleset.vote
    closes = {e.round: e for e in c.events if isinstance(e, VoteRoundClosed)}
    for n in c.state.nominations:
        assert n.decided_by == "vote" and n.round is not None and n.approvals is not None
        need = rules.threshold * closes[n.round].base
        assert (n.approvals >= need) if rules.compare == "at_least" else (n.approvals > need)
    check_invariants(c.state, c.events, c.state.stage)


def test_folding_in_place_equals_folding_a_copy() -> None:
    from domain.fold import fold, fold_into
    from domain.state import CycleState

    from .test_recheck import reference_log

    log = reference_log()
    state = CycleState()
    for i in range(0, len(log), 7):
        fold_into(state, log[i : i + 7])
    assert state == fold(log)
