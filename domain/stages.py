"""The stages of a cycle and the one table of which event moves a cycle to which stage.

`fold` applies STAGE_AFTER; projections of the event store import it rather than keeping their
own copy, so the stage a reader shows is always the stage the rules judge by.
"""

from __future__ import annotations

from typing import Final

__all__ = ["CLOSED_STAGES", "DEADLINE_STAGES", "STAGES", "STAGE_AFTER"]

STAGES: Final = (
    "pledge", "scoring", "review", "discipline", "vote", "election", "completed", "cancelled",
)  # fmt: skip
"""DOMAIN.md's order; `none` is the stage of a cycle that has not started."""

DEADLINE_STAGES: Final = ("pledge", "scoring", "review", "discipline", "vote", "election")
"""The open stages: each may have a deadline, and the admin may cancel in any of them."""

CLOSED_STAGES: Final = ("completed", "cancelled")

STAGE_AFTER: Final[dict[str, str]] = {
    "cycle_started": "pledge",
    "pledge_closed": "scoring",
    "scoring_closed": "review",
    "review_held": "discipline",
    "discipline_check_closed": "vote",
    "election_opened": "election",
    "cycle_completed": "completed",
    "cycle_cancelled": "cancelled",
}
"""`{event type: the stage the cycle is in once that event is applied}`; other events keep the
stage."""
