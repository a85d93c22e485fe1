"""People: who may act, in which role and for which unit.

Every change to a person is an event in the stream `person-{login}` of the same hash-chained
event store as the cycles (`person_created`, `person_changed`, `person_disabled`,
`person_enabled`, `password_reset`, `token_issued`, `token_revoked`), so "who could act, and when" is audited like a cycle. The
events carry no secret: the password hash lives in `person_passwords`, outside the log.

Lookups go through the `people` read model (`PeopleReadModel`). `People` updates it in the same
call right after each append (so a login works right after `users add`); the update is
idempotent per stream version, so the projection runner applying the same event again later
changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from domain.codec import EventRecord
from domain.values import Actor, PersonRole, Slug
from eventstore import EventStore
from eventstore.chain import GENESIS, canonical_body, chain_hash
from eventstore.errors import WrongExpectedVersion

from .errors import IdentityError

__all__ = [
    "AFFILIATION",
    "PEOPLE_EVENT_TYPES",
    "People",
    "PeopleReadModel",
    "Person",
    "fold_person",
    "person_stream",
    "verify_person_stream",
]

STREAM_PREFIX = "person-"
PEOPLE_EVENT_TYPES = (
    "person_created", "person_changed", "person_disabled", "person_enabled", "password_reset",
    "token_issued", "token_revoked",
)
AFFILIATION = {"admin": "secretariat", "auditor": "audit-office"}
"""Where a person who is not a unit's belongs (the unit's id otherwise)."""

_ROLES = ("admin", "unit", "auditor")
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def person_stream(login: str) -> str:
    return f"{STREAM_PREFIX}{login}"


class Person(BaseModel):
    """A person as the read model holds it."""

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
            role=self.role, login=self.login, name=self.name, unit=self.unit,
            position=self.position,
        )


# ---- validation ------------------------------------------------------------------------------


class _Login(BaseModel):
    login: Slug


def check_login(login: str) -> str:
    try:
        return _Login(login=login).login
    except ValidationError as exc:
        raise IdentityError(
            "invalid_login", f"{login!r}: a login is 1 to 64 lower-case letters, digits, '-', '_'"
            " or '.', starting with a letter or digit", "login",
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
            "invalid_email", "email must be one address such as ten@donvi.gov.vn", "email",
        ) from exc


def _check_role_unit(role: str, unit: str | None) -> tuple[PersonRole, str | None]:
    if role not in _ROLES:
        raise IdentityError("invalid_role", f"role {role!r} is not one of admin, unit, auditor",
                            "role")
    if role == "unit":
        if not unit:
            raise IdentityError("unit_required", "a person with role 'unit' needs --unit", "unit")
        try:
            _Login(login=unit)
        except ValidationError as exc:
            raise IdentityError("unit_required", f"{unit!r} is not a unit id", "unit") from exc
    elif unit:
        raise IdentityError(
            "unit_not_allowed", f"role {role!r} belongs to the {AFFILIATION[role]}, not a unit",
            "unit",
        )
    return role, (unit if role == "unit" else None)  # type: ignore[return-value]


# ---- fold ------------------------------------------------------------------------------------


def fold_person(person: Person | None, type_: str, data: dict[str, Any], version: int) -> Person:
    """The person after one of its events (pure)."""
    if type_ == "person_created":
        return Person(
            login=data["login"], name=data["name"], position=data.get("position"),
            role=data["role"], unit=data.get("unit"), email=data.get("email"), active=True,
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


# ---- read model ------------------------------------------------------------------------------

_UPSERT = """
INSERT INTO people (login, name, position, role, unit, active, version, position_in_log,
                    updated_at, email)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (login) DO UPDATE SET
    name = excluded.name, position = excluded.position, role = excluded.role,
    unit = excluded.unit, email = excluded.email, active = excluded.active,
    version = excluded.version,
    position_in_log = excluded.position_in_log, updated_at = excluded.updated_at
 WHERE people.version < excluded.version
