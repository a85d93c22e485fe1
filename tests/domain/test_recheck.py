"""Auditors recompute every decision from the events alone (domain.recheck.recheck)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.decide import decide
from domain.errors import DomainError
from domain.events import CycleStarted, Event
from domain.fold import fold
from domain.recheck import recheck
from domain.scenario import load_scenario, run_pure
from domain.state import CycleState
from domain.values import Actor

pytestmark = pytest.mark.pure

REFERENCE = Path(__file__).resolve().parents[2] / "app" / "scenarios" / "kg-khoi-2-2018.json"


def reference_log() -> list[Event]:
    scenario = load_scenario(REFERENCE.read_bytes())
    tick = itertools.count()
    t0 = datetime(2019, 3, 8, tzinfo=UTC)
    _, log, _ = run_pure(scenario, now=lambda: t0 + timedelta(minutes=next(tick)), ids=uuid.uuid4)
    return log


def test_an_honest_log_follows_from_the_rules() -> None:
    assert recheck(reference_log()) == []


def _tamper(log: list[Event], type_: str, **update: object) -> tuple[int, list[Event]]:
    i = next(i for i, e in enumerate(log) if e.type == type_)
    return i + 1, [*log[:i], log[i].model_copy(update=update), *log[i + 1 :]]


@pytest.mark.parametrize(
    ("type_", "change"),
    [
        ("review_held", lambda e: {"quorum_required": 1}),
        ("discipline_check_closed", lambda e: {"excluded": {}}),
        ("vote_round_opened", lambda e: {"proposals": tuple(reversed(e.proposals))}),
        ("vote_round_closed", lambda e: {"tally": (e.tally[1], e.tally[0], e.tally[2])}),
        ("election_round_closed", lambda e: {"deputy": "vp-hdnd"}),
        ("pledge_closed", lambda e: {"unsigned": ("so-khdt",)}),
    ],
)
def test_a_decision_that_does_not_follow_from_the_rules_is_found(type_: str, change) -> None:
    log = reference_log()
    event = next(e for e in log if e.type == type_)
    version, bad = _tamper(log, type_, **change(event))
    findings = recheck(bad)
    assert findings, f"a changed {type_} went unnoticed"
    assert findings[0].version == version
    assert findings[0].kind == "decision_mismatch"


def test_an_event_that_the_rules_reject_is_found() -> None:
    log = reference_log()
    # a ballot from a unit that was absent from the review
    i = next(i for i, e in enumerate(log) if e.type == "ballot_cast")
    forged = log[i].model_copy(update={"voter": "vp-dieu-phoi-ntm", "request_id": "forged"})
    findings = recheck([*log[: i + 1], forged, *log[i + 1 :]])
    assert findings[0].version == i + 2
    assert findings[0].kind in ("rejected_by_rules", "decision_mismatch")


def test_a_missing_event_is_found() -> None:
    log = reference_log()
    i = next(i for i, e in enumerate(log) if e.type == "pledge_closed")
    findings = recheck([*log[:i], *log[i + 1 :]])
    assert findings and findings[0].version == i


def test_a_start_with_a_leaving_unit_follows_from_the_rules() -> None:
    # the deputy leaves after the year: the start carries it, and so must its recheck
    scenario = load_scenario(REFERENCE.read_bytes())
    leaving = (scenario.block.deputy,)
    start = scenario.start_command().model_copy(update={"leaving_after_year": leaving})
    tick = itertools.count()
    t0 = datetime(2019, 3, 8, tzinfo=UTC)
    log: list[Event] = []
    state = CycleState()
    for n, (actor, command) in enumerate(
        [(Actor.admin(), start), *((s.actor, s.command) for s in scenario.steps)]
    ):
        try:
            new = decide(
                state,
                command,
                actor,
                now=t0 + timedelta(minutes=next(tick)),
                ids=uuid.uuid4,
                request_id=f"step-{n}",
            )
        except DomainError:
            continue
        state, log = fold(new, state), [*log, *new]
    assert isinstance(log[0], CycleStarted) and log[0].leaving_after_year == leaving
    assert state.election is not None and state.election.mode == "both"  # no succession
    assert recheck(log) == []
    # and the field is judged: a start recorded without it is found
    wrong = [log[0].model_copy(update={"leaving_after_year": ()}), *log[1:]]
    assert recheck(wrong)
