"""Every rule code of domain/errors.py and every exclusion reason is produced by some test."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import domain.errors
from domain import Actor, CycleState, decide
from domain.errors import AuthorizationError, StageError
from domain.setup import FINDING_KINDS, Block, Member, Ruleset, ScoreSheet, Section

from .helpers import T0, Cycle, distinct_scores, make_block, secs, start_command

pytestmark = pytest.mark.pure


RULE_CODES = domain.errors.CYCLE_CODES


# ---- states to judge commands in -------------------------------------------------------------


def blank() -> Cycle:
    return Cycle(started=False)


def pledge() -> Cycle:
    return Cycle()


def signed_u1() -> Cycle:
    c = Cycle()
    c.sign(["u1"])
    return c


def scoring() -> Cycle:
    c = Cycle()
    c.sign()
    return c


def scored() -> Cycle:
    c = scoring()
    c.submit(distinct_scores(5))
    return c


def verified_u3() -> Cycle:
    c = scored()
    c.do("u1", "verify_score", unit="u3", sections=secs(570), note="")
    return c


def review() -> Cycle:
    c = Cycle()
    c.to_review(distinct_scores(5))
    return c


def discipline() -> Cycle:
    c = review()
    c.review()
    return c


def discipline_u5_unscored() -> Cycle:
    c = Cycle()
    scores = distinct_scores(5)
    del scores["u5"]
    c.to_review(scores)
    c.review()
    return c


def with_finding() -> Cycle:
    c = discipline()
    c.do("admin", "record_finding", unit="u3", kind="other", reference="BB 1")
    return c


def vote(n: int = 5, **kw: Any) -> Cycle:
    c = Cycle(n, **kw)
    c.to_vote(distinct_scores(n))
    return c


def tied_vote() -> Cycle:
    c = Cycle()
    scores = distinct_scores(5)
    scores["u2"] = scores["u1"]
    c.to_vote(scores)
    return c


def round_open() -> Cycle:
    c = vote()
    c.do("u1", "open_vote_round")
    return c


def voted_u3() -> Cycle:
    c = round_open()
    c.do("u3", "cast_ballot", approve=["u1"])
    return c


def absent_u5() -> Cycle:
    c = Cycle()
    c.to_vote(distinct_scores(5), absent=["u5"])
    c.do("u1", "open_vote_round")
    return c


def places_filled() -> Cycle:
    c = vote()
    c.do("u1", "open_vote_round")
    c.all_approve()
    c.do("u1", "close_vote_round")
    return c


def nobody_left() -> Cycle:
    """Places open, rounds left, but every eligible unit is gone."""
    c = Cycle()
    c.to_vote(distinct_scores(5), findings={u: ["legal_violation"] for u in ("u3", "u4", "u5")})
    c.vote_round({})
    return c


def one_round_spent() -> Cycle:
    c = vote(ruleset={"vote": {"max_rounds": 1}})
    c.vote_round({})
    return c


def rounds_spent() -> Cycle:
    """7 units: round 1 confirms u1, rejects u2 u3; round 2 rejects u4 u5; u6 u7 remain."""
    c = vote(7)
    c.vote_round({v: ["u1"] for v in c.state.voters})
    c.vote_round({})
    assert [n.unit for n in c.state.nominations] == ["u1"]
    return c


def deputy_agreed() -> Cycle:
    c = rounds_spent()
    c.do("u2", "leaders_decide", places=[{"place": 2, "unit": "u6"}])
    return c


def resubmitted() -> Cycle:
    c = Cycle(ruleset={"max_resubmissions": 1})
    c.sign()
    c.submit({"u3": secs(500)})
    c.submit({"u3": secs(510)})
    return c


def twice_extended() -> Cycle:
    c = Cycle(ruleset={"max_extensions": 2}, deadlines={"pledge": T0 + timedelta(days=10)})
    c.do("admin", "extend_deadline", stage="pledge", until=T0 + timedelta(days=11))
    c.do("admin", "extend_deadline", stage="pledge", until=T0 + timedelta(days=12))
    return c


def election() -> Cycle:
    c = places_filled()
    c.do("u1", "open_election")
    return c


def pledge_deadline() -> Cycle:
    return Cycle(deadlines={"pledge": T0 + timedelta(days=10)})


# ---- the table: (state, actor, do, fields, code) ---------------------------------------------

Row = tuple[Callable[[], Cycle], str, str, dict[str, Any], str]

TABLE: dict[str, Row] = {
    "start twice": (pledge, "admin", "start_cycle", {}, "cycle_exists"),
    "deadlines out of order": (
        blank,
        "admin",
        "start_cycle",
        {"_deadlines": True},
        "invalid_deadline",
    ),
    "area floor of unknown section": (
        blank,
        "admin",
        "start_cycle",
        {"_floor": True},
        "invalid_ruleset",
    ),
    "extend into the past": (
        pledge,
        "admin",
        "extend_deadline",
        {"stage": "pledge", "until": "2018-01-01T00:00:00Z"},
        "invalid_deadline",
    ),
    "unit closes pledge": (pledge, "u2", "close_pledge", {}, "not_authorized"),
    "auditor signs": (pledge, "auditor", "sign_pledge", {"unit": "u1"}, "not_authorized"),
    "signs for another unit": (pledge, "u2", "sign_pledge", {"unit": "u1"}, "not_authorized"),
    "outsider signs": (pledge, "zz", "sign_pledge", {"unit": "zz"}, "not_authorized"),
    "admin expires a deadline": (
        pledge_deadline,
        "admin",
        "expire_deadline",
        {"stage": "pledge"},
        "not_authorized",
    ),
    "score in pledge stage": (
        pledge,
        "u1",
        "submit_self_score",
        {"unit": "u1", "sections": secs(500)},
        "wrong_stage",
    ),
    "command before start": (blank, "u1", "sign_pledge", {"unit": "u1"}, "wrong_stage"),
    "finding on an outsider": (
        discipline,
        "admin",
        "record_finding",
        {"unit": "zz", "kind": "other", "reference": "x"},
        "not_a_member",
    ),
    "verify an outsider": (
        scored,
        "u1",
        "verify_score",
        {"unit": "zz", "sections": secs(1)},
        "not_a_member",
    ),
    "sign twice": (signed_u1, "u1", "sign_pledge", {"unit": "u1"}, "already_signed"),
    "above max": (
        scoring,
        "u1",
        "submit_self_score",
        {"unit": "u1", "sections": secs(601)},
        "score_above_max",
    ),
    "negative": (
        scoring,
        "u1",
        "submit_self_score",
        {"unit": "u1", "sections": {**secs(500), "c1": Decimal(-1)}},
        "score_negative",
    ),
    "three decimals": (
        scoring,
        "u1",
        "submit_self_score",
        {"unit": "u1", "sections": secs("1.234")},
        "too_many_decimals",
    ),
    "unknown section": (
        scoring,
        "u1",
        "submit_self_score",
        {"unit": "u1", "sections": {**secs(1), "c9": "1"}},
        "unknown_section",
    ),
    "missing section": (
        scoring,
        "u1",
        "submit_self_score",
        {"unit": "u1", "sections": {"c1": "1", "c2": "1"}},
        "missing_section",
    ),
    "verify without self-score": (
        scoring,
        "u1",
        "verify_score",
        {"unit": "u3", "sections": secs(1)},
        "no_self_score",
    ),
    "resubmit after verification": (
        verified_u3,
        "u3",
        "submit_self_score",
        {"unit": "u3", "sections": secs(1)},
        "already_verified",
    ),
    "changed without a reason": (
        scored,
        "u1",
        "verify_score",
        {"unit": "u3", "sections": secs(1)},
        "reason_required",
    ),
    "correction of a unit with no adopted score": (
        discipline_u5_unscored,
        "u1",
        "correct_score",
        {"unit": "u5", "sections": secs(1), "note": "sửa"},
        "not_scored",
    ),
    "correction without a reason": (
        discipline,
        "u1",
        "correct_score",
        {"unit": "u3", "sections": secs(1)},
        "reason_required",
    ),
    "head verifies its own score": (
        scored,
        "u1",
        "verify_score",
        {"unit": "u1", "sections": secs(590)},
        "not_authorized",
    ),
    "3 of 5 present": (
        review,
        "u1",
        "hold_review",
        {
            "held_on": "2019-03-08",
            "present": ["u1", "u2", "u3"],
            "absent": [{"unit": "u4"}, {"unit": "u5"}],
        },
        "quorum_not_met",
    ),
    "a member unlisted": (
        review,
        "u1",
        "hold_review",
        {"held_on": "2019-03-08", "present": ["u1", "u2", "u3", "u4"]},
        "invalid_attendance",
    ),
    "a member listed twice": (
        review,
        "u1",
        "hold_review",
        {
            "held_on": "2019-03-08",
            "present": ["u1", "u2", "u3", "u4", "u5"],
            "absent": [{"unit": "u5"}],
        },
        "invalid_attendance",
    ),
    "withdraw what is not there": (
        discipline,
        "admin",
        "withdraw_finding",
        {"unit": "u3", "kind": "other"},
        "unknown_finding",
    ),
    "same finding twice": (
        with_finding,
        "admin",
        "record_finding",
        {"unit": "u3", "kind": "other", "reference": "y"},
        "finding_exists",
    ),
    "open with a tie for place 1": (tied_vote, "u1", "open_vote_round", {}, "unresolved_tie"),
    "break a non-tie": (vote, "u1", "break_tie", {"order": ["u1", "u2"]}, "not_tied"),
    "open twice": (round_open, "u1", "open_vote_round", {}, "round_open"),
    "close without a round": (vote, "u1", "close_vote_round", {}, "no_round_open"),
    "vote without a round": (vote, "u3", "cast_ballot", {"approve": []}, "no_round_open"),
    "open with places filled": (places_filled, "u1", "open_vote_round", {}, "no_open_places"),
    "open with nobody left": (nobody_left, "u1", "open_vote_round", {}, "no_candidates"),
    "open past max rounds": (one_round_spent, "u1", "open_vote_round", {}, "max_rounds_reached"),
    "leaders before voting": (
        vote,
        "u1",
        "leaders_decide",
        {"places": [{"place": 1, "unit": "u1"}]},
        "rounds_remaining",
    ),
    "head sends other places than the deputy": (
        deputy_agreed,
        "u1",
        "leaders_decide",
        {"places": [{"place": 2, "unit": "u7"}]},
        "leaders_disagree",
    ),
    "a third unit decides with the leaders": (
        rounds_spent,
        "u3",
        "leaders_decide",
        {"places": [{"place": 2, "unit": "u6"}]},
        "not_authorized",
    ),
    "election before any round": (vote, "u1", "open_election", {}, "vote_not_held"),
    "a third self-score with one resubmission allowed": (
        resubmitted,
        "u3",
        "submit_self_score",
        {"unit": "u3", "sections": secs(520)},
        "too_many_resubmissions",
    ),
    "a third extension with two allowed": (
        twice_extended,
        "admin",
        "extend_deadline",
        {"stage": "pledge", "until": "2019-02-01T00:00:00Z"},
        "limit_reached",
    ),
    "leaders fill a taken place": (
        rounds_spent,
        "u1",
        "leaders_decide",
        {"places": [{"place": 1, "unit": "u6"}]},
        "place_not_open",
    ),
    "leaders pick a rejected unit": (
        rounds_spent,
        "u1",
        "leaders_decide",
        {"places": [{"place": 2, "unit": "u2"}]},
        "not_a_candidate",
    ),
    "vote twice": (voted_u3, "u3", "cast_ballot", {"approve": ["u1"]}, "already_voted"),
    "approve a proposal twice": (
        round_open,
        "u3",
        "cast_ballot",
        {"approve": ["u1", "u1"]},
        "duplicate_choice",
    ),
    "absent without written opinion votes": (
        absent_u5,
        "u5",
        "cast_ballot",
        {"approve": []},
        "not_entitled_to_vote",
    ),
    "approve a unit not proposed": (
        round_open,
        "u3",
        "cast_ballot",
        {"approve": ["u5"]},
        "not_a_candidate",
    ),
    "elect the new head as deputy": (
        election,
        "u3",
        "cast_election_ballot",
        {"deputy": "u2"},
        "not_a_candidate",
    ),
    "appoint before failure": (
        election,
        "admin",
        "appoint_leaders",
        {"head": "u2", "deputy": "u3"},
        "election_not_failed",
    ),
    "expire too early": (
        pledge_deadline,
        "system",
        "expire_deadline",
        {"stage": "pledge"},
        "deadline_not_reached",
    ),
    "expire a stage with no deadline": (
        scoring,
        "system",
        "expire_deadline",
        {"stage": "scoring"},
        "deadline_not_reached",
    ),
}


def _command(do: str, fields: dict[str, Any]) -> Any:
    if do == "start_cycle":
        if fields.get("_deadlines"):
            return start_command(
                deadlines={"pledge": T0 + timedelta(days=30), "scoring": T0 + timedelta(days=5)}
            )
        if fields.get("_floor"):
            return start_command(ruleset={"area_floor": {"c9": "10"}})
        return start_command()
    from .helpers import cmd

    return cmd(do, **fields)


@pytest.mark.parametrize("name", list(TABLE))
def test_rule_code(name: str) -> None:
    """Each row's command is rejected with its code, by decide and validate, writing nothing."""
    setup, who, do, fields, code = TABLE[name]
    c = setup()
    err = c.reject(who, _command(do, fields))
    assert err.code == code, str(err)
    if code == "not_authorized":
        assert isinstance(err, AuthorizationError)
    if code == "wrong_stage":
        assert isinstance(err, StageError)


