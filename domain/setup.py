"""What a cycle is started with: the block, the score sheet, the ruleset and the deadlines."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from .stages import DEADLINE_STAGES, STAGES
from .values import FINDING_KINDS, LIST_MAX, FractionStr, Score, Slug, Text

__all__ = [
    "DEADLINE_STAGES",
    "DEFAULT_PLACES",
    "FINDING_KINDS",
    "RULESETS",
    "SHEET_DECIMALS",
    "STAGES",
    "Block",
    "Criterion",
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


SHEET_DECIMALS = 2
"""Decimal places a score may have unless the sheet says fewer (DOMAIN.md: at most 2)."""


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _drop(data: dict[str, Any], **absent: Any) -> dict[str, Any]:
    """Leave out the fields that hold their "absent" value: a sheet saved before they existed
    keeps its exact bytes (and the hash of the event that pins it)."""
    for key, empty in absent.items():
        if key in data and data[key] == empty:
            del data[key]
    return data


class Criterion(BaseModel):
    """A criterion (tiêu chí) of a section: its points are part of the section's maximum."""

    model_config = _FROZEN
    id: Slug
    title: Text = ""
    max: Score


class Section(BaseModel):
    """A section (nội dung) of the sheet; units score sections. Its criteria, when it lists
    any, split its maximum (their maxima sum to the section's)."""

    model_config = _FROZEN
    id: Slug
    title: Text = ""
    max: Score
    criteria: tuple[Criterion, ...] = Field(default=(), max_length=LIST_MAX)

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if not self.criteria:
            data.pop("criteria", None)
        return data


class ScoreSheet(BaseModel):
    """The score sheet: sections in order, whose maxima sum to `max_total` (usually 1000).

    `decimals` is how many decimal places a score may have (0 to 2, default 2); `title` and
    `version` name the sheet the secretariat saved (app/sheets.py: the version of the
    province's sheets of the year), so a cycle that pins the sheet records which version it
    used. The three are left out of the JSON when absent (old events keep their bytes)."""

    model_config = _FROZEN
    max_total: Score
    sections: tuple[Section, ...] = Field(max_length=LIST_MAX)
    decimals: int = Field(default=SHEET_DECIMALS, strict=True, ge=0, le=SHEET_DECIMALS)
    title: Text = ""
    version: int | None = Field(default=None, strict=True, ge=1)

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return _drop(data, decimals=SHEET_DECIMALS, title="", version=None)

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
            if self.decimals < SHEET_DECIMALS and _places(s.max) > self.decimals:
                # only a sheet that asks for fewer places: earlier sheets stay readable as they are
                raise ValueError(
                    f"invalid_score_sheet: the max of section {s.id!r} has more "
                    f"than {self.decimals} decimal places"
                )
            if s.criteria:
                cids = [c.id for c in s.criteria]
                if len(set(cids)) != len(cids):
                    raise ValueError(
                        f"invalid_score_sheet: criterion ids of section {s.id!r} must be unique"
                    )
                for c in s.criteria:
                    if c.max <= 0 or _places(c.max) > self.decimals:
                        raise ValueError(
                            f"invalid_score_sheet: criterion {c.id!r} needs a "
                            f"positive max with at most {self.decimals} decimals"
                        )
                part = sum((c.max for c in s.criteria), Decimal(0))
                if part != s.max:
                    raise ValueError(
                        f"invalid_score_sheet: the criteria of section {s.id!r} "
                        f"sum to {part}, not its max {s.max}"
                    )
        total = sum((s.max for s in self.sections), Decimal(0))
        if total != self.max_total:
            raise ValueError(
                f"invalid_score_sheet: section maxima sum to {total}, not max_total {self.max_total}"
            )
        return self

    @property
    def section_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.sections)

    def content(self) -> ScoreSheet:
        """The sheet without its version (two saves of the same sheet have the same content)."""
        return self.model_copy(update={"version": None})


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
                raise ValueError(
                    f"invalid_ruleset: a finding kind is one of {', '.join(FINDING_KINDS)}"
                )
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
