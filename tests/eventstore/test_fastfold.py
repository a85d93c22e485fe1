"""The fast fold of replay equals domain.state.fold at every version: the reference cycle and
random cycles (tests/domain/random_cycles.py). Pure: no database."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.codec import EventRecord
from domain.events import Event
from domain.state import fold
from eventstore.audit import replay_rows
from eventstore.chain import GENESIS, canonical_body, chain_hash

from ..domain.test_properties import random_run
from .cycles import reference_events, rows_of

pytestmark = pytest.mark.pure

STREAM = "cycle-khoi-test-2018"


def check_every_version(events: list[Event]) -> None:
    rows = rows_of(STREAM, events)
    for v in range(len(events) + 1):
        replay = replay_rows(STREAM, rows[:v])
        assert replay.report.ok, replay.report
        assert replay.state == fold(events[:v]), f"differs at version {v}"
        assert replay.state.model_dump() == fold(events[:v]).model_dump()
    assert replay_rows(STREAM, rows).events == events


def test_the_reference_cycle_folds_the_same_at_every_version() -> None:
    events = reference_events()
    assert len(events) > 40
    assert {"pledge_signed", "self_score_submitted", "ballot_cast",
            "election_ballot_cast"} <= {e.type for e in events}
    check_every_version(events)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_cycles_fold_the_same_at_every_version(data: st.DataObject) -> None:
    _, events = random_run(data, data.draw(st.integers(0, 80)))
    check_every_version(events)


def _row(version: int, prev: bytes, type_: str, data: dict[str, object],
         actor: dict[str, object] | None = None) -> tuple[int, bytes, bytes]:
    r = EventRecord(event_id=uuid4(), type=type_, data=data,
                    actor=actor if actor is not None else {"kind": "unit", "unit": "a"},
                    effective_at=datetime(2025, 1, 1, tzinfo=UTC))
    body = canonical_body(stream=STREAM, version=version, event_id=r.event_id, type=r.type,
                          schema_version=1, data=r.data, actor=r.actor,
                          effective_at=r.effective_at, request_id=None)
    return version, body, chain_hash(prev, body)


@pytest.mark.parametrize("bad", [
    {"type": "pledge_signed", "unit": ["a"]},
    {"type": "pledge_signed"},
    {"type": "pledge_signed", "unit": 7},
    {"type": "pledge_signed", "unit": "a", "extra": 1},
])
def test_a_hot_event_of_the_wrong_shape_is_unreadable_as_pydantic_says(
    bad: dict[str, object],
) -> None:
    rows = [_row(1, GENESIS, "pledge_signed", {"type": "pledge_signed", "unit": "a"})]
    rows.append(_row(2, rows[0][2], "pledge_signed", bad))
    rows.append(_row(3, rows[1][2], "pledge_signed", {"type": "pledge_signed", "unit": "c"}))
    replay = replay_rows(STREAM, rows)
    assert replay.report.first is not None
    assert (replay.report.first.kind, replay.report.first.version) == ("unreadable", 2)
    assert replay.state.version == 1 and replay.state.signed == ["a"]
    assert len(replay.events) == 1


def test_scores_that_are_not_plain_decimal_strings_take_the_pydantic_path() -> None:
    data = {"type": "self_score_submitted", "unit": "a", "sections": {"c1": 100, "c2": "5"}}
    replay = replay_rows(STREAM, [_row(1, GENESIS, "self_score_submitted", data)])
    assert replay.report.ok
    assert replay.state == fold(replay.events)
    assert replay.state.self_scores["a"] == {"c1": 100, "c2": 5}


@pytest.mark.parametrize("score", ["1e2", "-1", " 1", "1_0", "NaN", "1."])
def test_scores_pydantic_refuses_are_unreadable(score: str) -> None:
    data = {"type": "self_score_submitted", "unit": "a", "sections": {"c1": score}}
    replay = replay_rows(STREAM, [_row(1, GENESIS, "self_score_submitted", data)])
    assert replay.report.first is not None and replay.report.first.kind == "unreadable"
    assert replay.state.version == 0


@pytest.mark.parametrize("actor", [
    {"kind": "unit", "unit": ["a"]}, {"kind": "robot"}, {"kind": "unit", "badge": "x"}, {},
])
def test_an_actor_pydantic_refuses_is_unreadable(actor: dict[str, object]) -> None:
    data = {"type": "pledge_signed", "unit": "a"}
    replay = replay_rows(STREAM, [_row(1, GENESIS, "pledge_signed", data, actor)])
    assert replay.report.first is not None and replay.report.first.kind == "unreadable"


def test_a_person_as_actor_takes_the_fast_path_and_folds_the_same() -> None:
    actor = {"kind": "unit", "unit": "a", "name": "N", "login": "nv.a", "position": "P"}
    data = {"type": "pledge_signed", "unit": "a"}
    replay = replay_rows(STREAM, [_row(1, GENESIS, "pledge_signed", data, actor)])
    assert replay.report.ok and replay.state == fold(replay.events)
