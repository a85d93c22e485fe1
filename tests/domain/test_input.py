"""Bounded, strict input: commands and the setup refuse over-long texts, malformed ids, long
lists, malformed scores, odd years and empty fractions, naming the field and the limit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from domain.commands import CommandAdapter
from domain.events import EventAdapter
from domain.setup import Ruleset, resolve_ruleset

from .helpers import Cycle, cmd, distinct_scores, make_block, secs, start_command

pytestmark = pytest.mark.pure


def refused(do: str, **fields: Any) -> tuple[str, str, str]:
    """(field, error type, message) of the single error a command's validation gives."""
    with pytest.raises(ValidationError) as info:
        CommandAdapter.validate_python({"do": do, **fields})
    errors = info.value.errors()
    assert len(errors) == 1, errors
    loc = ".".join(str(p) for p in errors[0]["loc"][1:])  # [0] is the union's tag
    return loc, errors[0]["type"], errors[0]["msg"]


# ---- free text --------------------------------------------------------------------------------

TEXTS = [
    ("verify_score", {"unit": "u3", "sections": secs(500)}, "note"),
    ("correct_score", {"unit": "u3", "sections": secs(500)}, "note"),
    ("record_finding", {"unit": "u3", "kind": "other"}, "reference"),
    ("record_finding", {"unit": "u3", "kind": "other", "reference": "x"}, "note"),
    ("cancel_cycle", {}, "reason"),
]


@pytest.mark.parametrize(("do", "fields", "field"), TEXTS)
def test_free_text_is_at_most_2000_characters(do: str, fields: dict[str, Any], field: str) -> None:
    cmd(do, **fields, **{field: "ư" * 2000})
    loc, _, msg = refused(do, **fields, **{field: "ư" * 2001})
    assert loc == field
    assert "text_too_long" in msg and "2000" in msg


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("block.name", lambda b: {**b, "name": "x" * 2001}),
        ("block.province", lambda b: {**b, "province": "x" * 2001}),
        ("block.members.0.name", lambda b: {**b, "members": [{**b["members"][0], "name": "x" * 2001},
                                                             *b["members"][1:]]}),
    ],
)  # fmt: skip
def test_names_are_at_most_2000_characters(where: str, change: Any) -> None:
    start = start_command().model_dump()
    start["block"] = change(make_block().model_dump())
    start.pop("do")
    loc, _, msg = refused("start_cycle", **start)
    assert loc == where and "2000" in msg
    start["block"] = make_block().model_dump()
    loc, _, msg = refused("start_cycle", **{**start, "title": "x" * 2001})
    assert loc == "title" and "2000" in msg


# ---- ids ----------------------------------------------------------------------------------------

BAD_IDS = ["", "U1", "-u1", ".u1", "u 1", "u1\n", "đơn-vị", "u1/2", "x" * 65, "١"]
ID_FIELDS = [
    ("sign_pledge", {}, "unit", "unit"),
    ("submit_self_score", {"sections": secs(500)}, "unit", "unit"),
    ("hold_review", {"held_on": "2019-03-08"}, "present", "present.0"),
    ("record_finding", {"kind": "other", "reference": "x"}, "unit", "unit"),
    ("withdraw_finding", {"kind": "other"}, "unit", "unit"),
    ("break_tie", {}, "order", "order.0"),
    ("cast_ballot", {}, "approve", "approve.0"),
    ("cast_election_ballot", {}, "deputy", "deputy"),
    ("appoint_leaders", {"deputy": "u2"}, "head", "head"),
    ("extend_deadline", {"until": "2030-01-01T00:00:00Z"}, "stage", "stage"),
]


@pytest.mark.parametrize(("do", "fields", "field", "where"), ID_FIELDS)
@pytest.mark.parametrize("bad", BAD_IDS, ids=range(len(BAD_IDS)))
def test_ids_follow_the_documented_pattern(
    do: str, fields: dict[str, Any], field: str, where: str, bad: str
) -> None:
    value: Any = [bad, "u2", "u3"] if field in ("present", "order", "approve") else bad
    loc, _, msg = refused(do, **fields, **{field: value})
    assert loc == where
    assert msg.startswith("Value error, invalid_id:") and "[a-z0-9]" in msg


def test_section_ids_in_scores_follow_the_pattern() -> None:
    loc, _, msg = refused("submit_self_score", unit="u1", sections={"C1": "1"})
    assert loc.startswith("sections.C1") and "invalid_id" in msg
    cmd("sign_pledge", unit="x" * 64)
    cmd("sign_pledge", unit="0.a_b-c")


# ---- lists --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("do", "fields", "field", "item"),
    [
        ("hold_review", {"held_on": "2019-03-08"}, "present", lambda i: f"u{i}"),
        ("hold_review", {"held_on": "2019-03-08", "present": []}, "absent",
         lambda i: {"unit": f"u{i}"}),
        ("break_tie", {}, "order", lambda i: f"u{i}"),
        ("cast_ballot", {}, "approve", lambda i: f"u{i}"),
        ("leaders_decide", {}, "places", lambda i: {"place": 1, "unit": f"u{i}"}),
    ],
)  # fmt: skip
def test_lists_hold_at_most_100_items(
    do: str, fields: dict[str, Any], field: str, item: Any
) -> None:
    cmd(do, **fields, **{field: [item(i) for i in range(100)]})
    loc, kind, msg = refused(do, **fields, **{field: [item(i) for i in range(101)]})
    assert (loc, kind) == (field, "too_long") and "100" in msg


