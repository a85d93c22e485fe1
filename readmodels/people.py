"""The `people` read model: one row per person, projected from the `person-*` streams by the
person's fold (domain.person). Lookups of app/identity go through it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import orjson

from domain.person import PEOPLE_EVENT_TYPES, STREAM_PREFIX, Person, fold_person

__all__ = ["SELECT_PEOPLE", "PeopleReadModel", "person_of_row"]

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
SELECT_PEOPLE = "SELECT login, name, position, role, unit, active, version, email FROM people"


def person_of_row(row: asyncpg.Record) -> Person:
    return Person(
        login=row["login"],
        name=row["name"],
        position=row["position"],
        role=row["role"],
        unit=row["unit"],
        email=row["email"],
        active=row["active"],
        version=row["version"],
    )


def _row_fields(row: Any) -> tuple[str, int, int, str, dict[str, Any], datetime]:
    """(stream, version, position, type, data, recorded_at) of a global-log row: an asyncpg
    record of eventstore's columns or a StoredEvent."""
    if hasattr(row, "stream") and hasattr(row, "data"):
        return row.stream, row.version, row.position, row.type, dict(row.data), row.recorded_at
    data = row[6]
    return (
        row[0],
        row[1],
        row[2],
        row[4],
        orjson.loads(data) if isinstance(data, str) else data,
        row[10],
    )


class PeopleReadModel:
    """The `people` table, projected from the `person-*` streams."""

    name = "people"
    version = 1

    async def apply(self, conn: Any, row: Any) -> None:
        stream, version, position, type_, data, recorded_at = _row_fields(row)
        if not stream.startswith(STREAM_PREFIX) or type_ not in PEOPLE_EVENT_TYPES:
            return
        login = stream[len(STREAM_PREFIX) :]
        current = await conn.fetchrow(SELECT_PEOPLE + " WHERE login = $1", login)
        person = person_of_row(current) if current else None
        if person is not None and person.version >= version:
            return  # applied already
        person = fold_person(person, type_, data, version)
        await conn.execute(
            _UPSERT,
            person.login,
            person.name,
            person.position,
            person.role,
            person.unit,
            person.active,
            version,
            position,
            recorded_at,
            person.email,
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
