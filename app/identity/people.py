"""People: who may act, in which role and for which unit.

Every change to a person is an event in the stream `person-{login}` of the same hash-chained
event store as the cycles (`person_created`, `person_changed`, `person_disabled`,
`person_enabled`, `password_reset`, `token_issued`, `token_revoked`), so "who could act, and when" is audited like a cycle. The
events carry no secret: the password hash lives in `person_passwords`, outside the log.

The events, the fold and the rules are domain.person's; commands go through
eventstore.execute (load, fold, decide, append with the optimistic retry) like a block's. This
module keeps the I/O: the read model, the stream's check and the service.

Lookups go through the `people` read model (`PeopleReadModel`). `People` updates it in the same
call right after each append (so a login works right after `users add`); the update is
idempotent per stream version, so the projection runner applying the same event again later
changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from pydantic import ValidationError

from domain.codec import from_record
from domain.person import (
    AFFILIATION,
    PEOPLE_EVENT_TYPES,
    Person,
    PersonEventAdapter,
    fold_person,
    fold_person_events,
    person_stream,
)
from domain.person_rules import (
    AddPerson,
    ChangePerson,
    NotePerson,
    PersonCommand,
    SetActive,
    check_email,
    check_login,
    decide_person,
)
from domain.values import Actor
from eventstore import EventStore
from eventstore.chain import GENESIS, canonical_body, chain_hash
from eventstore.execute import execute
from eventstore.records import StoredEvent
from readmodels.people import SELECT_PEOPLE, PeopleReadModel, person_of_row

from .errors import IdentityError

__all__ = [
    "AFFILIATION",
    "PEOPLE_EVENT_TYPES",
    "People",
    "PeopleReadModel",
    "Person",
    "check_email",
    "check_login",
    "fold_person",
    "person_stream",
    "verify_person_stream",
]

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def _fold(rows: Sequence[StoredEvent]) -> Person | None:
    """The person folded from the stored events of its stream."""
    return fold_person_events(from_record(r, PersonEventAdapter) for r in rows)


async def verify_person_stream(pool: asyncpg.Pool, login: str) -> list[str]:
    """Problems of a person's stream: broken hash links, version gaps, events that do not fold.
    Empty when the stream is intact."""
    rows = await pool.fetch(
        "SELECT version, event_id, type, schema_version, data::text, actor::text, effective_at,"
        " request_id, hash FROM events WHERE stream = $1 ORDER BY version",
        person_stream(login),
    )
    problems: list[str] = []
    prev, person = GENESIS, None
    for expected, r in enumerate(rows, start=1):
        if r["version"] != expected:
            problems.append(f"version_gap at {expected}")
            prev = bytes(32)
        body = canonical_body(
            stream=person_stream(login),
            version=r["version"],
            event_id=r["event_id"],
            type=r["type"],
            schema_version=r["schema_version"],
            data=orjson.loads(r["data"]),
            actor=orjson.loads(r["actor"]),
            effective_at=r["effective_at"],
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
        row = await self._pool.fetchrow(SELECT_PEOPLE + " WHERE login = $1", login)
        return person_of_row(row) if row else None

    async def require(self, login: str) -> Person:
        person = await self.get(login)
        if person is None:
            raise IdentityError("unknown_person", f"no person with login {login!r}", "login")
        return person

    async def list(self) -> list[Person]:
        return [person_of_row(r) for r in await self._pool.fetch(SELECT_PEOPLE + " ORDER BY login")]

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
        command = AddPerson(
            login=login, name=name, role=role, unit=unit, position=position, email=email
        )
        return await self._execute(login, command, by)

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
        command = ChangePerson(role=role, unit=unit, name=name, position=position, email=email)
        return await self._execute(login, command, by)

    async def set_active(self, login: str, active: bool, *, by: Actor) -> Person:
        return await self._execute(login, SetActive(active=active), by)

    async def record(self, login: str, type_: str, data: dict[str, Any], *, by: Actor) -> Person:
        """Append an event that changes no field of the person (`password_reset`,
        `token_issued`, `token_revoked`: the secrets themselves are never in an event)."""
        return await self._execute(
            login, NotePerson.model_validate({"type": type_, "data": data}), by
        )

    async def _execute(self, login: str, command: PersonCommand, by: Actor) -> Person:
        done = await execute(
            self._store,
            person_stream(login),
            _fold,
            lambda person: decide_person(
                person, command, by, login=login, now=self._clock(), ids=uuid.uuid4
            ),
        )
        if done.events:
            rows = await self._store.read_stream(person_stream(login))
            async with self._pool.acquire() as c, c.transaction():
                for row in rows:
                    await self._model.apply(c, row)
        return await self.require(login)
