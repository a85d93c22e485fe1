"""The scenario format: the reference case through the pure domain, and clear loader errors."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain import DomainError, decide, fold
from domain.scenario import (
    ScenarioError,
    compare_outcome,
    load_scenario,
    outcome_json,
    parse_scenario,
    run_pure,
)
from domain.state import CycleState
from domain.values import Actor

from .helpers import T0

pytestmark = pytest.mark.pure

REFERENCE = Path("/work/shared/scenarios/kg-khoi-2-2018.json")
if not REFERENCE.exists():  # the copy packaged with the app
    REFERENCE = Path(__file__).parents[2] / "app" / "scenarios" / "kg-khoi-2-2018.json"


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REFERENCE.read_text(encoding="utf-8"))
    return data


def _ids() -> Callable[[], UUID]:
    n = count(1)
    return lambda: UUID(int=next(n))


def test_reference_case_reproduces_its_expect_block(reference: dict[str, Any]) -> None:
    scenario = load_scenario(json.dumps(reference))
    state, log, steps = run_pure(scenario, now=lambda: T0, ids=_ids())
    assert all(s["ok"] for s in steps), [s for s in steps if not s["ok"]]
    assert len(log) == 52
    outcome = outcome_json(state, steps, events=len(log), last_hash=None)
    assert compare_outcome(outcome, scenario.expect) == []
    assert outcome["status"] == "completed"
    assert fold(log) == state
    assert log[-1].type == "cycle_completed"


def test_reference_case_written_opinion_makes_eight_voters(reference: dict[str, Any]) -> None:
    """The absent unit had no written opinion: seven voters, as in the article."""
    data = copy.deepcopy(reference)
    hold = next(s for s in data["steps"] if s["do"] == "hold_review")
    hold["absent"][0]["written_opinion"] = True
    state, _, _ = run_pure(parse_scenario(data), now=lambda: T0, ids=_ids())
    assert [n.voters for n in state.nominations] == [8, 8, 8]


def test_compare_outcome_names_what_differs(reference: dict[str, Any]) -> None:
    scenario = parse_scenario(reference)
    state, log, steps = run_pure(scenario, now=lambda: T0, ids=_ids())
    outcome = outcome_json(state, steps, events=len(log), last_hash=None)
    expect = copy.deepcopy(scenario.expect) or {}
    expect["next_deputy"] = "vp-hdnd"
    expect["ranking"][0]["total"] = "983.50"  # same number: no difference
    expect["nominations"][2]["approvals"] = 7
    assert compare_outcome(outcome, expect) == [
        "nominations[2].approvals: expected 7, got 6",
        "next_deputy: expected 'vp-hdnd', got 'vp-doan-dbqh'",
    ]


def test_expect_error_step_is_ok_when_rejected_with_that_code(reference: dict[str, Any]) -> None:
    data = copy.deepcopy(reference)
    data["steps"].insert(1, {"as": "so-ngoai-vu", "do": "sign_pledge", "unit": "so-ngoai-vu",
                             "expect_error": "already_signed"})  # fmt: skip
    data["steps"].insert(2, {"as": "so-khdt", "do": "sign_pledge", "unit": "so-khdt",
                             "expect_error": "not_authorized"})  # fmt: skip
    _state, log, steps = run_pure(parse_scenario(data), now=lambda: T0, ids=_ids())
    assert steps[1] == {"i": 1, "ok": True, "error": "already_signed"}
    assert steps[2] == {
        "i": 2,
        "ok": False,
        "error": None,
    }  # accepted although an error was expected
    assert len(log) == 52


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data)
    return info.value.problems


def _mutated(reference: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = copy.deepcopy(reference)
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.update(format="thidua.scenario/2"), "format: unsupported_format:"),
        (lambda d: d.pop("format"), "format: unsupported_format:"),
        (lambda d: d.pop("block"), "block: missing:"),
        (lambda d: d.update(steps={}), "steps: not_a_list:"),
        (
            lambda d: d["steps"].__setitem__(3, {"as": "so-khdt", "do": "dance"}),
            "steps[3].do: unknown_command:",
        ),
        (lambda d: d["steps"].__setitem__(0, {"do": "sign_pledge"}), "steps[0]: invalid_step:"),
        (
            lambda d: d["steps"][8]["sections"].__setitem__("c1", "abc"),
            "steps[8].sections.c1: not_a_number:",
        ),
        (
            lambda d: d["steps"][8]["sections"].__setitem__("c1", True),
            "steps[8].sections.c1: not_a_number:",
        ),
        (
            lambda d: d["steps"][8]["sections"].__setitem__("c1", "NaN"),
            "steps[8].sections.c1: not_a_number:",
        ),
        (
            lambda d: d["steps"][8]["sections"].__setitem__("c1", "-1"),
            "steps[8].sections.c1: not_a_number:",
        ),
        (
            lambda d: d["steps"][8]["sections"].__setitem__("c1", 500.5),
            "steps[8].sections.c1: not_a_number:",
        ),
        (
            lambda d: d["steps"][8].__setitem__("unit", "Sở Nội vụ"),
            "steps[8].unit: invalid_id:",
        ),
        (
            lambda d: d["steps"][0].__setitem__("unit", "x" * 65),
            "steps[0].unit: invalid_id:",
        ),
        (lambda d: d.update(title="t" * 2001), "title: text_too_long:"),
        (lambda d: d.update(year=True), "year: int_type:"),
        (lambda d: d.update(year="2018"), "year: int_type:"),
        (lambda d: d.update(year=1944), "year: greater_than_equal:"),
        (lambda d: d["ruleset"].__setitem__("quorum", "0"), "ruleset.quorum: invalid_fraction:"),
        (
            lambda d: d["block"].__setitem__(
                "members", [{"id": f"u{i}", "name": "x"} for i in range(101)]
            ),
            "block.members: too_many_items:",
        ),
        (lambda d: d["steps"][0].__setitem__("colour", "red"), "steps[0].colour: extra_forbidden:"),
        (lambda d: d["steps"][0].pop("unit"), "steps[0].unit: missing:"),
        (lambda d: d["block"].__setitem__("deputy", "so-ngoai-vu"), "block: invalid_block:"),
        (
            lambda d: d["score_sheet"].__setitem__("max_total", "999"),
            "score_sheet: invalid_score_sheet:",
        ),
        (lambda d: d["ruleset"].__setitem__("id", "nope"), "ruleset.id: invalid_ruleset:"),
        (
            lambda d: d["ruleset"].__setitem__("rotation", "lottery"),
            "ruleset.rotation: literal_error:",
        ),
        (lambda d: d["ruleset"].__setitem__("vote", {"max_rounds": 0}), "ruleset.vote.max_rounds:"),
        (
            lambda d: d.update(deadlines={"pledge": "2018-03-31T17:00:00"}),
            "deadlines.pledge: naive_datetime:",
        ),
    ],
)
def test_invalid_scenarios_name_the_field_and_the_rule(
    reference: dict[str, Any], change: Callable[[dict[str, Any]], None], problem: str
) -> None:
    problems = _problems(_mutated(reference, change))
    assert any(p.startswith(problem) for p in problems), problems


def test_every_problem_is_reported_at_once(reference: dict[str, Any]) -> None:
    def change(d: dict[str, Any]) -> None:
        d["format"] = "x"
        d["steps"][1]["do"] = "dance"
        d["steps"][9]["sections"]["c2"] = "abc"

    problems = _problems(_mutated(reference, change))
    assert [p.split(":", 1)[0] for p in problems] == [
        "format",
        "steps[1].do",
        "steps[9].sections.c2",
    ]


def test_not_json_and_not_an_object() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("{")
    assert info.value.problems[0].startswith("(file): invalid_json:")
    with pytest.raises(ScenarioError) as info:
        load_scenario("[]")
    assert info.value.problems[0].startswith("(file): not_an_object:")


@pytest.mark.parametrize(
    ("score", "code"),
    [("12.345", "too_many_decimals"), ("600.5", "score_above_max")],
)
def test_rule_breaking_score_loads_then_fails_its_step(
    reference: dict[str, Any], score: str, code: str
) -> None:
    data = _mutated(reference, lambda d: d["steps"][8]["sections"].__setitem__("c1", score))
    scenario = parse_scenario(data)
    state, _, steps = run_pure(scenario, now=lambda: T0, ids=_ids())
    assert steps[8] == {"i": 8, "ok": False, "error": code}
    # The same step judged directly names the field.
    state = CycleState()
    ids = _ids()
    state = fold(decide(state, scenario.start_command(), Actor.admin(), now=T0, ids=ids))
    for step in scenario.steps[:8]:
        state = fold(decide(state, step.command, step.actor, now=T0, ids=ids), state)
    with pytest.raises(DomainError) as info:
        decide(state, scenario.steps[8].command, scenario.steps[8].actor, now=T0, ids=ids)
    assert (info.value.code, info.value.field) == (code, "sections.c1")


def test_ruleset_overrides_are_pinned_in_the_first_event(reference: dict[str, Any]) -> None:
    data = _mutated(
        reference,
        lambda d: d.update(
            ruleset={"id": "default", "quorum": "3/4", "vote": {"compare": "at_least"}}
        ),
    )
    scenario = parse_scenario(data)
    _, log, _ = run_pure(scenario, now=lambda: T0, ids=_ids())
    first = log[0]
    assert first.type == "cycle_started"
    assert str(first.ruleset.quorum) == "3/4"  # type: ignore[union-attr]
    assert first.ruleset.vote.compare == "at_least"  # type: ignore[union-attr]
    assert first.ruleset.vote.threshold == scenario.ruleset.vote.threshold  # type: ignore[union-attr]
