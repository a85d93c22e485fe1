"""What a cycle's state may show to whom (DOMAIN.md, Stages 6: until a round closes only who
has voted is known, not how; the tally is known once it closes, every ballot only to auditors).

`public_state` is the state for everyone but auditors: each vote round and election round shows
`voted` (who has cast) instead of `ballots`; a closed round shows its tally; request ids are
left out. `auditor_state` is the whole state. Both are JSON-ready dicts.
"""

from __future__ import annotations

from typing import Any

from .state import CycleState

__all__ = ["auditor_state", "public_state", "state_for"]


def auditor_state(state: CycleState) -> dict[str, Any]:
    """Everything, ballots and request ids included."""
    return state.model_dump(mode="json")


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
