"""Small value types shared by the whole domain: scores, fractions, ids, texts, actors.

Input is bounded and strict where it enters (commands and the setup of a cycle), so the HTTP
API, the CLI and scenario files refuse the same things. A refusal is a pydantic error on the
field, its message starting with the rule and never repeating the refused value: `invalid_id`,
`text_too_long`, `invalid_text` (a NUL character, which PostgreSQL cannot store),
`not_a_number`, `invalid_fraction`; lists longer than their bound are pydantic's `too_long`
(scenario files name it `too_many_items`). Limits: ids match ID_PATTERN, texts are at most TEXT_MAX characters,
lists of units or sections at most LIST_MAX items.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    model_serializer,
)

__all__ = [
    "FINDING_KINDS",
    "ID_PATTERN",
    "LIST_MAX",
    "SCORE_PATTERN",
    "TEXT_MAX",
    "Actor",
    "FindingKind",
    "FractionStr",
    "PersonRole",
    "Score",
    "Slug",
    "Text",
    "UtcDatetime",
    "Year",
    "canonical_decimal",
    "parse_fraction",
]


FindingKind = Literal[
    "leader_disciplined",
    "court_conclusion",
    "party_org_not_clean",
    "security_order_weak",
    "legal_violation",
    "other",
]
"""The kinds of discipline finding (DOMAIN.md, Discipline): defined here once."""
FINDING_KINDS: tuple[str, ...] = get_args(FindingKind)


def canonical_decimal(value: Decimal) -> str:
    """A decimal as a plain string without exponent or trailing zeros ("976", "983.5")."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


TEXT_MAX = 2000
"""Free text (notes, reasons, references, titles, names): at most this many characters."""
LIST_MAX = 100
"""Lists of members, sections, attendance, orders, approvals, places: at most this many."""
ID_PATTERN = r"[a-z0-9][a-z0-9._-]{0,63}"
"""Unit, section, block and ruleset ids: `^[a-z0-9][a-z0-9._-]{0,63}$` (ASCII)."""
SCORE_PATTERN = r"[0-9]{1,12}(?:\.[0-9]{1,12})?"
"""A score as text: ASCII digits, optionally a '.' and more digits ("983.5", "0", "12.25")."""

_ID = re.compile(ID_PATTERN, re.ASCII)
_SCORE = re.compile(SCORE_PATTERN, re.ASCII)


def _score(value: Any) -> Any:
    """Text like "983.5" (or a non-negative JSON integer) becomes a Decimal; a Decimal given in
    Python passes as it is (its range and places are rules: score_negative, too_many_decimals).
    Floats, booleans, signs, spaces, underscores, exponents, non-ASCII digits, NaN and Infinity
    are refused here."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        return Decimal(value)
    if isinstance(value, str) and _SCORE.fullmatch(value):
        return Decimal(value)
    raise ValueError(
        "not_a_number: a score is a decimal string of ASCII digits with an optional '.' and "
        "digits, like '983.5'"
    )


Score = Annotated[
    Decimal,
    BeforeValidator(_score),
    Field(allow_inf_nan=False),
    PlainSerializer(canonical_decimal, return_type=str, when_used="json"),
]
"""A decimal score; JSON as a canonical string. Range and places are rules, checked by decide."""


def parse_fraction(value: Any) -> Fraction:
    """Parse "2/3", "0.5", 0.5 or a Fraction; the result lies in (0, 1]: 0 is refused."""
    if isinstance(value, Fraction):
        result = value
    elif isinstance(value, bool):
        raise ValueError("invalid_fraction: expected a fraction like '2/3'")
    elif isinstance(value, int | str):
        if len(str(value)) > 32:
            raise ValueError("invalid_fraction: at most 32 characters, like '2/3'")
        try:
            result = Fraction(str(value).strip())
        except (ValueError, ZeroDivisionError) as exc:
            raise ValueError("invalid_fraction: expected a fraction like '2/3'") from exc
    elif isinstance(value, float):
        result = Fraction(repr(value))
    else:
        raise ValueError("invalid_fraction: expected a fraction like '2/3'")
    if not 0 < result <= 1:
        raise ValueError("invalid_fraction: a fraction above 0 and at most 1, like '2/3'")
    return result


FractionStr = Annotated[
    Fraction,
    BeforeValidator(parse_fraction),
    PlainSerializer(lambda f: str(f), return_type=str),
]


def _slug(value: str) -> str:
    if not _ID.fullmatch(value):
        raise ValueError(
            f"invalid_id: an id is 1 to 64 characters, lower-case ASCII letters, digits, '.', "
            f"'_', '-', starting with a letter or digit (^{ID_PATTERN}$)"
        )
    return value


Slug = Annotated[str, AfterValidator(_slug)]
"""A unit, section, block or ruleset id (ID_PATTERN)."""


def _text(value: str) -> str:
    if len(value) > TEXT_MAX:
        raise ValueError(f"text_too_long: at most {TEXT_MAX} characters, got {len(value)}")
    if "\x00" in value:
        raise ValueError("invalid_text: a text may not contain a NUL character")
    return value


Text = Annotated[str, AfterValidator(_text)]
"""Free text of at most TEXT_MAX characters."""

Year = Annotated[int, Field(strict=True, ge=1945, le=2200)]
"""An emulation year: an integer (not a boolean, not text) from 1945 to 2200."""


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive_datetime: a datetime needs a time zone (e.g. +07:00 or Z)")
    return value


UtcDatetime = Annotated[datetime, AfterValidator(_aware)]

ActorKind = Literal["admin", "auditor", "unit", "system"]


PersonRole = Literal["admin", "auditor", "unit"]

_PERSON_FIELDS = ("login", "position")


class Actor(BaseModel):
    """Who gives a command: the secretariat, an auditor, a unit's representative, or the system
    (deadlines). Head and deputy act as their units.

    The rules authorise by `kind` and `unit` only. `login`, `name` and `position` name the person
    who acted (recorded for the audit). `login` and `position` are left out of the serialised
    form when unset, so events written before people existed keep their exact bytes (and hash).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ActorKind
    unit: str | None = None
    name: str | None = None
    login: str | None = None
    position: str | None = None

    @model_serializer(mode="wrap")
    def _drop_unset_person(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in _PERSON_FIELDS:
            if data.get(key, 0) is None:
                del data[key]
        return data

    @classmethod
    def of_person(
        cls,
        *,
        role: PersonRole,
        login: str,
        name: str,
        unit: str | None = None,
        position: str | None = None,
    ) -> Actor:
        """The actor of a person: the kind is the person's role, the unit the person's own unit
        (never one named in a request)."""
        if role == "unit":
            if not unit:
                raise ValueError("a person with role 'unit' needs a unit")
            return cls(kind="unit", unit=unit, login=login, name=name, position=position)
        return cls(kind=role, login=login, name=name, position=position)

    @classmethod
    def admin(cls, name: str | None = None) -> Actor:
        return cls(kind="admin", name=name)

    @classmethod
    def auditor(cls, name: str | None = None) -> Actor:
        return cls(kind="auditor", name=name)

    @classmethod
    def system(cls) -> Actor:
        return cls(kind="system", name="thidua")

    @classmethod
    def of_unit(cls, unit: str, name: str | None = None) -> Actor:
        return cls(kind="unit", unit=unit, name=name)

    @classmethod
    def parse(cls, who: str) -> Actor:
        """Scenario shorthand: "admin", "auditor", or a member unit's id."""
        if who == "admin":
            return cls.admin()
        if who == "auditor":
            return cls.auditor()
        if who == "system":
            return cls.system()
        return cls.of_unit(who)
