"""What goes in and out of the province's year and the block activities (pydantic)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.commands import StartCycle
from domain.province import ProvinceProposals
from domain.setup import Ruleset, ScoreSheet

__all__ = [
    "BlockLeadersInput",
    "CompileInput",
    "CycleStatusInput",
    "PlanInput",
    "PlannedCycle",
    "YearInput",
    "YearPlan",
    "YearProgress",
    "YearResult",
    "year_key",
]

_FROZEN = ConfigDict(frozen=True)


def year_key(province_slug: str, year: int, prefix: str = "") -> str:
    """The workflow id of a province's year."""
    return f"{prefix}year:{province_slug}:{year}"


class YearInput(BaseModel):
    model_config = _FROZEN
    province: str
    year: int
    ruleset: Ruleset
    score_sheet: ScoreSheet
    deadlines: dict[str, datetime] = Field(default_factory=dict)
    prefix: str = ""
    """Prefix of workflow ids and streams (tests keep theirs apart with it)."""
    poll_seconds: float = 3600.0
    """How often a cycle started before this opening (not a child) is checked for closing."""
    enforce_past_deadlines: bool = False


class PlanInput(BaseModel):
    model_config = _FROZEN
    province: str
    year: int
    ruleset: Ruleset
    score_sheet: ScoreSheet
    deadlines: dict[str, datetime] = Field(default_factory=dict)
    prefix: str = ""


class PlannedCycle(BaseModel):
    model_config = _FROZEN
    block_id: str
    workflow_id: str
    stream: str
    block_stream: str
    start: StartCycle | None = None
    error: dict[str, Any] | None = None
    """Why the block's cycle cannot start (a rule code), when it cannot."""


class YearPlan(BaseModel):
    model_config = _FROZEN
    cycles: list[PlannedCycle]


class CycleStatusInput(BaseModel):
    model_config = _FROZEN
    stream: str


class CompileInput(BaseModel):
    model_config = _FROZEN
    province: str
    year: int
    stream: str
    cycle_streams: list[str]
    event_id: str
    at: datetime


class BlockLeadersInput(BaseModel):
    """The leaders a completed cycle elected, for the block's next year."""

    model_config = _FROZEN
    block_stream: str
    cycle_stream: str
    year: int
    head: str
    deputy: str
    at: datetime


CycleFate = Literal["planned", "started", "existing", "completed", "cancelled", "failed", "skipped"]


class YearProgress(BaseModel):
    total: int = 0
    cycles: dict[str, CycleFate] = Field(default_factory=dict)
    errors: dict[str, dict[str, Any]] = Field(default_factory=dict)
    opened: bool = False
    compiled: bool = False

    def count(self, *fates: str) -> int:
        return sum(1 for f in self.cycles.values() if f in fates)


class YearResult(BaseModel):
    model_config = _FROZEN
    province: str
    year: int
    started: list[str]
    existing: list[str]
    skipped: dict[str, dict[str, Any]]
    proposals: ProvinceProposals
