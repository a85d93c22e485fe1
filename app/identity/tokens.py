"""API tokens: random (`secrets`), shown once, stored only as their SHA-256 hash, with a name,
an expiry and the time of last use. A revoked or expired token, or one whose person is disabled,
authenticates nobody.

A token reads `thd_<43 url-safe characters>` (256 random bits); the prefix lets secret scanners
recognise it.
"""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from .errors import IdentityError
from .people import Clock, People, Person, _now
from .sessions import token_hash

__all__ = ["ApiTokens", "IssuedToken", "TokenInfo", "parse_expiry"]

PREFIX = "thd_"
_EXPIRY = re.compile(r"^(\d{1,5})([hd])$")
_TOUCH_EVERY = timedelta(minutes=1)


def parse_expiry(text: str) -> timedelta:
    """'90d', '12h' → a duration (1 hour to 10 years)."""
    m = _EXPIRY.match(text.strip())
    delta = None
    if m:
        n = int(m[1])
        delta = timedelta(days=n) if m[2] == "d" else timedelta(hours=n)
    if delta is None or not timedelta(hours=1) <= delta <= timedelta(days=3660):
        raise IdentityError(
            "invalid_expiry",
            f"{text!r}: an expiry is like 90d or 12h (1 hour to 10 years)",
            "expires",
        )
    return delta


@dataclass(frozen=True)
class IssuedToken:
    id: uuid.UUID
    login: str
    name: str
    token: str  # shown once to whoever issued it; never stored, never logged
    expires_at: datetime


@dataclass(frozen=True)
class TokenInfo:
    id: uuid.UUID
    login: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


class ApiTokens:
    def __init__(self, pool: asyncpg.Pool, people: People, *, clock: Clock = _now) -> None:
        self._pool = pool
        self._people = people
        self._clock = clock

    async def issue(
        self, login: str, *, name: str | None = None, expires: timedelta = timedelta(days=90)
    ) -> IssuedToken:
        person = await self._people.require(login)
        if not person.active:
            raise IdentityError("person_disabled", f"{login!r} is disabled", "login")
        name = (name or "api").strip()
        if not name or len(name) > 100 or not name.isprintable():
            raise IdentityError(
                "invalid_name", "a token name is 1 to 100 printable characters", "name"
            )
        token = PREFIX + secrets.token_urlsafe(32)
        now = self._clock()
        issued = IssuedToken(uuid.uuid4(), login, name, token, now + expires)
        await self._pool.execute(
            "INSERT INTO api_tokens (id, login, name, token_hash, created_at, expires_at)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            issued.id,
            login,
            name,
            token_hash(token),
            now,
            issued.expires_at,
        )
        return issued

    async def list(self, login: str) -> list[TokenInfo]:
        rows = await self._pool.fetch(
            "SELECT id, login, name, created_at, expires_at, last_used_at, revoked_at"
            " FROM api_tokens WHERE login = $1 ORDER BY created_at",
            login,
        )
        return [TokenInfo(**dict(r)) for r in rows]

    async def get(self, token_id: uuid.UUID) -> TokenInfo | None:
        row = await self._pool.fetchrow(
            "SELECT id, login, name, created_at, expires_at, last_used_at, revoked_at"
            " FROM api_tokens WHERE id = $1",
            token_id,
        )
        return TokenInfo(**dict(row)) if row else None

    async def revoke(self, token_id: str | uuid.UUID) -> TokenInfo:
        try:
            tid = token_id if isinstance(token_id, uuid.UUID) else uuid.UUID(str(token_id))
        except ValueError as exc:
            raise IdentityError("unknown_token", f"{token_id!r} is not a token id", "id") from exc
        await self._pool.execute(
            "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            tid,
            self._clock(),
        )
        info = await self.get(tid)
        if info is None:
            raise IdentityError("unknown_token", f"no token with id {tid}", "id")
        return info

    async def resolve(self, token: str | None) -> Person:
        """The active person of a live token, or `not_authenticated`."""
        refused = IdentityError("not_authenticated", "a valid bearer token is required")
        if not token or not token.startswith(PREFIX) or len(token) > 200:
            raise refused
        digest = token_hash(token)
        row = await self._pool.fetchrow(
            "SELECT id, login, token_hash, expires_at, last_used_at, revoked_at"
            " FROM api_tokens WHERE token_hash = $1",
            digest,
        )
        now = self._clock()
        if (
            row is None
            or not hmac.compare_digest(bytes(row["token_hash"]), digest)
            or row["revoked_at"] is not None
            or (row["expires_at"] is not None and row["expires_at"] <= now)
        ):
            raise refused
        person = await self._people.get(row["login"])
        if person is None or not person.active:
            raise refused
        last = row["last_used_at"]
        if last is None or now - last >= _TOUCH_EVERY:
            await self._pool.execute(
                "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1", row["id"], now
            )
        return person