"""
_SELECT = "SELECT login, name, position, role, unit, active, version, email FROM people"


def _person(row: asyncpg.Record) -> Person:
    return Person(
        login=row["login"], name=row["name"], position=row["position"], role=row["role"],
        unit=row["unit"], email=row["email"], active=row["active"], version=row["version"],
    )


def _row_fields(row: Any) -> tuple[str, int, int, str, dict[str, Any], datetime]:
    """(stream, version, position, type, data, recorded_at) of a global-log row: an asyncpg
    record of eventstore's columns or a StoredEvent."""
    if hasattr(row, "stream") and hasattr(row, "data"):
        return row.stream, row.version, row.position, row.type, dict(row.data), row.recorded_at
    data = row[6]
    return row[0], row[1], row[2], row[4], orjson.loads(data) if isinstance(data, str) else data, row[10]


class PeopleReadModel:
    """The `people` table, projected from the `person-*` streams."""

    name = "people"
    version = 1

    async def apply(self, conn: Any, row: Any) -> None:
        stream, version, position, type_, data, recorded_at = _row_fields(row)
        if not stream.startswith(STREAM_PREFIX) or type_ not in PEOPLE_EVENT_TYPES:
            return
        login = stream[len(STREAM_PREFIX):]
        current = await conn.fetchrow(_SELECT + " WHERE login = $1", login)
        person = _person(current) if current else None
        if person is not None and person.version >= version:
            return  # applied already
        person = fold_person(person, type_, data, version)
        await conn.execute(
            _UPSERT, person.login, person.name, person.position, person.role, person.unit,
            person.active, version, position, recorded_at, person.email,
        )

    async def reset(self, conn: Any) -> None:
        await conn.execute("TRUNCATE people")

    async def rebuild(self, pool: asyncpg.Pool) -> int:
        """Empty the table and fold every person stream again (one transaction)."""
        async with pool.acquire() as conn, conn.transaction():
            await self.reset(conn)
            rows = await conn.fetch(
                "SELECT stream, version, position, event_id, type, schema_version, data::text,"
                " actor::text, effective_at, request_id, recorded_at, hash FROM events"
                " WHERE stream LIKE 'person-%' ORDER BY stream, version"
            )
            for row in rows:
                await self.apply(conn, row)
        return len(rows)


async def verify_person_stream(pool: asyncpg.Pool, login: str) -> list[str]:
    """Problems of a person's stream: broken hash links, version gaps, events that do not fold.
    Empty when the stream is intact."""
    rows = await pool.fetch(
        "SELECT version, event_id, type, schema_version, data::text, actor::text, effective_at,"
        " request_id, hash FROM events WHERE stream = $1 ORDER BY version", person_stream(login),
    )
    problems: list[str] = []
    prev, person = GENESIS, None
    for expected, r in enumerate(rows, start=1):
        if r["version"] != expected:
            problems.append(f"version_gap at {expected}")
            prev = bytes(32)
        body = canonical_body(
            stream=person_stream(login), version=r["version"], event_id=r["event_id"],
            type=r["type"], schema_version=r["schema_version"], data=orjson.loads(r["data"]),
            actor=orjson.loads(r["actor"]), effective_at=r["effective_at"],
            request_id=r["request_id"],
        )
        if chain_hash(prev, body) != bytes(r["hash"]):
            problems.append(f"hash_mismatch at version {r['version']}")
        prev = bytes(r["hash"])
        try:
            person = fold_person(person, r["type"], orjson.loads(r["data"]), r["version"])
        except (ValueError, KeyError, ValidationError) as exc:
            problems.append(f"unreadable at version {r['version']}: {exc}")
    return problems


# ---- commands --------------------------------------------------------------------------------


