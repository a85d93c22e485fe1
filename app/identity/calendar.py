"""The secret address of a person's deadlines calendar (iCalendar, `/lich/<token>.ics`): a
random token (256 bits, `thc_` + 43 url-safe characters), shown once when made, stored only as
its SHA-256 hash, one per person. Making a new one (rotating) ends the old address at once; a
disabled person's address serves nobody."""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import datetime

import asyncpg

from .people import Clock, People, Person, _now
from .sessions import token_hash

__all__ = ["CALENDAR_PREFIX", "CalendarTokens"]

CALENDAR_PREFIX = "thc_"
_SHAPE = re.compile(r"^thc_[A-Za-z0-9_-]{43}$")


class CalendarTokens:
    def __init__(self, pool: asyncpg.Pool, people: People, *, clock: Clock = _now) -> None:
        self._pool, self._people, self._clock = pool, people, clock

    async def rotate(self, login: str) -> str:
        """A new address for `login` (the old one stops working); the token, shown once."""
        await self._people.require(login)
        token = CALENDAR_PREFIX + secrets.token_urlsafe(32)
        await self._pool.execute(
            "INSERT INTO calendar_tokens (login, token_hash, created_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (login) DO UPDATE SET token_hash = excluded.token_hash,"
            " created_at = excluded.created_at",
            login,
            token_hash(token),
            self._clock(),
        )
        return token

    async def revoke(self, login: str) -> bool:
        return (
            await self._pool.fetchval(
                "DELETE FROM calendar_tokens WHERE login = $1 RETURNING true", login
            )
            is not None
        )

    async def made_at(self, login: str) -> datetime | None:
        return await self._pool.fetchval(  # type: ignore[no-any-return]
            "SELECT created_at FROM calendar_tokens WHERE login = $1", login
        )

    async def person(self, token: str) -> Person | None:
        """The active person whose address this is, else None (a wrong, old or odd token)."""
        if not _SHAPE.match(token):
            return None
        digest = token_hash(token)
        row = await self._pool.fetchrow(
            "SELECT login, token_hash FROM calendar_tokens WHERE token_hash = $1", digest
        )
        if row is None or not hmac.compare_digest(bytes(row["token_hash"]), digest):
            return None
        person = await self._people.get(row["login"])
        return person if person is not None and person.active else None
