"""What a cycle is started with: the block, the score sheet, the ruleset and the deadlines."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .stages import DEADLINE_STAGES, STAGES
from .values import FINDING_KINDS, LIST_MAX, FractionStr, Score, Slug, Text

__all__ = [
    "DEADLINE_STAGES",
    "DEFAULT_PLACES",
    "FINDING_KINDS",
    "RULESETS",
    "STAGES",
    "Block",
    "Member",
    "PlaceTitle",
    "Ruleset",
    "ScoreSheet",
    "Section",
    "VoteRules",
    "resolve_ruleset",
]


_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Member(BaseModel):
    model_config = _FROZEN
    id: Slug
    name: Text = Field(min_length=1)


class Block(BaseModel):
    """A khối thi đua: its members, its head (Khối trưởng) and deputy (Khối phó)."""

    model_config = _FROZEN
    id: Slug
    name: Text = Field(min_length=1)
    province: Text = ""
    members: tuple[Member, ...] = Field(max_length=LIST_MAX)
    head: Slug
    deputy: Slug

    @model_validator(mode="after")
    def _check(self) -> Block:
        ids = [m.id for m in self.members]
        if len(ids) < 3:
            raise ValueError("invalid_block: a block needs at least 3 members")
        if len(set(ids)) != len(ids):
            raise ValueError("invalid_block: member ids must be unique")
        if self.head not in ids:
            raise ValueError(f"invalid_block: head {self.head!r} is not a member")
        if self.deputy not in ids:
            raise ValueError(f"invalid_block: deputy {self.deputy!r} is not a member")
        if self.head == self.deputy:
            raise ValueError("invalid_block: head and deputy must be distinct members")
        return self

    @property
    def member_ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.members)

    def name_of(self, unit: str) -> str:
        for m in self.members:
            if m.id == unit:
                return m.name
        return unit


class Section(BaseModel):
    model_config = _FROZEN
    id: Slug
    title: Text = ""
    max: Score


class ScoreSheet(BaseModel):
    """The score sheet: sections in order, whose maxima sum to `max_total` (usually 1000)."""

    model_config = _FROZEN
    max_total: Score
    sections: tuple[Section, ...] = Field(max_length=LIST_MAX)

    @model_validator(mode="after")
    def _check(self) -> ScoreSheet:
        if not self.sections:
            raise ValueError("invalid_score_sheet: a score sheet needs at least one section")
        ids = [s.id for s in self.sections]
        if len(set(ids)) != len(ids):
            raise ValueError("invalid_score_sheet: section ids must be unique")
        for s in self.sections:
            if s.max <= 0:
                raise ValueError(f"invalid_score_sheet: section {s.id!r} needs a positive max")
        total = sum((s.max for s in self.sections), Decimal(0))
        if total != self.max_total:
            raise ValueError(
                f"invalid_score_sheet: section maxima sum to {total}, not max_total {self.max_total}"
            )
        return self

    @property
    def section_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.sections)


class PlaceTitle(BaseModel):
    model_config = _FROZEN
    place: int = Field(strict=True, ge=1, le=LIST_MAX)
    title: Text


DEFAULT_PLACES: tuple[PlaceTitle, ...] = (
    PlaceTitle(place=1, title="Cờ thi đua của UBND tỉnh"),
    PlaceTitle(place=2, title="Bằng khen của Chủ tịch UBND tỉnh"),
    PlaceTitle(place=3, title="Bằng khen của Chủ tịch UBND tỉnh"),
)


class VoteRules(BaseModel):
    model_config = _FROZEN
    threshold: FractionStr = Fraction(1, 2)
    base: Literal["voters", "members"] = "voters"
    compare: Literal["more_than", "at_least"] = "more_than"
    written_opinions: bool = True
    max_rounds: int = Field(default=2, ge=1, le=10)


class Ruleset(BaseModel):
    """Every parameter of DOMAIN.md, with its default. Pinned in CycleStarted."""

    model_config = _FROZEN
    id: Slug = "default"
    version: int = 1
    quorum: FractionStr = Fraction(2, 3)
    require_pledge: bool = True
    area_floor: dict[Slug, Score] = Field(default_factory=dict, max_length=LIST_MAX)
    excluding_findings: tuple[str, ...] = Field(
        default=tuple(k for k in FINDING_KINDS if k != "other"), max_length=len(FINDING_KINDS)
    )
    places: tuple[PlaceTitle, ...] = Field(default=DEFAULT_PLACES, max_length=LIST_MAX)
    vote: VoteRules = VoteRules()
    rotation: Literal["deputy_succeeds", "elect_both"] = "deputy_succeeds"
    reminder_days: tuple[Annotated[int, Field(ge=0, le=365)], ...] = Field(
        default=(7, 1), max_length=10
    )
    # Bounds on repeatable acts (see DOMAIN.md; the README documents the defaults).
    max_resubmissions: int = Field(default=20, ge=0, le=1000)
    """Self-scores per unit: at most 1 + this many (also a leader's revised leaders_decide)."""
    max_corrections: int = Field(default=10, ge=0, le=1000)
    """correct_score per unit."""
    max_finding_changes: int = Field(default=10, ge=1, le=1000)
    """record_finding plus withdraw_finding of one (unit, kind)."""
    max_extensions: int = Field(default=5, ge=0, le=1000)
    """extend_deadline per stage."""

    @model_validator(mode="after")
    def _check(self) -> Ruleset:
        for kind in self.excluding_findings:
            if kind not in FINDING_KINDS:
                raise ValueError(f"invalid_ruleset: a finding kind is one of {', '.join(FINDING_KINDS)}")
        numbers = [p.place for p in self.places]
        if not numbers or numbers != list(range(1, len(numbers) + 1)):
            raise ValueError("invalid_ruleset: places must be numbered 1, 2, 3, … in order")
        for section, floor in self.area_floor.items():
            if floor < 0:
                raise ValueError(f"invalid_ruleset: area_floor of {section!r} is negative")
        return self

    def title_of(self, place: int) -> str:
        return self.places[place - 1].title


RULESETS: dict[str, Ruleset] = {"default": Ruleset()}
"""Named rulesets; a scenario names one and may override its parameters."""


def resolve_ruleset(spec: dict[str, Any]) -> Ruleset:
    """`{"id": "default", "quorum": "3/4", …}` → the full, pinned ruleset."""
    spec = dict(spec)
    rid = spec.pop("id", "default")
    if rid not in RULESETS:
        raise ValueError(f"invalid_ruleset: no such ruleset (known: {', '.join(sorted(RULESETS))})")
    base = RULESETS[rid].model_dump()
    vote = spec.pop("vote", None)
    if vote is not None:
        base["vote"] = {**base["vote"], **vote}
    if "version" in spec:
        raise ValueError("invalid_ruleset: the version is the ruleset's own, not an override")
    base.update(spec)
    base["id"] = rid
    return Ruleset.model_validate(base)