# ---- shape rules checked when models are built ---------------------------------------------


def _bad_block() -> None:
    Block(
        id="b",
        name="B",
        members=(Member(id="a", name="A"), Member(id="b", name="B")),
        head="a",
        deputy="b",
    )


def _bad_sheet() -> None:
    ScoreSheet(max_total=100, sections=(Section(id="c1", max=60), Section(id="c2", max=30)))


def _bad_ruleset() -> None:
    Ruleset(excluding_findings=("nonsense",))


SHAPE_CODES: dict[str, Callable[[], None]] = {
    "invalid_block": _bad_block,
    "invalid_score_sheet": _bad_sheet,
    "invalid_ruleset": _bad_ruleset,
}


@pytest.mark.parametrize("code", list(SHAPE_CODES))
def test_shape_code(code: str) -> None:
    with pytest.raises(ValidationError) as info:
        SHAPE_CODES[code]()
    assert f"{code}:" in str(info.value)


@pytest.mark.parametrize(
    "block",
    [
        dict(head="u1", deputy="u1"),
        dict(head="zz", deputy="u2"),
        dict(head="u1", deputy="zz"),
    ],
)
def test_block_needs_distinct_member_leaders(block: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="invalid_block"):
        make_block(5, **block)


def test_every_documented_rule_code_is_tested() -> None:
    assert len(RULE_CODES) > 30
    tested = {row[-1] for row in TABLE.values()} | set(SHAPE_CODES)
    assert sorted(RULE_CODES - tested) == []
    assert sorted(tested - RULE_CODES) == []


