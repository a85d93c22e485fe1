"""Names shared by the workflow and the worker: activities, error types, search attributes.

The workflow calls activities by these names and the activities are registered under them, so
one constant cannot drift from the other. Changing a value breaks every recorded history.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

__all__ = [
    "APPEND",
    "CONTINUING",
    "READ_EVENTS",
    "SA_BLOCK",
    "SA_PROVINCE",
    "SA_STAGE",
    "SA_YEAR",
    "SEARCH_ATTRIBUTES",
    "WRITE_REMINDERS",
]

# ---- activities ------------------------------------------------------------------------------
APPEND = "append"
"""Append a cycle's events to its stream (idempotent by event id)."""
WRITE_REMINDERS = "write_reminders"
"""Write reminder rows to the outbox."""
READ_EVENTS = "read_events"
"""Read events of a cycle back from the store (the first answer to a request that an earlier run
of the workflow accepted)."""

# ---- error types that are not rule codes -------------------------------------------------------
CONTINUING = "cycle_continuing"
"""An update refused by its validator while the run hands over to the next one (continue-as-new):
the client sends it again, under the same update id, and the next run takes it."""

# ---- search attributes (operators find cycles by block, year, stage, province) ---------------
SA_BLOCK = SearchAttributeKey.for_keyword("ThiduaBlock")
SA_YEAR = SearchAttributeKey.for_int("ThiduaYear")
SA_STAGE = SearchAttributeKey.for_keyword("ThiduaStage")
SA_PROVINCE = SearchAttributeKey.for_keyword("ThiduaProvince")

SEARCH_ATTRIBUTES: tuple[SearchAttributeKey[str] | SearchAttributeKey[int], ...] = (
    SA_BLOCK, SA_YEAR, SA_STAGE, SA_PROVINCE,
)
"""What a Temporal namespace must have registered before cycles upsert them, e.g.
`temporal operator search-attribute create --name ThiduaBlock --type Keyword` (name and
`key.indexed_value_type`), or `start_local(search_attributes=SEARCH_ATTRIBUTES)` in tests."""
