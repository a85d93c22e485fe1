"""Web sessions: server-side rows keyed by the SHA-256 of a random session id, with a CSRF token.

A session ends after `idle` without a request of its person (default 30 minutes; the pages'
version poll resolves the session without restarting that clock), `absolute` after it began (12
hours), at logout, or when its person is disabled. Each login starts a new session (a new id),
ending the one the browser had. Only hashes of the session id and of its CSRF token are stored.

The login form itself is protected by a double-submit CSRF token (`new_csrf_token`, sent both as
a cookie and as a form field, compared by `same_token`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from .errors import IdentityError
from .people import Clock, People, Person, _now

__all__ = ["NewSession", "Sessions", "new_csrf_token", "same_token", "token_hash"]

COOKIE = "thidua_session"
CSRF_COOKIE = "thidua_csrf"


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(a: str | None, b: str | None) -> bool:
    """Constant-time equality of two tokens; False when either is missing."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(frozen=True)
class NewSession:
    id: str  # goes into the cookie only; never stored, never logged
    csrf_token: str
    person: Person


class Sessions:
    def __init__(
        self,
        pool: asyncpg.Pool,
        people: People,
        *,
        idle: timedelta = timedelta(minutes=30),
        absolute: timedelta = timedelta(hours=12),
        clock: Clock = _now,
    ) -> None:
        self._pool = pool
        self._people = people
        self.idle = idle
        self.absolute = absolute
        self._clock = clock

    async def start(self, person: Person, *, replacing: str | None = None) -> NewSession:
        """A new session for a person who has just logged in; ends `replacing` (the id the
        browser sent, if any)."""
        if replacing:
            await self.end(replacing)
        sid, csrf = secrets.token_urlsafe(32), new_csrf_token()
        now = self._clock()
        await self._pool.execute(
            "INSERT INTO sessions (id_hash, login, csrf_hash, created_at, last_seen_at)"
            " VALUES ($1, $2, $3, $4, $4)",
            token_hash(sid),
            person.login,
            token_hash(csrf),
            now,
        )
        return NewSession(sid, csrf, person)

    async def resolve(self, session_id: str | None, *, touch: bool = True) -> Person:
        """The person of a live session, or `not_authenticated`. The session's idle clock
        restarts unless `touch` is False (a request the page makes on its own, not the
        person: the version poll)."""
        if not session_id:
            raise IdentityError("not_authenticated", "no session")
        now = self._clock()
        live = "id_hash = $1 AND ended_at IS NULL AND last_seen_at > $2 AND created_at > $3"
        args = (token_hash(session_id), now - self.idle, now - self.absolute)
        if touch:
            row = await self._pool.fetchrow(
                f"UPDATE sessions SET last_seen_at = $4 WHERE {live} RETURNING login", *args, now
            )
        else:
            row = await self._pool.fetchrow(f"SELECT login FROM sessions WHERE {live}", *args)
        person = await self._people.get(row["login"]) if row else None
        if person is None or not person.active:
            raise IdentityError("not_authenticated", "the session has ended; log in again")
        return person

    async def check_csrf(self, session_id: str | None, csrf_token: str | None) -> None:
        """Refuse (`csrf_failed`) a state-changing request whose CSRF token is not its
        session's."""
        if session_id and csrf_token:
            stored = await self._pool.fetchval(
                "SELECT csrf_hash FROM sessions WHERE id_hash = $1 AND ended_at IS NULL",
                token_hash(session_id),
            )
            if stored is not None and hmac.compare_digest(bytes(stored), token_hash(csrf_token)):
                return
        raise IdentityError(
            "csrf_failed", "the form's CSRF token is missing or wrong", "csrf_token"
        )

    async def end(self, session_id: str) -> None:
        await self._pool.execute(
            "UPDATE sessions SET ended_at = $2 WHERE id_hash = $1 AND ended_at IS NULL",
            token_hash(session_id),
            self._clock(),
        )

    async def end_all(self, login: str) -> int:
        result = await self._pool.execute(
            "UPDATE sessions SET ended_at = $2 WHERE login = $1 AND ended_at IS NULL",
            login,
            self._clock(),
        )
        return int(result.split()[-1])