def test_decide_on_a_blank_state_needs_a_start() -> None:
    with pytest.raises(StageError):
        decide(
            CycleState(),
            _command("close_pledge", {}),
            Actor.of_unit("u1"),
            now=T0,
            ids=lambda: None,
        )  # type: ignore[arg-type,return-value]


# ---- exclusion reasons ---------------------------------------------------------------------


def test_reason_codes_no_pledge_not_scored_below_area_floor() -> None:
    c = Cycle(6, ruleset={"area_floor": {"c3": "100"}})
    scores = distinct_scores(6)
    del scores["u5"]
    scores["u4"] = secs(500, 150, "99.99")
    c.to_vote(scores, signers=["u1", "u2", "u3", "u4", "u5"])
    excluded = c.state.excluded
    assert excluded == {
        "u4": ["below_area_floor"],
        "u5": ["not_scored"],
        "u6": ["no_pledge"],
    }
    closed = c.events[-1]
    assert closed.type == "discipline_check_closed"
    assert closed.eligible == ("u1", "u2", "u3")


def test_reason_codes_carry_every_reason_sorted() -> None:
    c = Cycle(5)
    scores = distinct_scores(5)
    del scores["u5"]
    c.to_vote(
        scores,
        signers=["u1", "u2", "u3", "u4"],
        findings={"u5": ["legal_violation", "court_conclusion"]},
    )
    assert c.state.excluded == {
        "u5": ["court_conclusion", "legal_violation", "no_pledge", "not_scored"]
    }


