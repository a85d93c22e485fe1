"""Value objects carried by events: attendance, adopted scores, ranking lines, tallies,
nominations and the outcome. domain.events re-exports them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from .values import Score

__all__ = ["Absence", "AdoptedScore", "Nomination", "Outcome", "RankEntry", "TallyLine"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Absence(BaseModel):
    model_config = _FROZEN
    unit: str
    with_notice: bool = True
    written_opinion: bool = False


class AdoptedScore(BaseModel):
    model_config = _FROZEN
    sections: dict[str, Score]
    total: Score
    source: Literal["verified", "self", "corrected"]


class RankEntry(BaseModel):
    model_config = _FROZEN
    unit: str
    total: Score | None
    rank: int | None
    eligible: bool


class TallyLine(BaseModel):
    model_config = _FROZEN
    unit: str
    approvals: int
    confirmed: bool
    place: int | None = None


class Nomination(BaseModel):
    model_config = _FROZEN
    place: int
    unit: str
    title: str
    approvals: int | None
    voters: int | None
    round: int | None
    decided_by: Literal["vote", "leaders"]


class Outcome(BaseModel):
    model_config = _FROZEN
    ranking: tuple[RankEntry, ...]
    excluded: dict[str, tuple[str, ...]]
    nominations: tuple[Nomination, ...]
    next_head: str | None
    next_deputy: str | None