class People:
    """Commands on people and lookups through the read model."""

    def __init__(self, pool: asyncpg.Pool, store: EventStore, *, clock: Clock = _now) -> None:
        self._pool = pool
        self._store = store
        self._clock = clock
        self._model = PeopleReadModel()

    async def get(self, login: str) -> Person | None:
        row = await self._pool.fetchrow(_SELECT + " WHERE login = $1", login)
        return _person(row) if row else None

    async def require(self, login: str) -> Person:
        person = await self.get(login)
        if person is None:
            raise IdentityError("unknown_person", f"no person with login {login!r}", "login")
        return person

    async def list(self) -> list[Person]:
        return [_person(r) for r in await self._pool.fetch(_SELECT + " ORDER BY login")]

    async def add(
        self,
        login: str,
        *,
        name: str,
        role: str,
        unit: str | None = None,
        position: str | None = None,
        email: str | None = None,
        by: Actor,
    ) -> Person:
        login = check_login(login)
        name_ = _check_text(name, "name", "invalid_name", required=True)
        position_ = _check_text(position, "position", "invalid_position", required=False)
        role_, unit_ = _check_role_unit(role, unit)
        email_ = check_email(email)
        if await self.get(login) is not None:
            raise IdentityError("person_exists", f"login {login!r} is taken", "login")
        data: dict[str, Any] = {"login": login, "name": name_, "position": position_,
                                "role": role_, "unit": unit_}
        if email_ is not None:  # absent, not null: earlier events keep their exact bytes
            data["email"] = email_
        return await self._append(login, 0, "person_created", data, by)

    async def change(
        self,
        login: str,
        *,
        by: Actor,
        role: str | None = None,
        unit: str | None = None,
        name: str | None = None,
        position: str | None = None,
        email: str | None = None,
    ) -> Person:
        """Change role and unit (together: a unit's person has a unit, the others none), name,
        position or e-mail ("" removes it)."""
        person = await self.require(login)
        data: dict[str, Any] = {}
        if role is not None or unit is not None:
            role_, unit_ = _check_role_unit(role or person.role, unit)
            if (role_, unit_) != (person.role, person.unit):
                data.update(role=role_, unit=unit_)
        if name is not None:
            data["name"] = _check_text(name, "name", "invalid_name", required=True)
        if position is not None:
            data["position"] = _check_text(position, "position", "invalid_position",
                                           required=False)
        if email is not None:
            data["email"] = check_email(email)
        data = {k: v for k, v in data.items() if getattr(person, k) != v}
        if not data:
            return person
        return await self._append(login, person.version, "person_changed", data, by)

    async def set_active(self, login: str, active: bool, *, by: Actor) -> Person:
        person = await self.require(login)
        if person.active == active:
            return person
        type_ = "person_enabled" if active else "person_disabled"
        return await self._append(login, person.version, type_, {}, by)

    async def record(
        self, login: str, type_: str, data: dict[str, Any], *, by: Actor, attempts: int = 3
    ) -> Person:
        """Append an event that changes no field of the person (`password_reset`,
        `token_issued`, `token_revoked`: the secrets themselves are never in an event)."""
        for attempt in range(attempts):
            person = await self.require(login)
            try:
                return await self._append(login, person.version, type_, data, by)
            except IdentityError as exc:
                if exc.code != "person_changed_meanwhile" or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    async def _append(
        self, login: str, expected: int, type_: str, data: dict[str, Any], by: Actor
    ) -> Person:
        record = EventRecord(
            event_id=uuid.uuid4(), type=type_, data=data, actor=by.model_dump(mode="json"),
            effective_at=self._clock(),
        )
        try:
            await self._store.append(person_stream(login), expected, [record])
        except WrongExpectedVersion as exc:
            if expected == 0:
                raise IdentityError("person_exists", f"login {login!r} is taken", "login") from exc
            raise IdentityError(
                "person_changed_meanwhile", f"{login!r} was changed meanwhile: try again", "login"
            ) from exc
        rows = await self._store.read_stream(person_stream(login))
        async with self._pool.acquire() as c, c.transaction():
            for row in rows:
                await self._model.apply(c, row)
        return await self.require(login)

