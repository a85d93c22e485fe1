"""DOMAIN.md's rules on who acts for whom, the order of the vote and the election, the leaders'
two acts, closed cycles, and the ruleset's bounds on repeated acts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from domain import pending_actions
from domain.commands import COMMAND_NAMES
from domain.decide import refusal
from domain.recheck import recheck
from domain.values import Actor

from .helpers import T0, Cycle, cmd, distinct_scores, secs

pytestmark = pytest.mark.pure


# ---- the review is recorded by the head; by the deputy only when the head unit is absent ------


def test_deputy_may_not_record_the_review_while_the_head_is_present() -> None:
    c = Cycle()
    c.to_review(distinct_scores(5))
    assert c.code("u2", "hold_review", held_on="2019-03-08", present=list(c.members)) == (
        "not_authorized"
    )
    assert c.code("u3", "hold_review", held_on="2019-03-08", present=list(c.members)) == (
        "not_authorized"
    )
    c.review(by="u1")
    assert c.state.stage == "discipline"


def test_deputy_records_the_review_when_the_head_unit_is_absent() -> None:
    c = Cycle()
    c.to_review(distinct_scores(5))
    c.review(absent=["u1"], by="u2")
    assert c.state.chair == "u2"


# ---- the election opens only after the vote --------------------------------------------------


def test_election_needs_a_closed_vote_round() -> None:
    c = Cycle()
    c.to_vote(distinct_scores(5))
    assert c.code("u1", "open_election") == "vote_not_held"
    c.do("u1", "open_vote_round")
    assert c.code("u1", "open_election") == "round_open"
    c.all_approve()
    c.do("u1", "close_vote_round")
    c.do("u1", "open_election")
    assert c.state.stage == "election"


def test_without_eligible_units_the_vote_is_not_required_first() -> None:
    c = Cycle()
    c.to_vote(distinct_scores(5), findings={u: ["legal_violation"] for u in c.members})
    assert c.code(c.chair, "open_vote_round") == "no_candidates"
    # no vote_not_held: the election's own rule answers (nobody can be elected either)
    assert c.code(c.chair, "open_election") == "no_candidates"


# ---- leaders_decide: two acts, either order, the same places ----------------------------------


class Ticking(Cycle):
    """Each command a minute after the last, so recheck can tell the commands apart."""

    def do(self, who: str, command: Any, **fields: Any) -> list[Any]:
        self.tick(minutes=1)
        return super().do(who, command, **fields)


def spent() -> Cycle:
    """7 units: u1 nominated in round 1; round 2 rejects its proposals; u6, u7 remain."""
    c = Ticking(7)
    c.to_vote(distinct_scores(7))
    c.vote_round({v: ["u1"] for v in c.state.voters})
    c.vote_round({})
    return c


@pytest.mark.parametrize(("first", "second"), [("u1", "u2"), ("u2", "u1")])
def test_leaders_decide_by_two_acts_in_either_order(first: str, second: str) -> None:
    c = spent()
    places = [{"place": 2, "unit": "u6"}, {"place": 3, "unit": "u7"}]
    agreed = c.do(first, "leaders_decide", places=places)
    assert [(e.type, e.unit) for e in agreed] == [("leaders_agreed", first)]  # type: ignore[union-attr]
    assert not c.state.leaders_decided and len(c.state.nominations) == 1
    decided = c.do(second, "leaders_decide", places=list(reversed(places)))
    assert [e.type for e in decided] == ["leaders_agreed", "leaders_decided"]
    assert c.state.leaders_decided
    assert [(n.place, n.unit, n.decided_by) for n in c.state.nominations] == [
        (1, "u1", "vote"), (2, "u6", "leaders"), (3, "u7", "leaders"),
    ]  # fmt: skip
    c.do("u1", "open_election")
    assert recheck(c.events) == []


def test_leaders_who_disagree_record_nothing_until_one_revises() -> None:
    c = spent()
    c.do("u1", "leaders_decide", places=[{"place": 2, "unit": "u6"}])
    err = c.reject("u2", "leaders_decide", places=[{"place": 2, "unit": "u7"}])
    assert (err.code, err.field) == ("leaders_disagree", "places")
    c.do("u1", "leaders_decide", places=[{"place": 2, "unit": "u7"}])  # the head revises
    assert c.state.leaders_agreed == {"u1": {2: "u7"}}
    c.do("u2", "leaders_decide", places=[{"place": 2, "unit": "u7"}])
    assert [n.unit for n in c.state.nominations] == ["u1", "u7"]
    assert recheck(c.events) == []


def test_the_leaders_are_the_chair_and_the_other_of_head_and_deputy() -> None:
    c = Cycle(7)
    c.to_vote(distinct_scores(7), absent=["u1"])
    assert c.state.leaders == ("u2", "u1")
    c.vote_round({v: ["u2"] for v in c.state.voters})
    c.vote_round({})
    assert c.code("u3", "leaders_decide", places=[{"place": 2, "unit": "u6"}]) == ("not_authorized")
    c.do("u1", "leaders_decide", places=[{"place": 2, "unit": "u6"}])
    assert pending_actions(c.state) == {"u2": ["leaders_decide"]}
    c.do("u2", "leaders_decide", places=[{"place": 2, "unit": "u6"}])
    assert c.state.leaders_decided


def test_deputy_agrees_is_no_longer_a_field() -> None:
    with pytest.raises(ValidationError) as info:
        cmd("leaders_decide", places=[{"place": 1, "unit": "u1"}], deputy_agrees=True)
    assert "deputy_agrees" in str(info.value)


# ---- a closed cycle: who may not act hears not_authorized, the others wrong_stage --------------


def completed() -> Cycle:
    c = Cycle()
    c.to_vote(distinct_scores(5))
    c.do("u1", "open_vote_round")
    c.all_approve()
    c.do("u1", "close_vote_round")
    c.do("u1", "open_election")
    c.election({v: {"deputy": "u3"} for v in c.state.voters})
    assert c.state.stage == "completed"
    return c


def cancelled() -> Cycle:
    c = Cycle()
    c.sign()
    c.do("admin", "cancel_cycle", reason="the block was dissolved")
    return c


SAMPLES: dict[str, tuple[dict[str, Any], set[str]]] = {
    "start_cycle": ({}, {"admin"}),
    "sign_pledge": ({"unit": "u3"}, {"u3"}),
    "close_pledge": ({}, {"u1"}),
    "submit_self_score": ({"unit": "u3", "sections": secs(500)}, {"u3"}),
    "verify_score": ({"unit": "u3", "sections": secs(500)}, {"u1"}),
    "close_scoring": ({}, {"u1"}),
    "hold_review": (
        {"held_on": "2019-03-08", "present": ["u1", "u2", "u3", "u4", "u5"]},
        {"u1"},
    ),
    "correct_score": ({"unit": "u3", "sections": secs(500), "note": "x"}, {"u1"}),
    "record_finding": ({"unit": "u3", "kind": "other", "reference": "x"}, {"u1", "admin"}),
    "withdraw_finding": ({"unit": "u3", "kind": "other"}, {"u1", "admin"}),
    "close_discipline_check": ({}, {"u1"}),
    "break_tie": ({"order": ["u3", "u4"]}, {"u1"}),
    "open_vote_round": ({}, {"u1"}),
    "cast_ballot": ({"approve": []}, {"u1", "u2", "u3", "u4", "u5"}),
    "close_vote_round": ({}, {"u1"}),
    "leaders_decide": ({"places": [{"place": 2, "unit": "u4"}]}, {"u1", "u2"}),
    "open_election": ({}, {"u1"}),
    "cast_election_ballot": ({"deputy": "u3"}, {"u1", "u2", "u3", "u4", "u5"}),
    "close_election": ({}, {"u1"}),
    "appoint_leaders": ({"head": "u2", "deputy": "u3"}, {"admin"}),
    "extend_deadline": ({"stage": "vote", "until": "2030-01-01T00:00:00Z"}, {"admin"}),
    "cancel_cycle": ({"reason": "x"}, {"admin"}),
    "expire_deadline": ({"stage": "vote"}, {"system"}),
}
ACTORS = ("admin", "auditor", "system", "u1", "u2", "u3", "u4", "u5", "zz")


def test_every_command_has_a_closed_cycle_sample() -> None:
    assert sorted(SAMPLES) == sorted(COMMAND_NAMES)


@pytest.mark.parametrize("closed", [completed, cancelled], ids=lambda f: f.__name__)
@pytest.mark.parametrize("do", sorted(SAMPLES))
def test_closed_cycle_answers_not_authorized_before_wrong_stage(closed: Any, do: str) -> None:
    c = closed()
    fields, allowed = SAMPLES[do]
    if do == "start_cycle":
        fields = {k: v for k, v in cmd("start_cycle", **_start()).model_dump().items() if k != "do"}
    for who in ACTORS:
        code = c.code(who, do, **fields)
        if who in allowed:
            assert code == ("cycle_exists" if do == "start_cycle" else "wrong_stage"), who
        else:
            assert code == "not_authorized", who


@pytest.mark.parametrize("closed", [completed, cancelled], ids=lambda f: f.__name__)
def test_refusal_is_what_decide_answers(closed: Any) -> None:
    """domain.decide.refusal: the error decide raises, None for an accepted command (the client
    judges a cycle whose workflow has ended with it)."""
    c = closed()
    for who in ACTORS:
        err = refusal(c.state, cmd("close_election"), Actor.parse(who), now=c.now)
        assert err is not None and err.code == c.code(who, "close_election")
    live = Cycle()
    assert (
        refusal(live.state, cmd("sign_pledge", unit="u3"), Actor.parse("u3"), now=live.now) is None
    )


def _start() -> dict[str, Any]:
    from .helpers import start_command

    return {k: v for k, v in start_command().model_dump().items() if k != "do"}


# ---- bounds on repeated acts -----------------------------------------------------------------


def test_self_score_resubmissions_are_bounded_by_default_to_one_plus_twenty() -> None:
    c = Cycle()
    c.sign()
    for i in range(21):
        c.do("u3", "submit_self_score", unit="u3", sections=secs(500 + i))
    err = c.reject("u3", "submit_self_score", unit="u3", sections=secs(590))
    assert (err.code, err.field) == ("too_many_resubmissions", "unit")
    assert "at most 21" in err.message
    c.do("u4", "submit_self_score", unit="u4", sections=secs(500))  # per unit


def test_corrections_per_unit_are_bounded() -> None:
    c = Cycle(ruleset={"max_corrections": 2})
    c.to_review(distinct_scores(5))
    c.review()
    for v in (400, 401):
        c.do("u1", "correct_score", unit="u3", sections=secs(v), note="sai số")
    err = c.reject("u1", "correct_score", unit="u3", sections=secs(402), note="sai số")
    assert (err.code, err.field) == ("limit_reached", "unit")
    c.do("u1", "correct_score", unit="u4", sections=secs(402), note="sai số")


def test_record_and_withdraw_of_one_finding_are_bounded() -> None:
    c = Cycle(ruleset={"max_finding_changes": 3})
    c.to_review(distinct_scores(5))
    c.review()
    c.do("admin", "record_finding", unit="u3", kind="other", reference="BB 1")
    c.do("admin", "withdraw_finding", unit="u3", kind="other")
    c.do("admin", "record_finding", unit="u3", kind="other", reference="BB 2")
    err = c.reject("admin", "withdraw_finding", unit="u3", kind="other")
    assert (err.code, err.field) == ("limit_reached", "kind")
    c.do("admin", "record_finding", unit="u3", kind="court_conclusion", reference="BA 1")


def test_deadline_extensions_per_stage_are_bounded_by_default_to_five() -> None:
    c = Cycle(deadlines={"pledge": T0 + timedelta(days=10), "scoring": T0 + timedelta(days=40)})
    for d in range(5):
        c.do("admin", "extend_deadline", stage="pledge", until=T0 + timedelta(days=11 + d))
    err = c.reject("admin", "extend_deadline", stage="pledge", until=T0 + timedelta(days=30))
    assert (err.code, err.field) == ("limit_reached", "stage")
    c.do("admin", "extend_deadline", stage="scoring", until=T0 + timedelta(days=41))


def test_bounds_are_ruleset_parameters_within_range() -> None:
    with pytest.raises(ValidationError):
        Cycle(ruleset={"max_resubmissions": -1})
    assert Cycle(ruleset={"max_resubmissions": 0}).state.ruleset.max_resubmissions == 0  # type: ignore[union-attr]
