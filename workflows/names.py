"""Names shared by the workflow, the worker and the client: activities and error types (the
search attributes are in workflows.search).

The workflow calls activities by these names and the activities are registered under them, so
one constant cannot drift from the other. Changing a value breaks every recorded history.
"""

from __future__ import annotations

__all__ = [
    "ACTIVITY_NAMES",
    "APPEND",
    "COMPILE_PROPOSALS",
    "CONTINUING",
    "CYCLE_STAGE",
    "PLAN_YEAR",
    "READ_AFTER",
    "READ_EVENTS",
    "SET_BLOCK_LEADERS",
    "WRITE_REMINDERS",
    "WRITE_TASKS",
]

# ---- activities ------------------------------------------------------------------------------
APPEND = "append"
"""Append a cycle's events to its stream (idempotent by event id)."""
WRITE_REMINDERS = "write_reminders"
"""Write reminder rows to the outbox."""
WRITE_TASKS = "write_tasks"
"""Write "new task" rows to the outbox when a stage (or a vote round) opens tasks for units."""
READ_EVENTS = "read_events"
"""Read events of a cycle back from the store (the first answer to a request that an earlier run
of the workflow accepted)."""
READ_AFTER = "read_after"
"""Read a cycle's events after a version: what a lost workflow task of the same workflow had
appended (a local append commits before its task completes), for the next task to adopt."""

SET_BLOCK_LEADERS = "set_block_leaders"
"""Write the leaders a completed cycle elected as its block's leaders of the next year."""
PLAN_YEAR = "plan_year"
"""Plan a province's year: one cycle's start (or the rule that stops it) per block."""
CYCLE_STAGE = "cycle_stage"
"""The stage of a cycle as its stream records it (a cycle the year did not start)."""
COMPILE_PROPOSALS = "compile_proposals"
"""Compile the province's list of proposals and append it to the province's stream."""

ACTIVITY_NAMES = frozenset(
    {
        APPEND,
        WRITE_REMINDERS,
        WRITE_TASKS,
        READ_EVENTS,
        READ_AFTER,
        SET_BLOCK_LEADERS,
        PLAN_YEAR,
        CYCLE_STAGE,
        COMPILE_PROPOSALS,
    }
)
"""Every activity's name."""

# ---- error types that are not rule codes -------------------------------------------------------
CONTINUING = "cycle_continuing"
"""An update refused by its validator while the run hands over to the next one (continue-as-new):
the client sends it again, under the same update id, and the next run takes it."""
