"""Replay's fast fold: the events of a stream folded straight from their stored JSON.

`domain.fold.fold` over pydantic events is the definition of a cycle's state. Parsing every
event with pydantic and folding it costs ~30 µs an event, most of it for the few event types a
cycle holds by the hundred (pledges, self-scores, ballots). This module folds those straight
from the stored bytes: `add_body` decodes a hashed object with a compiled msgspec schema of the
hot types (exact keys, exact JSON types: at least as strict as the pydantic models; plain decimal
strings checked here) and applies it. Every other event, and any event the schema refuses, is
decoded with orjson and goes through `add`: the same shape checks over the dict, then pydantic and
`domain.fold.fold_into`, so it reports exactly the same errors. tests/eventstore/test_fastfold.py
checks that the result equals `fold` at every version of the reference cycle and of random
cycles, and that a hot event of the wrong shape is unreadable as pydantic says.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import msgspec
import orjson

from domain.events import Event, EventAdapter
from domain.fold import fold_into
from domain.stages import STAGE_AFTER
from domain.state import CycleState, act_key
from domain.values import SCORE_PATTERN

__all__ = ["FastFold", "event_input"]

_DECIMALS = re.compile(f"{SCORE_PATTERN}(?:\x00{SCORE_PATTERN})*", re.ASCII)
"""Plain decimal strings joined by NUL (which none of them can hold): one match for a sheet."""
_ACTOR_KINDS = frozenset(("admin", "auditor", "unit", "system"))
_PLEDGE = frozenset(("type", "unit"))
_SELF_SCORE = frozenset(("type", "unit", "sections"))
_VERIFIED = frozenset(("type", "unit", "sections", "note", "changed"))
_BALLOT = frozenset(("type", "round", "voter", "approve"))
_ELECTION_BALLOT = frozenset(("type", "round", "voter", "head", "deputy"))
_ACTOR_FIELDS = ("kind", "unit", "name", "login", "position")


def event_input(obj: dict[str, Any]) -> dict[str, Any]:
    """The dict pydantic parses into a domain event, from a decoded hashed object (what
    domain.codec.from_record builds from the columns)."""
    item = dict(obj["data"])
    item["type"] = obj["type"]
    item["event_id"] = obj["event_id"]
    item["at"] = obj["effective_at"]
    item["actor"] = obj["actor"]
    item["request_id"] = obj["request_id"]
    return item


def _str_list(value: Any) -> bool:
    return type(value) is list and all(type(v) is str for v in value)


def _opt_str(value: Any) -> bool:
    return value is None or type(value) is str


def _scores_ok(value: Any) -> bool:
    """A dict of plain decimal strings (kept as strings until `FastFold.result`)."""
    return (
        type(value) is dict and all(type(v) is str for v in value.values()) and _sections_ok(value)
    )


def _decimals(scores: dict[str, dict[str, Any]]) -> None:
    for unit, sections in scores.items():
        scores[unit] = {k: Decimal(v) if type(v) is str else v for k, v in sections.items()}


# ---- the compiled schema of the hot event types (msgspec) ------------------------------------


class _Actor(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal["admin", "auditor", "unit", "system"]
    unit: str | None = None
    name: str | None = None
    login: str | None = None
    position: str | None = None


class _Pledge(msgspec.Struct, tag_field="type", tag="pledge_signed", forbid_unknown_fields=True):
    unit: str


class _SelfScore(
    msgspec.Struct, tag_field="type", tag="self_score_submitted", forbid_unknown_fields=True
):
    unit: str
    sections: dict[str, str]


class _Verified(msgspec.Struct, tag_field="type", tag="score_verified", forbid_unknown_fields=True):
    unit: str
    sections: dict[str, str]
    note: str
    changed: list[str]


class _Ballot(msgspec.Struct, tag_field="type", tag="ballot_cast", forbid_unknown_fields=True):
    round: int
    voter: str
    approve: list[str]


class _ElectionBallot(
    msgspec.Struct, tag_field="type", tag="election_ballot_cast", forbid_unknown_fields=True
):
    round: int
    voter: str
    head: str | None
    deputy: str | None


class _Hot(msgspec.Struct, forbid_unknown_fields=True):
    """A hashed object (chain.py) whose data is one of the hot types."""

    actor: _Actor
    data: _Pledge | _SelfScore | _Verified | _Ballot | _ElectionBallot
    effective_at: str
    event_id: str
    request_id: str | None
    schema_version: int
    stream: str
    type: str
    version: int


_decode_hot = msgspec.json.Decoder(_Hot).decode
_TAG: dict[type, str] = {
    c: c.__struct_config__.tag  # type: ignore[misc]
    for c in (_Pledge, _SelfScore, _Verified, _Ballot, _ElectionBallot)
}


def _sections_ok(sections: dict[str, str]) -> bool:
    """Every value a plain decimal string: one match over the values joined by NUL, and as many
    NULs as joins (a value holding a NUL of its own is not a decimal). An empty sheet is left
    to pydantic."""
    joined = "\x00".join(sections.values())
    return _DECIMALS.fullmatch(joined) is not None and joined.count("\x00") == len(sections) - 1


class FastFold:
    """Folds decoded hashed objects (see chain.py) one by one into a CycleState.

    `add(obj)` returns None, or the pydantic error of an event that does not parse as a domain
    event (the caller stops there, like `fold` over the parsed prefix); `result()` gives the
    state. Between pydantic events the state's version and last_at are kept aside, and hot
    scores stay strings: `result()` (and each pydantic event) brings the state up to date."""

    def __init__(self) -> None:
        self.state = CycleState()
        self._actors: dict[tuple[Any, ...], bool] = {}
        s = self.state
        self._hot: dict[str, Callable[[dict[str, Any]], bool]] = {
            "pledge_signed": self._pledge,
            "self_score_submitted": self._self_score,
            "score_verified": self._verified,
            "ballot_cast": self._ballot,
            "election_ballot_cast": self._election_ballot,
        }
        self._dict = s.__dict__
        self._requests = s.requests
        self._version = 0
        self._last_at: str | None = None

    # ---- the hot event types; each returns False to leave the event to pydantic ------------

    def _pledge(self, data: dict[str, Any]) -> bool:
        if data.keys() != _PLEDGE or type(data["unit"]) is not str:
            return False
        self.state.signed.append(data["unit"])
        return True

    def _self_score(self, data: dict[str, Any]) -> bool:
        if data.keys() != _SELF_SCORE or type(data["unit"]) is not str:
            return False
        if not _scores_ok(data["sections"]):
            return False
        self.state.self_scores[data["unit"]] = data["sections"]
        acts, act = self.state.acts, act_key("self_score", data["unit"])
        acts[act] = acts.get(act, 0) + 1
        return True

    def _verified(self, data: dict[str, Any]) -> bool:
        if (
            data.keys() != _VERIFIED
            or type(data["unit"]) is not str
            or type(data["note"]) is not str
            or not _str_list(data["changed"])
        ):
            return False
        if not _scores_ok(data["sections"]):
            return False
        self.state.verified[data["unit"]] = data["sections"]
        return True

    def _ballot(self, data: dict[str, Any]) -> bool:
        rounds = self.state.rounds
        if (
            not rounds
            or data.keys() != _BALLOT
            or type(data["round"]) is not int
            or type(data["voter"]) is not str
            or not _str_list(data["approve"])
        ):
            return False
        rounds[-1].ballots[data["voter"]] = list(data["approve"])
        return True

    def _election_ballot(self, data: dict[str, Any]) -> bool:
        election = self.state.election
        if (
            election is None
            or data.keys() != _ELECTION_BALLOT
            or type(data["round"]) is not int
            or type(data["voter"]) is not str
            or not _opt_str(data["head"])
            or not _opt_str(data["deputy"])
        ):
            return False
        election.ballots[data["voter"]] = (data["head"], data["deputy"])
        return True

    def _actor_ok(self, actor: Any) -> bool:
        if type(actor) is not dict:
            return False
        key = tuple(actor.items())
        try:
            ok = self._actors.get(key)
        except TypeError:  # a list or an object as a value: pydantic will say what is wrong
            return False
        if ok is None:
            ok = self._actors[key] = actor.get("kind") in _ACTOR_KINDS and all(
                k in _ACTOR_FIELDS and _opt_str(v) for k, v in key
            )
        return ok

    # ---- one event ---------------------------------------------------------------------------

    def add_body(self, body: bytes) -> tuple[int, str, dict[str, Any] | None, Exception | None]:
        """Fold one stored body: (the version and stream its hashed object names, the decoded
        object when it was not a hot event, the error of an event that does not parse)."""
        try:
            h = _decode_hot(body)
        except msgspec.DecodeError:  # not a hot event, or not of its shape (or not JSON: orjson
            h = None  # below raises as before)
        if h is not None and self._apply(h):
            return h.version, h.stream, None, None
        obj = orjson.loads(body)
        return obj["version"], obj["stream"], obj, self.add(obj)

    def _apply(self, h: _Hot) -> bool:
        """A decoded hot event into the state; False to leave it to `add` (and pydantic)."""
        d, state = h.data, self.state
        if _TAG[type(d)] != h.type:
            return False
        if isinstance(d, _SelfScore):
            if not _sections_ok(d.sections):
                return False
            state.self_scores[d.unit] = d.sections  # type: ignore[assignment]  # Decimals at result
            acts, act = state.acts, act_key("self_score", d.unit)
            acts[act] = acts.get(act, 0) + 1
        elif isinstance(d, _Ballot):
            if not state.rounds:
                return False
            state.rounds[-1].ballots[d.voter] = d.approve
        elif isinstance(d, _Pledge):
            state.signed.append(d.unit)
        elif isinstance(d, _Verified):
            if not _sections_ok(d.sections):
                return False
            state.verified[d.unit] = d.sections  # type: ignore[assignment]
        else:
            if state.election is None:
                return False
            state.election.ballots[d.voter] = (d.head, d.deputy)
        self._version += 1
        self._last_at = h.effective_at
        stage = STAGE_AFTER.get(h.type)
        if stage is not None:
            self._dict["stage"] = stage
        if h.request_id is not None:
            self._requests.setdefault(h.request_id, []).append(self._version)
        return True

    def add(self, obj: dict[str, Any]) -> Exception | None:
        hot = self._hot.get(obj["type"])
        data = obj["data"]
        if (
            hot is not None
            and type(data) is dict
            and data.get("type") == obj["type"]
            and self._actor_ok(obj["actor"])
            and hot(data)
        ):
            self._version += 1
            self._last_at = obj["effective_at"]
            stage = STAGE_AFTER.get(obj["type"])
            if stage is not None:
                self._dict["stage"] = stage
            request = obj["request_id"]
            if request is not None:
                self._requests.setdefault(request, []).append(self._version)
            return None
        try:
            event: Event = EventAdapter.validate_python(event_input(obj))
        except ValueError as exc:  # pydantic's ValidationError
            return exc
        self._sync()
        fold_into(self.state, (event,))
        self._version = self.state.version
        self._last_at = None
        return None

    def _sync(self) -> None:
        d = self._dict
        d["version"] = self._version
        if self._last_at is not None:
            d["last_at"] = datetime.fromisoformat(self._last_at)
            self._last_at = None

    def result(self) -> CycleState:
        """The state folded so far (call once, after the last `add`)."""
        self._sync()
        _decimals(self.state.self_scores)
        _decimals(self.state.verified)
        return self.state
