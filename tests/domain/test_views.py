"""Ballot privacy as a pure view: who has voted is public, how only to auditors."""

from __future__ import annotations

import json

import pytest

from domain.views import auditor_state, public_state, state_for

from .helpers import Cycle, distinct_scores

pytestmark = pytest.mark.pure


def voting() -> Cycle:
    c = Cycle()
    c.to_vote(distinct_scores(5))
    c.do("u1", "open_vote_round")
    c.do("u3", "cast_ballot", approve=["u1", "u2"])
    c.do("u4", "cast_ballot", approve=[])
    return c


def test_an_open_round_shows_who_voted_not_how() -> None:
    c = voting()
    shown = public_state(c.state)
    r = shown["rounds"][0]
    assert "ballots" not in r
    assert r["voted"] == ["u3", "u4"]
    assert r["tally"] == [] and r["closed"] is False
    assert r["proposals"] == ["u1", "u2", "u3"]
    assert "requests" not in shown
    full = auditor_state(c.state)
    assert full["rounds"][0]["ballots"] == {"u3": ["u1", "u2"], "u4": []}
    assert "requests" in full
    assert state_for(c.state, auditor=True) == full
    assert state_for(c.state, auditor=False) == shown


def test_the_public_view_holds_no_ballot_anywhere() -> None:
    c = voting()
    text = json.dumps(public_state(c.state))
    assert '"ballots"' not in text
    assert '"u3": ["u1", "u2"]' not in text


def test_a_closed_round_shows_its_tally_but_not_the_ballots() -> None:
    c = voting()
    c.do("u1", "close_vote_round")
    r = public_state(c.state)["rounds"][0]
    assert "ballots" not in r and r["voted"] == ["u3", "u4"]
    assert [(t["unit"], t["approvals"]) for t in r["tally"]] == [("u1", 1), ("u2", 1), ("u3", 0)]
    assert auditor_state(c.state)["rounds"][0]["ballots"]["u3"] == ["u1", "u2"]


def test_an_open_election_round_shows_who_voted_not_whom() -> None:
    c = voting()
    c.do("u1", "close_vote_round")
    c.do("u1", "open_election")
    c.do("u3", "cast_election_ballot", deputy="u4")
    el = public_state(c.state)["election"]
    assert "ballots" not in el and el["voted"] == ["u3"]
    assert auditor_state(c.state)["election"]["ballots"] == {"u3": [None, "u4"]}


def test_a_state_without_vote_has_nothing_to_hide_but_request_ids() -> None:
    c = Cycle()
    shown = public_state(c.state)
    assert shown["rounds"] == [] and shown["election"] is None
    assert {k: v for k, v in auditor_state(c.state).items() if k != "requests"} == shown
