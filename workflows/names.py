"""Names shared by the workflow, the worker and the client: activities and error types (the
search attributes are in workflows.search).

The workflow calls activities by these names and the activities are registered under them, so
one constant cannot drift from the other. Changing a value breaks every recorded history.
"""

from __future__ import annotations

__all__ = [
    "APPEND",
    "CONTINUING",
    "READ_EVENTS",
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

# ---- error types that are not rule codes -------------------------------------------------------
CONTINUING = "cycle_continuing"
"""An update refused by its validator while the run hands over to the next one (continue-as-new):
the client sends it again, under the same update id, and the next run takes it."""
