"""Pure rules a cycle gets from its block's record: a unit leaving after the year leads nothing
next year; a cycle's deadlines lie in its season; a cancelled cycle reports only what was
decided."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.commands import StartCycle
from domain.scenario import outcome_json
from tests.domain.helpers import T0, Cycle, distinct_scores, start_command

pytestmark = pytest.mark.pure


def leaving(*units: str) -> Cycle:
    start = start_command(5)
    assert isinstance(start, StartCycle)
    fresh = Cycle(5, started=False)
    fresh.do("admin", start.model_copy(update={"leaving_after_year": units}))
    return fresh


def test_a_deputy_leaving_after_the_year_does_not_succeed_the_head_both_are_elected() -> None:
    c = leaving("u2")  # u2 is the deputy
    c.to_vote(distinct_scores(5))
    c.vote_round({v: ["u1", "u2", "u3"] for v in c.state.voters})
    c.do("u1", "open_election")
    el = c.state.election
    assert el is not None and el.mode == "both" and el.head is None
    assert "u2" not in el.head_candidates and "u2" not in el.deputy_candidates
    assert c.code("u3", "cast_election_ballot", head="u2", deputy="u3") == "not_a_candidate"


def test_a_member_leaving_after_the_year_cannot_be_elected_deputy() -> None:
    c = leaving("u4")
    c.to_vote(distinct_scores(5))
    c.vote_round({v: ["u1", "u2", "u3"] for v in c.state.voters})
    c.do("u1", "open_election")
    el = c.state.election
    assert el is not None and el.mode == "deputy_only" and el.head == "u2"
    assert "u4" not in el.deputy_candidates


def test_leaving_units_must_be_members() -> None:
    start = start_command(5)
    assert isinstance(start, StartCycle)
    c = Cycle(5, started=False)
    err = c.reject("admin", start.model_copy(update={"leaving_after_year": ("zz",)}))
    assert (err.code, err.field) == ("not_a_member", "leaving_after_year")


def test_a_2025_cycle_with_2018_deadlines_is_refused_naming_the_deadline() -> None:
    start = start_command(
        5,
        deadlines={
            "pledge": datetime(2018, 3, 31, 10, tzinfo=UTC),
            "scoring": datetime(2019, 2, 28, 10, tzinfo=UTC),
        },
    )
    assert isinstance(start, StartCycle)
    c = Cycle(5, started=False)
    err = c.reject("admin", start.model_copy(update={"year": 2025}))
    assert (err.code, err.field) == ("invalid_deadline", "deadlines.pledge")


def test_the_review_season_of_the_next_year_is_within_the_cycle_and_july_is_not() -> None:
    ok = start_command(
        5,
        deadlines={
            "pledge": datetime(2018, 3, 31, 10, tzinfo=UTC),
            "review": datetime(2019, 6, 30, 10, tzinfo=UTC),
        },
    )
    Cycle(5, started=False).do("admin", ok)
    late = start_command(5, deadlines={"review": datetime(2019, 7, 1, 0, tzinfo=UTC)})
    err = Cycle(5, started=False).reject("admin", late)
    assert (err.code, err.field) == ("invalid_deadline", "deadlines.review")
    early = start_command(5, deadlines={"pledge": datetime(2017, 12, 31, 12, tzinfo=UTC)})
    assert Cycle(5, started=False).code("admin", early) == "invalid_deadline"


def test_a_deadline_cannot_be_extended_out_of_the_season() -> None:
    c = Cycle(5, deadlines={"pledge": T0 + timedelta(days=10)})
    err = c.reject(
        "admin", "extend_deadline", stage="pledge", until=datetime(2019, 8, 1, tzinfo=UTC)
    )
    assert (err.code, err.field) == ("invalid_deadline", "until")


def test_a_cycle_cancelled_while_scoring_reports_no_ranking_and_no_exclusion() -> None:
    c = Cycle(5)
    for u in c.members:
        c.do(u, "sign_pledge", unit=u)
    c.do(
        c.members[0],
        "submit_self_score",
        unit=c.members[0],
        sections=distinct_scores(5)[c.members[0]],
    )
    c.do("admin", "cancel_cycle", reason="Sáp nhập khối")
    out = outcome_json(c.state, [], events=len(c.events), last_hash=None)
    assert out["status"] == "cancelled"
    assert out["ranking"] == [] and out["excluded"] == {} and out["nominations"] == []
    assert out["next_head"] is None


def test_a_cycle_cancelled_after_the_check_keeps_the_ranking_and_the_exclusions() -> None:
    c = Cycle(5)
    c.to_vote(distinct_scores(5), findings={"u5": ["security_order_weak"]})
    c.do("admin", "cancel_cycle", reason="Sáp nhập khối")
    out = outcome_json(c.state, [], events=len(c.events), last_hash=None)
    assert len(out["ranking"]) == 5 and out["ranking"][0]["rank"] == 1
    assert out["excluded"] == {"u5": ["security_order_weak"]}
    assert {r["unit"] for r in out["ranking"] if r["eligible"]} == {"u1", "u2", "u3", "u4"}
    assert out["nominations"] == []