def test_members_and_sections_hold_at_most_100() -> None:
    block = make_block().model_dump()
    block["members"] = [{"id": f"u{i}", "name": "x"} for i in range(101)]
    start = {k: v for k, v in start_command().model_dump().items() if k != "do"}
    loc, kind, _ = refused("start_cycle", **{**start, "block": block})
    assert (loc, kind) == ("block.members", "too_long")
    sheet = {"max_total": "101", "sections": [{"id": f"c{i}", "max": "1"} for i in range(101)]}
    loc, kind, _ = refused("start_cycle", **{**start, "score_sheet": sheet})
    assert (loc, kind) == ("score_sheet.sections", "too_long")
    loc, kind, _ = refused(
        "submit_self_score", unit="u1", sections={f"c{i}": "1" for i in range(101)}
    )
    assert (loc, kind) == ("sections", "too_long")


def test_a_ballot_approves_each_proposal_once() -> None:
    c = Cycle()
    c.to_vote(distinct_scores(5))
    c.do("u1", "open_vote_round")
    err = c.reject("u3", "cast_ballot", approve=["u1", "u2", "u1"])
    assert (err.code, err.field) == ("duplicate_choice", "approve[2]")
    err = c.reject("u3", "cast_ballot", approve=["u1", "u5"])
    assert (err.code, err.field) == ("not_a_candidate", "approve[1]")
    c.do("u3", "cast_ballot", approve=["u2", "u1"])


# ---- scores -------------------------------------------------------------------------------------

BAD_SCORES: list[Any] = [
    " 1", "1 ", "1_000", "+1", "-1", "1e3", "1E3", "١٢", "１２", "1.", ".5", "", "1.2.3",
    "NaN", "nan", "Infinity", "-Infinity", "inf", 1.5, 500.0, True, False, None, [1], -1,
    "1" * 13,
]  # fmt: skip


@pytest.mark.parametrize("bad", BAD_SCORES, ids=range(len(BAD_SCORES)))
def test_scores_are_decimal_strings_of_ascii_digits(bad: Any) -> None:
    loc, _, msg = refused("submit_self_score", unit="u1", sections={**secs(500), "c2": bad})
    assert loc == "sections.c2"
    assert msg.startswith("Value error, not_a_number:") and "983.5" in msg


@pytest.mark.parametrize(
    ("good", "value"),
    [("0", Decimal(0)), ("983.5", Decimal("983.5")), ("12.345", Decimal("12.345")),
     (150, Decimal(150)), (Decimal("-1"), Decimal(-1))],
)  # fmt: skip
def test_good_scores_and_python_decimals_pass_to_the_rules(good: Any, value: Decimal) -> None:
    command = cmd("submit_self_score", unit="u1", sections={**secs(500), "c2": good})
    assert command.sections["c2"] == value  # type: ignore[union-attr]


def test_stored_events_with_canonical_scores_read_back() -> None:
    c = Cycle()
    c.sign()
    c.do("u1", "submit_self_score", unit="u1", sections={"c1": "0", "c2": "150.5", "c3": "200"})
    for e in c.events:
        assert EventAdapter.validate_json(EventAdapter.dump_json(e)) == e
        assert EventAdapter.validate_python(e.model_dump(mode="json")) == e


# ---- year and fractions -------------------------------------------------------------------------


@pytest.mark.parametrize("year", [True, "2018", 2018.0, 1944, 2201, None])
def test_year_is_an_integer_from_1945_to_2200(year: Any) -> None:
    start = {k: v for k, v in start_command().model_dump().items() if k != "do"}
    loc, _, _ = refused("start_cycle", **{**start, "year": year})
    assert loc == "year"
    cmd("start_cycle", **{**start, "year": 1945})
    cmd("start_cycle", **{**start, "year": 2200})


@pytest.mark.parametrize("value", ["0", 0, "0/3", "3/2", "-1/2", 1.5, True, "1/" + "1" * 40])
@pytest.mark.parametrize("field", ["quorum", "vote.threshold"])
def test_fractions_lie_in_zero_exclusive_to_one(field: str, value: Any) -> None:
    spec = {"quorum": value} if field == "quorum" else {"vote": {"threshold": value}}
    with pytest.raises(ValidationError) as info:
        resolve_ruleset(spec)
    err = info.value.errors()[0]
    assert ".".join(str(p) for p in err["loc"]) == field
    assert "invalid_fraction" in err["msg"]


def test_one_is_a_fraction() -> None:
    assert resolve_ruleset({"quorum": "1", "vote": {"threshold": 1}}).quorum == 1
    assert Ruleset().quorum * 3 == 2
