"""The stages of a cycle, and which event moves a cycle into which stage (one table, used by
the fold and by the read models)."""

from __future__ import annotations

__all__ = ["DEADLINE_STAGES", "STAGES", "STAGE_AFTER"]

STAGES = ("pledge", "scoring", "review", "discipline", "vote", "election", "completed", "cancelled")
DEADLINE_STAGES = ("pledge", "scoring", "review", "discipline", "vote", "election")

STAGE_AFTER: dict[str, str] = {
    "cycle_started": "pledge",
    "pledge_closed": "scoring",
    "scoring_closed": "review",
    "review_held": "discipline",
    "discipline_check_closed": "vote",
    "election_opened": "election",
    "cycle_completed": "completed",
    "cycle_cancelled": "cancelled",
}
"""Event type → the stage a cycle is in after it."""
