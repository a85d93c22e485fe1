"""The fast fold of replay equals domain.fold.fold at every version: the reference cycle and
random cycles (tests/domain/random_cycles.py). Pure: no database."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.codec import EventRecord
from domain.events import Event
from domain.fold import fold
from eventstore.chain import GENESIS, canonical_body, chain_hash
from eventstore.fastfold import FastFold
from eventstore.verify import replay_rows

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
    assert {"pledge_signed", "self_score_submitted", "ballot_cast", "election_ballot_cast"} <= {
        e.type for e in events
    }
    check_every_version(events)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_cycles_fold_the_same_at_every_version(data: st.DataObject) -> None:
    _, events = random_run(data, data.draw(st.integers(0, 80)))
    check_every_version(events)


def _row(
    version: int,
    prev: bytes,
    type_: str,
    data: dict[str, object],
    actor: dict[str, object] | None = None,
) -> tuple[int, bytes, bytes]:
    r = EventRecord(
        event_id=uuid4(),
        type=type_,
        data=data,
        actor=actor if actor is not None else {"kind": "unit", "unit": "a"},
        effective_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    body = canonical_body(
        stream=STREAM,
        version=version,
        event_id=r.event_id,
        type=r.type,
        schema_version=1,
        data=r.data,
        actor=r.actor,
        effective_at=r.effective_at,
        request_id=None,
    )
    return version, body, chain_hash(prev, body)


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "pledge_signed", "unit": ["a"]},
        {"type": "pledge_signed"},
        {"type": "pledge_signed", "unit": 7},
        {"type": "pledge_signed", "unit": "a", "extra": 1},
    ],
)
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


@pytest.mark.parametrize(
    "score", ["1e2", "-1", " 1", "1_0", "NaN", "1.", "1\n", "1\x002", "١٢", ""]
)
def test_scores_pydantic_refuses_are_unreadable(score: str) -> None:
    data = {"type": "self_score_submitted", "unit": "a", "sections": {"c1": score}}
    replay = replay_rows(STREAM, [_row(1, GENESIS, "self_score_submitted", data)])
    assert replay.report.first is not None and replay.report.first.kind == "unreadable"
    assert replay.state.version == 0


@pytest.mark.parametrize(
    "actor",
    [
        {"kind": "unit", "unit": ["a"]},
        {"kind": "robot"},
        {"kind": "unit", "badge": "x"},
        {},
        {"kind": "unit", "unit": 7},
        {"kind": "unit", "name": {"x": "y"}},
    ],
)
def test_an_actor_pydantic_refuses_is_unreadable(actor: dict[str, object]) -> None:
    data = {"type": "pledge_signed", "unit": "a"}
    replay = replay_rows(STREAM, [_row(1, GENESIS, "pledge_signed", data, actor)])
    assert replay.report.first is not None and replay.report.first.kind == "unreadable"


def test_a_person_as_actor_takes_the_fast_path_and_folds_the_same() -> None:
    actor = {"kind": "unit", "unit": "a", "name": "N", "login": "nv.a", "position": "P"}
    data = {"type": "pledge_signed", "unit": "a"}
    replay = replay_rows(STREAM, [_row(1, GENESIS, "pledge_signed", data, actor)])
    assert replay.report.ok and replay.state == fold(replay.events)


OPEN_ROUND = {
    "type": "vote_round_opened",
    "round": 1,
    "proposals": ["a", "b"],
    "voters": ["a", "b"],
    "ranking": [],
}
OPEN_ELECTION = {
    "type": "election_opened",
    "mode": "both",
    "head": None,
    "voters": ["a", "b"],
    "round": 1,
    "head_candidates": ["a", "b"],
    "deputy_candidates": ["a", "b"],
}


@pytest.mark.parametrize(
    ("type_", "bad"),
    [
        ("ballot_cast", {"type": "ballot_cast", "round": True, "voter": "a", "approve": ["b"]}),
        ("ballot_cast", {"type": "ballot_cast", "round": 1.0, "voter": "a", "approve": ["b"]}),
        ("ballot_cast", {"type": "ballot_cast", "round": "1", "voter": "a", "approve": ["b"]}),
        ("ballot_cast", {"type": "ballot_cast", "round": 1, "voter": "a", "approve": [2]}),
        ("ballot_cast", {"type": "ballot_cast", "round": 1, "approve": ["b"]}),
        ("ballot_cast", {"type": "pledge_signed", "unit": "a"}),
    ],
)
def test_a_ballot_of_the_wrong_shape_is_unreadable_as_pydantic_says(
    type_: str,
    bad: dict[str, object],
) -> None:
    rows = [_row(1, GENESIS, "vote_round_opened", OPEN_ROUND, {"kind": "system"})]
    rows.append(_row(2, rows[0][2], type_, bad))
    replay = replay_rows(STREAM, rows)
    expected = fold(replay.events)
    assert replay.state == expected
    if replay.report.ok:  # pydantic took it (e.g. a data type naming another event)
        assert len(replay.events) == 2
    else:
        assert replay.report.first is not None
        assert (replay.report.first.kind, replay.report.first.version) == ("unreadable", 2)
        assert replay.state.version == 1


def test_every_hot_type_takes_the_fast_path_and_folds_the_same() -> None:
    rows = [_row(1, GENESIS, "pledge_signed", {"type": "pledge_signed", "unit": "a"})]
    for type_, data, actor in [
        (
            "self_score_submitted",
            {"type": "self_score_submitted", "unit": "a", "sections": {"c1": "12.5", "c2": "0"}},
            None,
        ),
        (
            "score_verified",
            {
                "type": "score_verified",
                "unit": "a",
                "sections": {"c1": "12"},
                "note": "n",
                "changed": ["c1"],
            },
            {"kind": "unit", "unit": "b"},
        ),
        ("vote_round_opened", OPEN_ROUND, {"kind": "system"}),
        ("ballot_cast", {"type": "ballot_cast", "round": 1, "voter": "a", "approve": ["b"]}, None),
        ("election_opened", OPEN_ELECTION, {"kind": "system"}),
        (
            "election_ballot_cast",
            {"type": "election_ballot_cast", "round": 1, "voter": "a", "head": "b", "deputy": None},
            None,
        ),
    ]:
        rows.append(_row(len(rows) + 1, rows[-1][2], type_, data, actor))
    replay = replay_rows(STREAM, rows)
    assert replay.report.ok, replay.report
    assert replay.state == fold(replay.events)
    assert replay.state.version == len(rows)
    # the hot types never reach the dict path (add_body hands back no decoded object)
    folder = FastFold()
    took_dict = [folder.add_body(body)[2] is not None for _, body, _ in rows]
    assert took_dict == [False, False, False, True, False, True, False]
