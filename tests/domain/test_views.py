"""Ballot privacy as a pure view: who has voted is public, how only to auditors and only once
the round closed."""

from __future__ import annotations

import json

import pytest

from domain.views import auditor_state, ballot_is_private, public_state, state_for

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
    # auditors too see who voted, not how, until the round closes (DOMAIN.md)
    assert full["rounds"][0]["ballots"] == {} and full["rounds"][0]["voted"] == ["u3", "u4"]
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
    # auditors too: the round is open
    shown = auditor_state(c.state)["election"]
    assert shown["ballots"] == {} and shown["voted"] == ["u3"]
    assert ballot_is_private(c.state, "election_ballot_cast", {"round": 1, "voter": "u3"})


def test_auditors_see_a_ballot_once_its_round_closed_also_as_of_a_past_version() -> None:
    c = voting()
    while_open = c.state.model_copy(deep=True)
    assert ballot_is_private(c.state, "ballot_cast", {"round": 1, "voter": "u3"})
    c.do("u1", "close_vote_round")
    assert not ballot_is_private(c.state, "ballot_cast", {"round": 1, "voter": "u3"})
    # the state as it was while the round was open, seen now that it closed: every ballot
    assert auditor_state(while_open, now=c.state)["rounds"][0]["ballots"] == {
        "u3": ["u1", "u2"],
        "u4": [],
    }
    assert auditor_state(while_open)["rounds"][0]["ballots"] == {}


def test_a_state_without_vote_has_nothing_to_hide_but_request_ids() -> None:
    c = Cycle()
    shown = public_state(c.state)
    assert shown["rounds"] == [] and shown["election"] is None
    assert {k: v for k, v in auditor_state(c.state).items() if k != "requests"} == shown
