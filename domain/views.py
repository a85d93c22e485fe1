"""What a cycle's state may show to whom (DOMAIN.md, Stages 6: until a round closes only who
has voted is known, not how; the tally is known once it closes, every ballot only to auditors).

`public_state` is the state for everyone but auditors: each vote round and election round shows
`voted` (who has cast) instead of `ballots`; a closed round shows its tally; request ids are
left out. `auditor_state` is the whole state but an open round's ballots. Both are JSON-ready
dicts.
"""

from __future__ import annotations

from typing import Any

from .state import CycleState

__all__ = ["auditor_state", "ballot_is_private", "public_state", "state_for"]


def auditor_state(state: CycleState, now: CycleState | None = None) -> dict[str, Any]:
    """Everything, request ids and the ballots of closed rounds included; a round still open
    shows who has voted, not how (DOMAIN.md: auditors see every ballot once the round
    closes). `state` may be a past state (replay as of a moment); `now` is the cycle's state
    now, which says which rounds are still open (default: `state`)."""
    now = now or state
    open_now = {r.round for r in now.rounds if not r.closed}
    data = state.model_dump(mode="json")
    for shown, r in zip(data["rounds"], state.rounds, strict=True):
        if r.round in open_now:
            shown["ballots"] = {}
            shown["voted"] = [u for u in r.voters if u in r.ballots]
    el = state.election
    if el is not None and (now.election is None or not _round_closed(now.election, el.round)):
        # its ballots are those of its current round (cleared at each close)
        data["election"]["ballots"] = {}
        data["election"]["voted"] = [u for u in el.voters if u in el.ballots]
    return data


def ballot_is_private(state: CycleState, type_: str, data: dict[str, Any]) -> bool:
    """Whether a stored ballot event (`ballot_cast`, `election_ballot_cast`) belongs to a round
    not closed in `state` (the state now): then how it voted is shown to nobody."""
    if type_ == "ballot_cast":
        return any(r.round == data.get("round") and not r.closed for r in state.rounds)
    if type_ == "election_ballot_cast":
        return state.election is not None and not _round_closed(state.election, data.get("round"))
    return False


def _round_closed(el: Any, round_: Any) -> bool:
    return any(h.round == round_ for h in el.history)


def public_state(state: CycleState) -> dict[str, Any]:
    """The state without how anyone voted and without request ids."""
    data = state.model_dump(mode="json", exclude={"requests"})
    for shown, r in zip(data["rounds"], state.rounds, strict=True):
        shown.pop("ballots")
        shown["voted"] = [u for u in r.voters if u in r.ballots]
        if not r.closed:
            shown["tally"] = []
    if state.election is not None:
        el = state.election
        shown = data["election"]
        shown.pop("ballots")
        shown["voted"] = [u for u in el.voters if u in el.ballots]
    return data


def state_for(state: CycleState, *, auditor: bool) -> dict[str, Any]:
    return auditor_state(state) if auditor else public_state(state)