@pytest.mark.parametrize("kind", [k for k in FINDING_KINDS if k != "other"])
def test_each_excluding_finding_kind_is_a_reason(kind: str) -> None:
    c = Cycle(5)
    c.to_vote(distinct_scores(5), findings={"u4": [kind]})
    assert c.state.excluded == {"u4": [kind]}


def test_other_finding_excludes_only_when_the_ruleset_says_so() -> None:
    c = Cycle(5)
    c.to_vote(distinct_scores(5), findings={"u4": ["other"]})
    assert c.state.excluded == {}
    c = Cycle(5, ruleset={"excluding_findings": ["other"]})
    c.to_vote(distinct_scores(5), findings={"u4": ["other", "legal_violation"]})
    assert c.state.excluded == {"u4": ["other"]}


def test_require_pledge_false_keeps_unsigned_units_eligible() -> None:
    c = Cycle(5, ruleset={"require_pledge": False})
    c.to_vote(distinct_scores(5), signers=["u1", "u2", "u3"])
    assert c.state.unsigned == ["u4", "u5"]
    assert c.state.excluded == {}


def test_withdrawn_finding_no_longer_excludes() -> None:
    c = discipline()
    c.do("admin", "record_finding", unit="u3", kind="court_conclusion", reference="BA 12")
    c.do("u1", "withdraw_finding", unit="u3", kind="court_conclusion")
    c.do("u1", "close_discipline_check")
    assert c.state.excluded == {}
    assert c.code("admin", "withdraw_finding", unit="u3", kind="court_conclusion") == "wrong_stage"


