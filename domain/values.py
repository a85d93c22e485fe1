"""Small value types shared by the whole domain: scores, fractions, slugs, actors."""

from __future__ import annotations

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
    "Actor",
    "FindingKind",
    "FractionStr",
    "PersonRole",
    "Score",
    "Slug",
    "UtcDatetime",
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


Score = Annotated[
    Decimal,
    Field(allow_inf_nan=False),
    PlainSerializer(canonical_decimal, return_type=str, when_used="json"),
]
"""A decimal score; JSON as a canonical string. Range and places are rules, checked by decide."""


def parse_fraction(value: Any) -> Fraction:
    """Parse "2/3", "0.5", 0.5 or a Fraction; the result lies in [0, 1]."""
    if isinstance(value, Fraction):
        result = value
    elif isinstance(value, bool):
        raise ValueError("expected a fraction like '2/3'")
    elif isinstance(value, int | str):
        try:
            result = Fraction(str(value).strip())
        except (ValueError, ZeroDivisionError) as exc:
            raise ValueError(f"{value!r} is not a fraction like '2/3'") from exc
    elif isinstance(value, float):
        result = Fraction(repr(value))
    else:
        raise ValueError("expected a fraction like '2/3'")
    if not 0 <= result <= 1:
        raise ValueError(f"{value!r} must lie between 0 and 1")
    return result


FractionStr = Annotated[
    Fraction,
    BeforeValidator(parse_fraction),
    PlainSerializer(lambda f: str(f), return_type=str),
]


def _slug(value: str) -> str:
    if not value or len(value) > 64:
        raise ValueError("an id is 1 to 64 characters")
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789-_.")
    if not set(value) <= allowed or not value[0].isalnum():
        raise ValueError(f"{value!r} is not a slug (lower-case letters, digits, '-', '_', '.')")
    return value


Slug = Annotated[str, AfterValidator(_slug)]


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

