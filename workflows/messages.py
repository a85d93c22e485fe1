"""What goes in and out of the cycle workflow (pydantic, through the pydantic data converter)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.codec import EventRecord
from domain.commands import Command, StartCycle
from domain.events import Event, Outcome
from domain.pending import Reminder
from domain.state import CycleState
from domain.values import Actor

__all__ = [
    "DEFAULT_UPDATES_PER_RUN",
    "AppendInput",
    "AppendResult",
    "Carried",
    "CommandRequest",
    "CommandResult",
    "CycleInput",
    "CycleResult",
    "ReadEventsInput",
    "ReminderInput",
    "TasksInput",
    "cycle_key",
]


def cycle_key(block_id: str, year: int, prefix: str = "") -> tuple[str, str]:
    """(workflow id, event stream) of a block's yearly cycle."""
    return f"{prefix}cycle:{block_id}:{year}", f"{prefix}cycle-{block_id}-{year}"


DEFAULT_UPDATES_PER_RUN = 500
"""Accepted updates after which a run continues as new (Temporal refuses a run's 2,001st)."""


class Carried(BaseModel):
    """What one run of a cycle hands to the next (continue-as-new)."""

    state: CycleState
    enforce_from: datetime
    sent: list[str] = Field(default_factory=list)
    """Keys of the reminders already written."""
    given_up: list[str] = Field(default_factory=list)
    """Keys of deadlines the rules refused to apply (never retried)."""
    bindings: dict[str, str] = Field(default_factory=dict)
    """request id -> binding (see workflows.idempotency) of every accepted request."""
    run: int = 1
    """How many runs came before the next one (1 for the first continuation)."""


class CycleInput(BaseModel):
    model_config = ConfigDict(frozen=True)
    start: StartCycle
    actor: Actor
    request_id: str
    stream: str
    enforce_past_deadlines: bool = False
    """Deadlines already past when the cycle starts (a historical case) are recorded but not
    enforced unless this is set."""
    updates_per_run: int = Field(default=DEFAULT_UPDATES_PER_RUN, ge=1, le=1500)
    """Continue as new after this many accepted updates in one run (or when the server
    suggests it); well under Temporal's 2,000 per run."""
    search_attributes: bool = True
    """Upsert ThiduaBlock/Year/Stage/Province (workflows.names.SEARCH_ATTRIBUTES): the
    namespace must have them registered, else the workflow task fails."""
    carried: Carried | None = None
    """Set on a continued run: the state so far; the start is not decided again."""
    block_stream: str | None = None
    """The block's record: a completed cycle writes next year's leaders there (the rotation)."""


class CommandRequest(BaseModel):
    model_config = ConfigDict(frozen=True)
    command: Command
    actor: Actor
    request_id: str = Field(min_length=1, max_length=200)


class CommandResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    events: list[Event]
    version: int
    stage: str
    duplicate: bool = False


class CycleResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    cycle_id: str
    stream: str
    stage: str
    version: int
    outcome: Outcome | None


class AppendInput(BaseModel):
    model_config = ConfigDict(frozen=True)
    stream: str
    expected_version: int
    records: list[EventRecord]
    tasks: TasksInput | None = None
    """The "new task" rows that the state after these events opened, written by the same
    activity (None in histories recorded before, which wrote them in an activity of their own)."""


class AppendResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    version: int
    positions: list[int]
    hashes: list[str] = []
    """The hash stored for each event (hex), so that the history witnesses the chain: `audit
    reconcile` compares them with the store version by version (empty in histories recorded
    before they were kept)."""
    event_ids: list[str] = []
    """The ids of the appended events, in order. A local append's input is not in the history
    (only its result is, in a marker): `audit reconcile` learns from these what it wrote. Empty
    in histories recorded before (their scheduled appends record their input)."""
    types: list[str] = []
    """The types of the appended events, in order (as `event_ids`)."""


class ReadAfterInput(BaseModel):
    model_config = ConfigDict(frozen=True)
    stream: str
    after: int
    limit: int
    """At most this many (the versions the workflow can check against its own)."""


class Adopted(BaseModel):
    """The events a stream holds after a version, with their hashes: what a lost workflow task
    appended, adopted by the next one (recorded in the history's marker, so that `audit
    reconcile` counts them as the workflow's)."""

    model_config = ConfigDict(frozen=True)
    stream: str
    after: int
    records: list[EventRecord]
    hashes: list[str]


class ReadEventsInput(BaseModel):
    model_config = ConfigDict(frozen=True)
    stream: str
    versions: list[int]


class ReminderInput(BaseModel):
    model_config = ConfigDict(frozen=True)
    cycle_id: str
    stream: str
    reminder: Reminder
    units: dict[str, list[str]]
    created_at: datetime
    extra: dict[str, Any] = Field(default_factory=dict)


class TasksInput(BaseModel):
    """The tasks a stage (or a vote round) opened, per unit: one "new task" row each."""

    model_config = ConfigDict(frozen=True)
    cycle_id: str
    stream: str
    key: str
    """What opened them (`pledge`, `vote:2` …): one row per unit and key, ever."""
    stage: str
    deadline: datetime | None
    units: dict[str, list[str]]
    created_at: datetime


AppendInput.model_rebuild()  # its `tasks` names TasksInput, defined below it