def _raised_in_domain() -> tuple[set[str], str]:
    """The codes given as a literal to RuleError/DomainError in domain/, and the source text of
    domain/ but errors.py (where the codes are listed)."""
    root = Path(domain.__file__).parent
    raised: set[str] = set()
    texts = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.name != "errors.py":
            texts.append(text)
        for node in ast.walk(ast.parse(text)):
            if (
                isinstance(node, ast.Call)
                and node.args
                and getattr(node.func, "id", getattr(node.func, "attr", None))
                in ("RuleError", "DomainError")
                and isinstance(node.args[0], ast.Constant)
            ):
                raised.add(node.args[0].value)
    return raised, "\n".join(texts)


def test_every_code_the_domain_raises_is_listed_and_every_listed_code_is_raised() -> None:
    raised, source = _raised_in_domain()
    assert sorted(raised - domain.errors.RULE_CODES) == []
    # a listed code is raised: as a literal code (RuleError's, a computed one, a validator's
    # "code: …"), or by its own error class
    by_class = {"not_authorized": "AuthorizationError(", "wrong_stage": "StageError("}
    unraised = {
        code
        for code in domain.errors.RULE_CODES
        if not re.search(rf"[\"']{code}[\"':]", source) and by_class.get(code, "\0") not in source
    }
    assert sorted(unraised) == []
