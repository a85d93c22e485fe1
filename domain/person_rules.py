"""A person's commands and rules: `decide_person` judges a command on the person folded from
its stream (None before `person_created`) and returns its events (none when nothing changes);
refusals are IdentityError with a rule code and the field at fault."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import IdentityError
from .person import (
    AFFILIATION,
    Person,
    PersonChanged,
    PersonCreated,
    PersonDisabled,
    PersonEnabled,
    PersonEvent,
    PersonEventAdapter,
)
from .values import Actor, PersonRole, Slug

__all__ = [
    "AddPerson",
    "ChangePerson",
    "NotePerson",
    "PersonCommand",
    "SetActive",
    "check_email",
    "check_login",
    "decide_person",
]

_ROLES = ("admin", "unit", "auditor")
_FROZEN = ConfigDict(frozen=True, extra="forbid")


# ---- commands --------------------------------------------------------------------------------


class AddPerson(BaseModel):
    model_config = _FROZEN
    login: str
    name: str
    role: str
    unit: str | None = None
    position: str | None = None
    email: str | None = None


class ChangePerson(BaseModel):
    """Role and unit (together: a unit's person has a unit, the others none), name, position
    or e-mail ("" removes it); None leaves a field as it is."""

    model_config = _FROZEN
    role: str | None = None
    unit: str | None = None
    name: str | None = None
    position: str | None = None
    email: str | None = None


class SetActive(BaseModel):
    model_config = _FROZEN
    active: bool


class NotePerson(BaseModel):
    """An event that changes no field of the person (`password_reset`, `token_issued`,
    `token_revoked`: the secrets themselves are never in an event)."""

    model_config = _FROZEN
    type: Literal["password_reset", "token_issued", "token_revoked"]
    data: dict[str, Any] = Field(default_factory=dict)


PersonCommand = AddPerson | ChangePerson | SetActive | NotePerson


# ---- validation ------------------------------------------------------------------------------


class _Login(BaseModel):
    login: Slug


def check_login(login: str) -> str:
    try:
        return _Login(login=login).login
    except ValidationError as exc:
        raise IdentityError(
            "invalid_login",
            f"{login!r}: a login is 1 to 64 lower-case letters, digits, '-', '_'"
            " or '.', starting with a letter or digit",
            "login",
        ) from exc


def _check_text(value: str | None, field: str, code: str, *, required: bool) -> str | None:
    if value is None or not value.strip():
        if required:
            raise IdentityError(code, f"{field} is required", field)
        return None
    value = value.strip()
    if len(value) > 200 or any(ord(c) < 32 for c in value):
        raise IdentityError(code, f"{field} is at most 200 printable characters", field)
    return value


def check_email(value: str | None) -> str | None:
    """A normalised e-mail address, or None for "" (no address). The syntax only: no DNS
    look-up. The error names the field and the rule, not the input."""
    if value is None or not value.strip():
        return None
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise IdentityError(
            "invalid_email",
            "email must be one address such as ten@donvi.gov.vn",
            "email",
        ) from exc


def _check_role_unit(role: str, unit: str | None) -> tuple[PersonRole, str | None]:
    if role not in _ROLES:
        raise IdentityError(
            "invalid_role", f"role {role!r} is not one of admin, unit, auditor", "role"
        )
    if role == "unit":
        if not unit:
            raise IdentityError("unit_required", "a person with role 'unit' needs --unit", "unit")
        try:
            _Login(login=unit)
        except ValidationError as exc:
            raise IdentityError("unit_required", f"{unit!r} is not a unit id", "unit") from exc
    elif unit:
        raise IdentityError(
            "unit_not_allowed",
            f"role {role!r} belongs to the {AFFILIATION[role]}, not a unit",
            "unit",
        )
    return role, (unit if role == "unit" else None)  # type: ignore[return-value]


def _unknown(login: str) -> IdentityError:
    return IdentityError("unknown_person", f"no person with login {login!r}", "login")


# ---- decide ----------------------------------------------------------------------------------


def decide_person(
    person: Person | None,
    command: PersonCommand,
    actor: Actor,
    *,
    login: str,
    now: datetime,
    ids: Callable[[], UUID],
) -> list[PersonEvent]:
    """The events of `command` on `person` (None: no such person yet), [] when it changes
    nothing. Raises IdentityError."""
    envelope: dict[str, Any] = {"event_id": ids(), "at": now, "actor": actor}
    if isinstance(command, AddPerson):
        login_ = check_login(command.login)
        name = _check_text(command.name, "name", "invalid_name", required=True)
        position = _check_text(command.position, "position", "invalid_position", required=False)
        role, unit = _check_role_unit(command.role, command.unit)
        email = check_email(command.email)
        if person is not None:
            raise IdentityError("person_exists", f"login {login_!r} is taken", "login")
        return [
            PersonCreated(
                **envelope,
                login=login_,
                name=name,
                position=position,
                role=role,
                unit=unit,
                email=email,
            )
        ]
    if person is None:
        raise _unknown(login)
    if isinstance(command, ChangePerson):
        data: dict[str, Any] = {}
        if command.role is not None or command.unit is not None:
            role, unit = _check_role_unit(command.role or person.role, command.unit)
            if (role, unit) != (person.role, person.unit):
                data.update(role=role, unit=unit)
        if command.name is not None:
            data["name"] = _check_text(command.name, "name", "invalid_name", required=True)
        if command.position is not None:
            data["position"] = _check_text(
                command.position, "position", "invalid_position", required=False
            )
        if command.email is not None:
            data["email"] = check_email(command.email)
        data = {k: v for k, v in data.items() if getattr(person, k) != v}
        return [PersonChanged(**envelope, **data)] if data else []
    if isinstance(command, SetActive):
        if person.active == command.active:
            return []
        return [PersonEnabled(**envelope) if command.active else PersonDisabled(**envelope)]
    return [PersonEventAdapter.validate_python({**command.data, **envelope, "type": command.type})]
