"""A person (who may act, in which role and for which unit): events, fold and rules.

Every change to a person is an event of the stream `person-{login}` (`person_created`,
`person_changed`, `person_disabled`, `person_enabled`, `password_reset`, `token_issued`,
`token_revoked`); the events carry no secret. Unlike a cycle's or a block's, a person event's
stored payload has no `type` key, `person_created` omits `email` when there is none and
`person_changed` carries only the fields it changes: `payload()` keeps those bytes.

The commands and rules are in domain.person_rules (`decide_person`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from .events import ENVELOPE, Envelope
from .values import Actor, PersonRole

__all__ = [
    "AFFILIATION",
    "PEOPLE_EVENT_TYPES",
    "STREAM_PREFIX",
    "PasswordReset",
    "Person",
    "PersonChanged",
    "PersonCreated",
    "PersonDisabled",
    "PersonEnabled",
    "PersonEvent",
    "PersonEventAdapter",
    "TokenIssued",
    "TokenRevoked",
    "evolve_person",
    "fold_person",
    "fold_person_events",
    "person_stream",
]

STREAM_PREFIX = "person-"
AFFILIATION = {"admin": "secretariat", "auditor": "audit-office"}
"""Where a person who is not a unit's belongs (the unit's id otherwise)."""


def person_stream(login: str) -> str:
    return f"{STREAM_PREFIX}{login}"


class Person(BaseModel):
    """A person as the fold (and the read model) holds it."""

    model_config = ConfigDict(frozen=True)

    login: str
    name: str
    position: str | None = None
    role: PersonRole
    unit: str | None = None
    email: str | None = None
    """Where notifications go (app/notify); none = the person is not told by e-mail."""
    active: bool = True
    version: int = 0

    @property
    def affiliation(self) -> str:
        """The unit's id, `secretariat` or `audit-office`."""
        return self.unit if self.role == "unit" and self.unit else AFFILIATION[self.role]

    def actor(self) -> Actor:
        """The actor of this person's commands: role and unit from the person, never from a
        request."""
        return Actor.of_person(
            role=self.role,
            login=self.login,
            name=self.name,
            unit=self.unit,
            position=self.position,
        )


# ---- events ----------------------------------------------------------------------------------


class _PersonEvent(Envelope):
    """A person's event. Its stored payload has no `type` (the column says it)."""

    def payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={*ENVELOPE, "type"})


class PersonCreated(_PersonEvent):
    type: Literal["person_created"] = "person_created"
    login: str
    name: str
    position: str | None
    role: PersonRole
    unit: str | None
    email: str | None = None

    def payload(self) -> dict[str, Any]:
        data = super().payload()
        if self.email is None:  # absent, not null: earlier events keep their exact bytes
            del data["email"]
        return data


class PersonChanged(_PersonEvent):
    """Only the fields given change (a null position or e-mail removes it)."""

    type: Literal["person_changed"] = "person_changed"
    role: PersonRole | None = None
    unit: str | None = None
    name: str | None = None
    position: str | None = None
    email: str | None = None

    def payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={*ENVELOPE, "type"}, exclude_unset=True)


class PersonDisabled(_PersonEvent):
    type: Literal["person_disabled"] = "person_disabled"


class PersonEnabled(_PersonEvent):
    type: Literal["person_enabled"] = "person_enabled"


class PasswordReset(_PersonEvent):
    """A password was set (the hash lives outside the log)."""

    type: Literal["password_reset"] = "password_reset"


class TokenIssued(_PersonEvent):
    type: Literal["token_issued"] = "token_issued"
    token_id: str
    name: str | None
    expires_at: str
    """As written: ISO 8601 text (`datetime.isoformat`)."""


class TokenRevoked(_PersonEvent):
    type: Literal["token_revoked"] = "token_revoked"
    token_id: str


PersonEvent = Annotated[
    PersonCreated
    | PersonChanged
    | PersonDisabled
    | PersonEnabled
    | PasswordReset
    | TokenIssued
    | TokenRevoked,
    Field(discriminator="type"),
]
PersonEventAdapter: TypeAdapter[PersonEvent] = TypeAdapter(PersonEvent)
PEOPLE_EVENT_TYPES: tuple[str, ...] = tuple(
    cls.model_fields["type"].default for cls in _PersonEvent.__subclasses__()
)


# ---- fold ------------------------------------------------------------------------------------


def fold_person(person: Person | None, type_: str, data: dict[str, Any], version: int) -> Person:
    """The person after one of its events, given as stored (type and payload)."""
    if type_ == "person_created":
        return Person(
            login=data["login"],
            name=data["name"],
            position=data.get("position"),
            role=data["role"],
            unit=data.get("unit"),
            email=data.get("email"),
            active=True,
            version=version,
        )
    if person is None:
        raise ValueError(f"{type_} before person_created")
    if type_ == "person_changed":
        return person.model_copy(update={**data, "version": version})
    if type_ == "person_disabled":
        return person.model_copy(update={"active": False, "version": version})
    if type_ == "person_enabled":
        return person.model_copy(update={"active": True, "version": version})
    if type_ in ("password_reset", "token_issued", "token_revoked"):
        return person.model_copy(update={"version": version})
    raise ValueError(f"unknown person event {type_!r}")


def evolve_person(person: Person | None, event: PersonEvent, version: int) -> Person:
    """The person after one of its events (the same fold, on the event)."""
    return fold_person(person, event.type, event.payload(), version)


def fold_person_events(
    events: Iterable[PersonEvent], person: Person | None = None
) -> Person | None:
    """The person after `events` (versions counted on from the person's)."""
    version = person.version if person is not None else 0
    for event in events:
        version += 1
        person = evolve_person(person, event, version)
    return person
