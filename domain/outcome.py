"""The outcome object of a scenario run (scenarios README, "Outcome"), and how it is compared
with a scenario's `expect` block."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from .decide import build_outcome, cancelled_outcome
from .state import CycleState
from .values import canonical_decimal

__all__ = ["compare_outcome", "outcome_json"]


def outcome_json(
    state: CycleState, steps: list[dict[str, Any]], *, events: int, last_hash: str | None
) -> dict[str, Any]:
    """The outcome object of `thidua scenario run --json` (scenarios README)."""
    outcome = state.outcome
    if state.stage == "cancelled":
        outcome = cancelled_outcome(state)
    elif outcome is None and state.ruleset is not None and state.score_sheet is not None:
        outcome = build_outcome(state, state.next_head, state.next_deputy)
    body = outcome.model_dump(mode="json") if outcome is not None else {}
    return {
        "cycle_id": state.cycle_id,
        "status": state.stage,
        "steps": steps,
        "ranking": body.get("ranking", []),
        "excluded": {u: list(r) for u, r in body.get("excluded", {}).items()},
        "nominations": body.get("nominations", []),
        "next_head": body.get("next_head"),
        "next_deputy": body.get("next_deputy"),
        "events": events,
        "last_hash": last_hash,
    }


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return canonical_decimal(Decimal(value)) if value.strip() else value
        except InvalidOperation:
            return value
    return value


def compare_outcome(outcome: dict[str, Any], expect: dict[str, Any] | None) -> list[str]:
    """What differs between an outcome and a scenario's `expect` block (empty: it matches).

    Lists of objects are compared item by item on the keys the expectation gives."""
    diffs: list[str] = []
    for key, want in (expect or {}).items():
        got = outcome.get(key)
        if isinstance(want, list) and all(isinstance(w, dict) for w in want):
            if not isinstance(got, list) or len(got) != len(want):
                diffs.append(
                    f"{key}: expected {len(want)} items, got {json.dumps(got, ensure_ascii=False)}"
                )
                continue
            for i, (w, g) in enumerate(zip(want, got, strict=True)):
                for k, v in w.items():
                    if _norm(g.get(k)) != _norm(v):
                        diffs.append(f"{key}[{i}].{k}: expected {v!r}, got {g.get(k)!r}")
        elif isinstance(want, dict):
            gotd = {k: sorted(v) if isinstance(v, list) else v for k, v in (got or {}).items()}
            wantd = {k: sorted(v) if isinstance(v, list) else v for k, v in want.items()}
            if gotd != wantd:
                diffs.append(f"{key}: expected {want!r}, got {got!r}")
        elif _norm(got) != _norm(want):
            diffs.append(f"{key}: expected {want!r}, got {got!r}")
    return diffs
