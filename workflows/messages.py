"""What goes in and out of the cycle workflow (pydantic, through the pydantic data converter)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.codec import EventRecord
from domain.commands import Command, StartCycle
from domain.events import Event, Outcome
from domain.pending import Reminder
from domain.values import Actor

__all__ = [
    "AppendInput",
    "AppendResult",
    "CommandRequest",
    "CommandResult",
    "CycleInput",
    "CycleResult",
    "ReminderInput",
    "cycle_key",
]


def cycle_key(block_id: str, year: int, prefix: str = "") -> tuple[str, str]:
    """(workflow id, event stream) of a block's yearly cycle."""
    return f"{prefix}cycle:{block_id}:{year}", f"{prefix}cycle-{block_id}-{year}"


class CycleInput(BaseModel):
    model_config = ConfigDict(frozen=True)
    start: StartCycle
    actor: Actor
    request_id: str
    stream: str
    enforce_past_deadlines: bool = False
    """Deadlines already past when the cycle starts (a historical case) are recorded but not
    enforced unless this is set."""
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


class AppendResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    version: int
    positions: list[int]


class ReminderInput(BaseModel):
    model_config = ConfigDict(frozen=True)
    cycle_id: str
    stream: str
    reminder: Reminder
    units: dict[str, list[str]]
    created_at: datetime
    extra: dict[str, Any] = Field(default_factory=dict)
