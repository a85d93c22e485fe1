"""Example-based tests of DOMAIN.md's rules, one behaviour per test."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import pending_actions, reminders
from domain.events import (
    DeadlineMissed,
    ElectionRoundClosed,
    LeadersDecided,
    PledgeClosed,
    ScoringClosed,
    VoteRoundClosed,
)

from .helpers import T0, Cycle, cmd, distinct_scores, ranks, secs

pytestmark = pytest.mark.pure


def nominated(c: Cycle) -> list[tuple[int, str, str]]:
    return [(n.place, n.unit, n.decided_by) for n in c.state.nominations]


# ---- ranking ---------------------------------------------------------------------------------


def test_equal_scores_share_a_rank_competition_style() -> None:
    c = Cycle(5)
    scores = distinct_scores(5)
    scores["u2"] = scores["u1"]
    c.to_review(scores)
    c.review()
    assert ranks(c.state) == {"u1": 1, "u2": 1, "u3": 3, "u4": 4, "u5": 5}


def test_equal_totals_are_ordered_by_sections_in_sheet_order() -> None:
    c = Cycle(5)
    scores = distinct_scores(5)
    scores["u1"] = secs(550, 200, 150)  # 900
    scores["u2"] = secs(560, 190, 150)  # 900, better c1
    scores["u3"] = secs(550, 190, 160)  # 900, same c1 as u1, worse c2
    c.to_review(scores)
    c.review()
    assert ranks(c.state) == {"u2": 1, "u1": 2, "u3": 3, "u4": 4, "u5": 5}


def test_unscored_units_are_listed_last_without_rank() -> None:
    c = Cycle(5)
    scores = distinct_scores(5)
    del scores["u1"]
    c.to_vote(scores)
    c.do("u2", "open_vote_round")  # the head is excluded (not scored): the deputy chairs
    ranking = c.events[-1].ranking  # type: ignore[union-attr]
    assert [(r.unit, r.rank, r.eligible) for r in ranking][-1] == ("u1", None, False)
    assert c.state.excluded == {"u1": ["not_scored"]}


def test_break_tie_gives_consecutive_ranks_in_the_recorded_order() -> None:
    c = Cycle(5)
    scores = distinct_scores(5)
    scores["u2"] = scores["u1"]
    c.to_vote(scores)
    assert c.code("u1", "open_vote_round") == "unresolved_tie"
    c.do("u1", "break_tie", order=["u2", "u1"])
    assert ranks(c.state)["u2"] == 1 and ranks(c.state)["u1"] == 2
    opened = c.do("u1", "open_vote_round")[0]
    assert opened.proposals == ("u2", "u1", "u3")  # type: ignore[union-attr]


def test_break_tie_must_name_the_whole_tied_group() -> None:
    c = Cycle(5)
    scores = distinct_scores(5)
    scores["u2"] = scores["u3"] = scores["u1"]
    c.to_vote(scores)
    assert c.code("u1", "break_tie", order=["u2", "u1"]) == "not_tied"
    assert c.code("u1", "break_tie", order=["u2", "u1", "u1"]) == "not_tied"
    c.do("u1", "break_tie", order=["u3", "u1", "u2"])
    assert ranks(c.state) == {"u3": 1, "u1": 2, "u2": 3, "u4": 4, "u5": 5}


def test_tie_deciding_who_is_proposed_must_be_broken() -> None:
    c = Cycle(5)
    scores = distinct_scores(5)
    scores["u4"] = scores["u3"]  # ranks 3 and 3, three places: who is third?
    c.to_vote(scores)
    err = c.reject("u1", "open_vote_round")
    assert err.code == "unresolved_tie" and "u3" in err.message and "u4" in err.message


def test_tie_below_the_proposals_needs_no_break() -> None:
    c = Cycle(6)
    scores = distinct_scores(6)
    scores["u5"] = scores["u4"]
    c.to_vote(scores)
    opened = c.do("u1", "open_vote_round")[0]
    assert opened.proposals == ("u1", "u2", "u3")  # type: ignore[union-attr]


def test_tie_with_an_excluded_unit_needs_no_break() -> None:
    c = Cycle(5)
    scores = distinct_scores(5)
    scores["u4"] = scores["u3"]
    c.to_vote(scores, findings={"u4": ["court_conclusion"]})
    opened = c.do("u1", "open_vote_round")[0]
    assert opened.proposals == ("u1", "u2", "u3")  # type: ignore[union-attr]


def test_tie_in_a_later_round_must_be_broken_then() -> None:
    c = Cycle(6)
    scores = distinct_scores(6)
    scores["u5"] = scores["u4"]
    c.to_vote(scores)
    c.vote_round({v: ["u1", "u2"] for v in c.state.voters})  # u3 rejected: one place left
    assert c.code("u1", "open_vote_round") == "unresolved_tie"
    c.do("u1", "break_tie", order=["u5", "u4"])
    assert c.do("u1", "open_vote_round")[0].proposals == ("u5",)  # type: ignore[union-attr]


# ---- vote rounds -----------------------------------------------------------------------------


def test_confirmed_units_take_places_in_ranking_order_and_rejected_leave() -> None:
    c = Cycle(6)
    c.to_vote(distinct_scores(6))
    closed = c.vote_round({v: ["u1", "u3"] for v in c.state.voters})[0]
    assert isinstance(closed, VoteRoundClosed)
    assert [(t.unit, t.confirmed, t.place) for t in closed.tally] == [
        ("u1", True, 1),
        ("u2", False, None),
        ("u3", True, 2),
    ]
    assert c.state.rejected == ["u2"]
    c.do("u1", "open_vote_round")
    assert c.state.open_round is not None and c.state.open_round.proposals == ["u4"]
    c.all_approve()
    c.do("u1", "close_vote_round")
    assert nominated(c) == [(1, "u1", "vote"), (2, "u3", "vote"), (3, "u4", "vote")]
    assert [n.round for n in c.state.nominations] == [1, 1, 2]
    assert c.code("u1", "open_vote_round") == "no_open_places"


def test_a_voter_who_does_not_cast_approves_nothing() -> None:
    c = Cycle(5)
    c.to_vote(distinct_scores(5))
    closed = c.vote_round({"u1": ["u1", "u2", "u3"], "u2": ["u1"], "u3": ["u1"]})[0]
    assert isinstance(closed, VoteRoundClosed)
    assert (closed.voters, closed.ballots, closed.base) == (5, 3, 5)
    assert [(t.unit, t.approvals, t.confirmed) for t in closed.tally] == [
        ("u1", 3, True),
        ("u2", 1, False),
        ("u3", 1, False),
    ]


def test_exactly_half_is_not_more_than_half() -> None:
    c = Cycle(4)
    c.to_vote(distinct_scores(4))
    closed = c.vote_round({"u1": ["u1"], "u2": ["u1"]})[0]
    assert next(t.confirmed for t in closed.tally) is False  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("vote", "approvals", "confirmed"),
    [
        ({}, 2, False),  # 2 > 1/2 × 4 voters? no
        ({"compare": "at_least"}, 2, True),  # 2 ≥ 2
        ({"base": "members"}, 3, True),  # 3 > 2.5
        ({"base": "members", "compare": "at_least"}, 2, False),  # 2 ≥ 2.5? no
        ({"threshold": "4/5", "base": "members", "compare": "at_least"}, 4, True),
        ({"threshold": "4/5", "base": "members", "compare": "at_least"}, 3, False),
        ({"threshold": "0.8", "base": "voters", "compare": "at_least"}, 4, True),  # 4 ≥ 3.2
        ({"threshold": "0.8", "base": "voters"}, 3, False),  # 3 > 3.2? no
    ],
)
def test_threshold_variants(vote: dict[str, str], approvals: int, confirmed: bool) -> None:
    """Five members, one absent without a written opinion: four voters."""
    c = Cycle(5, ruleset={"vote": vote})
    c.to_vote(distinct_scores(5), absent=["u5"])
    voters = c.state.voters
    assert voters == ["u1", "u2", "u3", "u4"]
    ballots = {v: (["u1"] if i < approvals else []) for i, v in enumerate(voters)}
    if approvals > len(voters):
        ballots = {v: ["u1"] for v in voters}
    closed = c.vote_round(ballots)[0]
    assert isinstance(closed, VoteRoundClosed)
    line = closed.tally[0]
    assert (line.unit, line.approvals, line.confirmed) == ("u1", min(approvals, 4), confirmed)
    assert closed.base == (5 if vote.get("base") == "members" else 4)


def test_eighty_percent_of_all_members() -> None:
    c = Cycle(5, ruleset={"vote": {"threshold": "4/5", "base": "members", "compare": "at_least"}})
    c.to_vote(distinct_scores(5), absent=["u5"], written=["u5"])
    c.vote_round({v: ["u1", "u2"] if v in ("u1", "u2", "u3") else ["u1"] for v in c.state.voters})
    assert nominated(c) == [(1, "u1", "vote")]
    assert c.state.rejected == ["u2", "u3"]


@pytest.mark.parametrize("counted", [True, False])
def test_written_opinions_make_an_absent_unit_a_voter_only_when_counted(counted: bool) -> None:
    c = Cycle(6, ruleset={"vote": {"written_opinions": counted}})
    c.to_vote(distinct_scores(6), absent=["u4", "u5"], written=["u5"])
    c.do("u1", "open_vote_round")
    if counted:
        assert c.state.voters == ["u1", "u2", "u3", "u5", "u6"]
        c.do("u5", "cast_ballot", approve=["u1"])
    else:
        assert c.state.voters == ["u1", "u2", "u3", "u6"]
        assert c.code("u5", "cast_ballot", approve=["u1"]) == "not_entitled_to_vote"
    assert c.code("u4", "cast_ballot", approve=["u1"]) == "not_entitled_to_vote"


def test_quorum_is_a_ruleset_parameter() -> None:
    c = Cycle(8, ruleset={"quorum": "3/4"})
    c.to_review(distinct_scores(8))
    assert c.reject("u1", "hold_review", held_on="2019-03-08", present=c.members[:5],
                    absent=[{"unit": u} for u in c.members[5:]]).code == "quorum_not_met"  # fmt: skip
    held = c.review(absent=["u7", "u8"])[0]
    assert held.quorum_required == 6  # type: ignore[union-attr]


def test_default_quorum_of_the_seed_seven_of_eight() -> None:
    c = Cycle(8)
    c.to_review(distinct_scores(8))
    assert c.code("u1", "hold_review", held_on="2019-03-08", present=c.members[:5],
                  absent=[{"unit": u} for u in c.members[5:]]) == "quorum_not_met"  # fmt: skip
    held = c.review(absent=["u8"])[0]
    assert held.quorum_required == 6  # type: ignore[union-attr]


def test_max_rounds_then_leaders_decide_with_both_names() -> None:
    c = Cycle(7)
    c.to_vote(distinct_scores(7))
    c.vote_round({v: ["u1"] for v in c.state.voters})
    assert c.code("u1", "leaders_decide",
                  places=[{"place": 2, "unit": "u4"}]) == "rounds_remaining"  # fmt: skip
    c.vote_round({})
    assert c.code("u1", "open_vote_round") == "max_rounds_reached"
    assert c.code("u3", "leaders_decide",
                  places=[{"place": 2, "unit": "u6"}]) == "not_authorized"  # fmt: skip
    first = c.do("u1", "leaders_decide", places=[{"place": 3, "unit": "u6"}])
    assert [e.type for e in first] == ["leaders_agreed"]
    assert nominated(c) == [(1, "u1", "vote")]
    decided = c.do("u2", "leaders_decide", places=[{"place": 3, "unit": "u6"}])
    assert [e.type for e in decided] == ["leaders_agreed", "leaders_decided"]
    event = decided[1]
    assert isinstance(event, LeadersDecided)
    assert (event.head, event.deputy) == ("u1", "u2")
    assert (event.head_name, event.deputy_name) == ("Đơn vị u1", "Đơn vị u2")
    assert nominated(c) == [(1, "u1", "vote"), (3, "u6", "leaders")]
    assert c.state.nominations[1].approvals is None
    assert c.code("u1", "open_vote_round") == "wrong_stage"
    assert c.code("u1", "leaders_decide",
                  places=[{"place": 2, "unit": "u7"}]) == "wrong_stage"  # fmt: skip
    c.do("u1", "open_election")  # place 2 stays empty
    assert c.state.stage == "election"


def test_leaders_may_decide_at_once_when_no_candidate_remains() -> None:
    c = Cycle(5)
    c.to_vote(distinct_scores(5), findings={u: ["legal_violation"] for u in ("u4", "u5")})
    c.vote_round({v: ["u1", "u2"] for v in c.state.voters})  # u3 rejected, nobody left
    assert c.code("u1", "leaders_decide",
                  places=[{"place": 3, "unit": "u3"}]) == "not_a_candidate"  # fmt: skip


def test_deputy_chairs_when_the_head_is_absent_from_the_review() -> None:
    c = Cycle(5)
    c.to_review(distinct_scores(5))
    c.review(absent=["u1"])
    assert c.state.chair == "u2"
    assert c.code("u1", "close_discipline_check") == "not_authorized"
    c.do("u2", "close_discipline_check")
    c.do("u2", "open_vote_round")


def test_deputy_chairs_when_the_head_is_excluded() -> None:
    c = Cycle(5)
    c.to_vote(distinct_scores(5), findings={"u1": ["leader_disciplined"]})
    assert c.state.chair == "u2"
    assert c.code("u1", "open_vote_round") == "not_authorized"
    assert c.do("u2", "open_vote_round")[0].proposals == ("u2", "u3", "u4")  # type: ignore[union-attr]


# ---- corrections -------------------------------------------------------------------------------


def test_correction_before_the_vote_recomputes_ranking_and_eligibility() -> None:
    c = Cycle(5, ruleset={"area_floor": {"c3": "100"}})
    c.to_vote(distinct_scores(5))
    assert c.state.excluded == {}
    c.do("u1", "correct_score", unit="u5", sections=secs(600, 200, 200), note="Sai sót cộng điểm")
    c.do("u1", "correct_score", unit="u2", sections=secs(590, 150, 99), note="Thẩm định lại")
    assert c.state.excluded == {"u2": ["below_area_floor"]}
    assert ranks(c.state)["u5"] == 1
    assert c.state.adopted["u5"].source == "corrected"
    assert c.do("u1", "open_vote_round")[0].proposals == ("u5", "u1", "u3")  # type: ignore[union-attr]
    err = c.reject("u1", "correct_score", unit="u4", sections=secs(1), note="muộn")
    assert err.code == "wrong_stage"


def test_correction_needs_an_adopted_score() -> None:
    c = Cycle(5)
    scores = distinct_scores(5)
    del scores["u5"]
    c.to_review(scores)
    c.review()
    assert c.code("u1", "correct_score", unit="u5", sections=secs(1), note="x") == "not_scored"


def test_correction_is_not_possible_before_the_review() -> None:
    c = Cycle(5)
    c.to_review(distinct_scores(5))
    assert c.code("u1", "correct_score", unit="u3", sections=secs(1), note="x") == "wrong_stage"


def test_verified_score_is_adopted_over_the_self_score() -> None:
    c = Cycle(5)
    c.sign()
    c.submit(distinct_scores(5))
    c.do("u1", "verify_score", unit="u3", sections=secs(500), note="Trừ điểm nội dung 1")
    c.do("u2", "verify_score", unit="u1", sections=secs(590), note="")
    c.do("u1", "close_scoring")
    c.review()
    assert c.state.adopted["u3"].total == 800
    assert c.state.adopted["u3"].source == "verified"
    assert c.state.adopted["u4"].source == "self"
    assert c.events[-1].type == "review_held"


def test_self_score_may_be_resubmitted_until_verified() -> None:
    c = Cycle(5)
    c.sign()
    c.do("u3", "submit_self_score", unit="u3", sections=secs(400))
    c.do("u3", "submit_self_score", unit="u3", sections=secs("400.25"))
    assert c.state.self_scores["u3"]["c1"] == 400.25
    assert (
        c.code("u1", "verify_score", unit="u3", sections=secs(401), note=" ") == "reason_required"
    )
    ver = c.do("u1", "verify_score", unit="u3", sections=secs(401), note="Chấm chéo")[0]
    assert ver.changed == ("c1",)  # type: ignore[union-attr]


def test_scores_with_two_decimals_or_trailing_zeros_are_accepted() -> None:
    c = Cycle(5)
    c.sign()
    c.do("u3", "submit_self_score", unit="u3", sections=secs("599.99", "0", "12.340"))
    c.do("u4", "submit_self_score", unit="u4", sections=secs("600", "200.00", "200"))


# ---- election --------------------------------------------------------------------------------


def to_election(n: int = 5, **kw: object) -> Cycle:
    c = Cycle(n, **kw)  # type: ignore[arg-type]
    c.to_vote(distinct_scores(n))
    c.vote_round({v: ["u1", "u2", "u3"] for v in c.state.voters})
    c.do(c.chair, "open_election")
    return c


def test_deputy_succeeds_and_the_deputy_is_elected_by_majority() -> None:
    c = to_election()
    assert c.state.election is not None and c.state.election.mode == "deputy_only"
    assert c.code("u3", "cast_election_ballot", deputy="u3", head="u4") == "not_a_candidate"
    assert c.code("u3", "cast_election_ballot") == "not_a_candidate"
    out = c.election({"u1": {"deputy": "u3"}, "u2": {"deputy": "u3"}, "u3": {"deputy": "u3"}})
    assert [e.type for e in out] == ["election_round_closed", "cycle_completed"]
    assert (c.state.next_head, c.state.next_deputy) == ("u2", "u3")
    assert c.state.stage == "completed"
    assert c.state.outcome is not None and c.state.outcome.next_head == "u2"


def test_excluded_deputy_cannot_succeed_so_both_are_elected() -> None:
    c = Cycle(5)
    c.to_vote(distinct_scores(5), findings={"u2": ["party_org_not_clean"]})
    c.vote_round({v: ["u1", "u3", "u4"] for v in c.state.voters})
    c.do("u1", "open_election")
    el = c.state.election
    assert el is not None and el.mode == "both" and el.head is None
    assert "u2" not in el.head_candidates and "u2" not in el.deputy_candidates
    assert c.code("u3", "cast_election_ballot", deputy="u4") == "not_a_candidate"
    assert c.code("u3", "cast_election_ballot", head="u2", deputy="u4") == "not_a_candidate"
    # u3 becomes head; the votes naming u3 as deputy count for nobody.
    c.election(
        {
            "u1": {"head": "u3", "deputy": "u4"},
            "u2": {"head": "u3", "deputy": "u3"},
            "u3": {"head": "u3", "deputy": "u4"},
            "u4": {"head": "u4", "deputy": "u3"},
            "u5": {"head": "u3", "deputy": "u4"},
        }
    )
    closed = next(e for e in c.events if isinstance(e, ElectionRoundClosed))
    assert closed.head == "u3" and closed.deputy == "u4"
    assert "u3" not in closed.deputy_votes and closed.deputy_votes["u4"] == 3
    assert (c.state.next_head, c.state.next_deputy) == ("u3", "u4")


def test_elect_both_policy_elects_the_head_too() -> None:
    c = to_election(5, ruleset={"rotation": "elect_both"})
    el = c.state.election
    assert el is not None and el.mode == "both"
    c.election({v: {"head": "u4", "deputy": "u5"} for v in c.state.voters})
    assert (c.state.next_head, c.state.next_deputy) == ("u4", "u5")


def test_runoff_between_the_two_with_most_votes_tie_goes_to_better_ranked() -> None:
    c = to_election()
    out = c.election(
        {
            "u1": {"deputy": "u4"},
            "u2": {"deputy": "u4"},
            "u3": {"deputy": "u5"},
            "u4": {"deputy": "u3"},
            "u5": {"deputy": "u1"},
        }
    )
    closed = out[0]
    assert isinstance(closed, ElectionRoundClosed)
    assert closed.deputy is None and closed.runoff_deputy == (
        "u4",
        "u1",
    )  # u1 ranks best of 1-vote units
    assert len(out) == 1 and c.state.stage == "election"
    el = c.state.election
    assert el is not None and el.round == 2 and el.deputy_candidates == ["u4", "u1"]
    assert c.code("u3", "cast_election_ballot", deputy="u5") == "not_a_candidate"
    c.election({"u1": {"deputy": "u1"}, "u2": {"deputy": "u1"}, "u3": {"deputy": "u1"}})
    assert (c.state.next_head, c.state.next_deputy) == ("u2", "u1")


def test_failed_runoff_hands_the_choice_to_the_admin() -> None:
    c = to_election()
    c.election({"u1": {"deputy": "u3"}, "u2": {"deputy": "u4"}})  # 1:1, no majority
    c.election({"u1": {"deputy": "u3"}, "u2": {"deputy": "u4"}})  # run-off 1:1 again
    el = c.state.election
    assert el is not None and el.failed
    closed = c.events[-1]
    assert isinstance(closed, ElectionRoundClosed) and closed.failed
    assert pending_actions(c.state) == {"admin": ["appoint_leaders"]}
    assert c.code("u3", "cast_election_ballot", deputy="u3") == "wrong_stage"
    assert c.code("u1", "close_election") == "wrong_stage"
    assert c.code("u1", "appoint_leaders", head="u2", deputy="u3") == "not_authorized"
    assert c.code("admin", "appoint_leaders", head="u3", deputy="u4") == "not_a_candidate"
    assert c.code("admin", "appoint_leaders", head="u2", deputy="u2") == "not_a_candidate"
    assert c.code("admin", "appoint_leaders", head="u2", deputy="zz") == "not_a_member"
    out = c.do("admin", "appoint_leaders", head="u2", deputy="u5")
    assert [e.type for e in out] == ["leaders_appointed", "cycle_completed"]
    assert (c.state.next_head, c.state.next_deputy) == ("u2", "u5")


def test_appointed_leaders_may_not_be_excluded() -> None:
    c = Cycle(5)
    c.to_vote(distinct_scores(5), findings={"u5": ["security_order_weak"]})
    c.vote_round({v: ["u1", "u2", "u3"] for v in c.state.voters})
    c.do("u1", "open_election")
    c.election({})
    c.election({})
    assert c.state.election is not None and c.state.election.failed
    assert c.code("admin", "appoint_leaders", head="u2", deputy="u5") == "not_a_candidate"


def test_election_voters_are_those_of_the_vote() -> None:
    c = Cycle(5)
    c.to_vote(distinct_scores(5), absent=["u5"])
    c.vote_round({v: ["u1", "u2", "u3"] for v in c.state.voters})
    c.do("u1", "open_election")
    assert c.state.election is not None and c.state.election.voters == ["u1", "u2", "u3", "u4"]
    assert c.code("u5", "cast_election_ballot", deputy="u3") == "not_entitled_to_vote"
    c.do("u4", "cast_election_ballot", deputy="u3")
    assert c.code("u4", "cast_election_ballot", deputy="u3") == "already_voted"


# ---- deadlines, cancellation, pending actions ------------------------------------------------


def test_pledge_deadline_closes_the_pledge_and_unsigned_units_are_excluded() -> None:
    c = Cycle(5, deadlines={"pledge": T0 + timedelta(days=30)})
    c.sign(["u1", "u2", "u3"])
    c.tick(days=30)
    out = c.do("system", "expire_deadline", stage="pledge")
    assert isinstance(out[0], PledgeClosed)
    assert (out[0].reason, out[0].unsigned) == ("deadline", ("u4", "u5"))
    assert c.state.stage == "scoring"
    assert c.code("u4", "sign_pledge", unit="u4") == "wrong_stage"
    c.submit(distinct_scores(5))
    c.do("u1", "close_scoring")
    c.review()
    c.do("u1", "close_discipline_check")
    assert c.state.excluded == {"u4": ["no_pledge"], "u5": ["no_pledge"]}


def test_scoring_deadline_closes_scoring_and_lists_the_unscored() -> None:
    c = Cycle(5, deadlines={"scoring": T0 + timedelta(days=60)})
    c.sign()
    scores = distinct_scores(5)
    del scores["u4"]
    c.submit(scores)
    c.tick(days=61)
    out = c.do("system", "expire_deadline", stage="scoring")
    assert isinstance(out[0], ScoringClosed) and out[0].not_scored == ("u4",)
    assert c.state.stage == "review"


def test_review_deadline_records_a_missed_deadline_once() -> None:
    deadline = T0 + timedelta(days=90)
    c = Cycle(5, deadlines={"review": deadline})
    c.to_review(distinct_scores(5))
    c.now = deadline
    out = c.do("system", "expire_deadline", stage="review")
    assert isinstance(out[0], DeadlineMissed)
    assert (out[0].stage, out[0].deadline, out[0].pending) == ("review", deadline, ("u1",))
    assert c.state.stage == "review" and c.state.missed == ["review"]
    assert c.code("system", "expire_deadline", stage="review") == "deadline_not_reached"
    assert c.code("system", "expire_deadline", stage="pledge") == "wrong_stage"


def test_extend_deadline_moves_the_timer() -> None:
    first = T0 + timedelta(days=10)
    c = Cycle(5, deadlines={"pledge": first, "scoring": T0 + timedelta(days=40)})
    c.do("admin", "extend_deadline", stage="pledge", until=(first + timedelta(days=5)).isoformat())
    assert c.state.deadlines["pledge"] == first + timedelta(days=5)
    assert c.events[-1].type == "deadline_extended"
    c.now = first
    assert c.code("system", "expire_deadline", stage="pledge") == "deadline_not_reached"
    assert (
        c.code("admin", "extend_deadline", stage="pledge", until=first.isoformat())
        == "invalid_deadline"
    )
    assert c.code("admin", "extend_deadline", stage="nonsense", until=(first + timedelta(days=99)).isoformat()) == "invalid_deadline"  # fmt: skip
    assert c.code("u1", "extend_deadline", stage="pledge", until=(first + timedelta(days=99)).isoformat()) == "not_authorized"  # fmt: skip
    c.tick(days=5)
    c.do("system", "expire_deadline", stage="pledge")
    assert c.state.stage == "scoring"
    late = (first + timedelta(days=99)).isoformat()
    assert c.code("admin", "extend_deadline", stage="pledge", until=late) == "invalid_deadline"
    c.do("admin", "extend_deadline", stage="review", until=late)  # a later stage may get one


def test_start_rejects_deadlines_for_unknown_stages() -> None:
    from .helpers import start_command

    c = Cycle(started=False)
    bad = start_command(deadlines={"completed": T0 + timedelta(days=1)})
    assert c.reject("admin", bad).code == "invalid_deadline"


@pytest.mark.parametrize("stage", ["pledge", "scoring", "review", "discipline", "vote", "election"])
def test_cancel_from_any_open_stage_then_nothing_is_accepted(stage: str) -> None:
    c = Cycle(5)
    steps = [
        lambda: c.sign(),
        lambda: (c.submit(distinct_scores(5)), c.do("u1", "close_scoring")),
        lambda: c.review(),
        lambda: c.do("u1", "close_discipline_check"),
        lambda: (
            c.vote_round({v: ["u1", "u2", "u3"] for v in c.state.voters}),
            c.do("u1", "open_election"),
        ),
    ]
    for step in steps:
        if c.state.stage == stage:
            break
        step()
    assert c.state.stage == stage
    assert c.code("u1", "cancel_cycle", reason="x") == "not_authorized"
    out = c.do("admin", "cancel_cycle", reason="Sáp nhập khối")
    assert out[0].stage == stage  # type: ignore[union-attr]
    assert c.state.stage == "cancelled" and c.state.cancel_reason == "Sáp nhập khối"
    assert c.code("admin", "cancel_cycle", reason="again") == "wrong_stage"
    assert c.code("u1", "close_pledge") == "wrong_stage"
    assert pending_actions(c.state) == {} and reminders(c.state) == []


def test_pending_actions_follow_the_stage() -> None:
    c = Cycle(5)
    assert pending_actions(c.state) == {
        "u1": ["sign_pledge", "close_pledge"],
        "u2": ["sign_pledge"],
        "u3": ["sign_pledge"],
        "u4": ["sign_pledge"],
        "u5": ["sign_pledge"],
    }
    c.sign()
    c.do("u1", "submit_self_score", unit="u1", sections=secs(500))
    c.do("u3", "submit_self_score", unit="u3", sections=secs(500))
    c.do("u1", "verify_score", unit="u3", sections=secs(500), note="")
    p = pending_actions(c.state)
    assert p["u2"] == ["verify_score:u1", "submit_self_score"]
    assert p["u1"] == ["close_scoring"]
    assert "u3" not in p
    c.submit({u: secs(400) for u in ("u2", "u4", "u5")})
    c.do("u1", "close_scoring")
    assert pending_actions(c.state) == {"u1": ["hold_review"]}
    c.review(absent=["u5"])
    assert pending_actions(c.state) == {
        "admin": ["record_finding"],
        "u1": ["close_discipline_check"],
    }
    c.do("u1", "close_discipline_check")
    assert pending_actions(c.state) == {"u1": ["open_vote_round"]}
    assert c.code("u1", "open_vote_round") == "unresolved_tie"
    c.do("u1", "break_tie", order=["u3", "u1"])
    c.do("u1", "break_tie", order=["u4", "u2", "u5"])
    c.do("u1", "open_vote_round")
    c.do("u3", "cast_ballot", approve=[])
    assert pending_actions(c.state) == {
        "u1": ["cast_ballot", "close_vote_round"],
        "u2": ["cast_ballot"],
        "u4": ["cast_ballot"],
    }


def test_reminders_fall_due_before_each_remaining_deadline() -> None:
    pledge, scoring = T0 + timedelta(days=30), T0 + timedelta(days=60)
    c = Cycle(5, deadlines={"pledge": pledge, "scoring": scoring})
    got = [(r.stage, r.days_before, r.due) for r in reminders(c.state)]
    assert got == [
        ("pledge", 7, pledge - timedelta(days=7)),
        ("pledge", 1, pledge - timedelta(days=1)),
        ("scoring", 7, scoring - timedelta(days=7)),
        ("scoring", 1, scoring - timedelta(days=1)),
    ]
    c.sign()
    assert [r.stage for r in reminders(c.state)] == ["scoring", "scoring"]
    c.do(
        "admin", "extend_deadline", stage="scoring", until=(scoring + timedelta(days=3)).isoformat()
    )
    assert reminders(c.state)[-1].due == scoring + timedelta(days=2)


def test_pledge_closes_itself_when_all_have_signed() -> None:
    c = Cycle(5)
    c.sign(["u1", "u2", "u3", "u4"])
    assert c.state.stage == "pledge"
    out = c.do("u5", "sign_pledge", unit="u5")
    assert [e.type for e in out] == ["pledge_signed", "pledge_closed"]
    assert out[1].reason == "all_signed"  # type: ignore[union-attr]
    # the close is nobody's decision: credited to the system, not to the last signer
    assert out[0].actor.unit == "u5" and out[1].actor.kind == "system"
    assert (out[1].request_id, out[1].at) == (out[0].request_id, out[0].at)
    from domain.recheck import recheck

    assert recheck(c.events) == []


def test_a_chain_that_credited_the_close_to_the_last_signer_still_rechecks() -> None:
    """Chains written before the system was credited (decide(..., system_credit=False)) keep
    verifying; a close credited to another unit does not."""
    from domain.decide import decide
    from domain.recheck import recheck
    from domain.values import Actor

    c = Cycle(3)
    c.sign(["u1", "u2"])
    legacy = decide(
        c.state,
        cmd("sign_pledge", unit="u3"),
        Actor.parse("u3"),
        now=c.now,
        ids=c.ids,
        request_id="r-last",
        system_credit=False,
    )
    assert [e.actor.unit for e in legacy] == ["u3", "u3"]
    assert recheck([*c.events, *legacy]) == []
    forged = [legacy[0], legacy[1].model_copy(update={"actor": Actor.parse("u1")})]
    assert recheck([*c.events, *forged]) != []


def test_head_closes_the_pledge_early() -> None:
    c = Cycle(5)
    c.sign(["u1", "u3"])
    out = c.do("u1", "close_pledge")[0]
    assert isinstance(out, PledgeClosed)
    assert (out.reason, out.unsigned) == ("closed_by_head", ("u2", "u4", "u5"))


# ---- regressions -----------------------------------------------------------------------------


def test_separate_tie_breaks_do_not_order_a_group_they_never_saw_together() -> None:
    """u1/u2 and u3/u4 were broken apart; corrections tie all four: they share a rank again."""
    c = Cycle(6)
    scores = distinct_scores(6)
    scores["u2"], scores["u4"] = scores["u1"], scores["u3"]
    c.to_vote(scores)
    c.do("u1", "break_tie", order=["u2", "u1"])
    c.do("u1", "break_tie", order=["u4", "u3"])
    assert [ranks(c.state)[u] for u in ("u2", "u1", "u4", "u3")] == [1, 2, 3, 4]
    for u in ("u3", "u4"):
        c.do("u1", "correct_score", unit=u, sections=scores["u1"], note="Cộng sót điểm")
    assert [ranks(c.state)[u] for u in ("u1", "u2", "u3", "u4")] == [1, 1, 1, 1]
    assert c.code("u1", "open_vote_round") == "unresolved_tie"
    c.do("u1", "break_tie", order=["u3", "u1", "u4", "u2"])
    assert [ranks(c.state)[u] for u in ("u3", "u1", "u4", "u2")] == [1, 2, 3, 4]


def test_a_tie_break_still_orders_what_is_left_of_its_group() -> None:
    c = Cycle(5)
    scores = distinct_scores(5)
    scores["u2"] = scores["u3"] = scores["u1"]
    c.to_vote(scores)
    c.do("u1", "break_tie", order=["u3", "u2", "u1"])
    c.do("u1", "correct_score", unit="u2", sections=secs(100), note="Trừ điểm")
    assert ranks(c.state)["u3"] == 1 and ranks(c.state)["u1"] == 2


def test_an_extended_deadline_may_be_missed_again() -> None:
    deadline = T0 + timedelta(days=90)
    c = Cycle(5, deadlines={"review": deadline})
    c.to_review(distinct_scores(5))
    c.now = deadline
    c.do("system", "expire_deadline", stage="review")
    later = deadline + timedelta(days=5)
    c.do("admin", "extend_deadline", stage="review", until=later.isoformat())
    assert c.state.missed == []
    c.now = later
    out = c.do("system", "expire_deadline", stage="review")
    assert isinstance(out[0], DeadlineMissed) and out[0].deadline == later
    assert c.code("system", "expire_deadline", stage="review") == "deadline_not_reached"


def test_an_early_close_with_its_reason_rechecks() -> None:
    """The reason an early close records (the pages require it) is part of the command the
    recheck rebuilds from the event (a reason changed afterwards is the chain's and the
    witness's to find, not the rules')."""
    from domain.decide import decide
    from domain.recheck import recheck
    from domain.values import Actor

    c = Cycle(3)
    c.sign(["u1"])
    out = decide(
        c.state,
        cmd("close_pledge", note="Hết thời gian ký"),
        Actor.parse("u1"),
        now=c.now,
        ids=c.ids,
        request_id="r-close",
    )
    assert out[0].note == "Hết thời gian ký"  # type: ignore[union-attr]
    assert recheck([*c.events, *out]) == []
