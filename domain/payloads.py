"""Value objects carried by events: attendance, adopted scores, ranking lines, tallies,
nominations and the outcome. domain.events re-exports them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .values import Score, Slug

__all__ = ["Absence", "AdoptedScore", "Nomination", "Noted", "Outcome", "RankEntry", "TallyLine"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


def _absent(value: object) -> bool:
    return value is None


class Noted(BaseModel):
    """An event's optional reason (an early close, a withdrawal, an extension: what the person
    typed). Absent from the payload when not given, so the events recorded before it existed
    keep their bytes."""

    model_config = _FROZEN
    note: str | None = Field(default=None, exclude_if=_absent)


class Absence(BaseModel):
    model_config = _FROZEN
    unit: Slug
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
