"""Passwords: argon2id hashes in `person_passwords`, and login with a lock-out.

Five failed logins in a row lock the login for 15 minutes; while locked, even the right password
is refused. Failures are counted by login name whether or not a person has it, and every
refusal is the same `login_failed`, so the answer never tells whether a login exists (a login
with no person still costs one argon2 verification, against a dummy hash).
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .errors import IdentityError
from .people import Clock, People, Person, _now

__all__ = ["MAX_FAILURES", "Credentials", "check_password_strength"]

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
FORGET_AFTER = timedelta(days=1)
"""Failed logins older than this are forgotten: their rows are deleted at the next failure."""
MIN_LENGTH = 10
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_REFUSED = "wrong login or password, or the login is locked for a while"


def check_password_strength(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise IdentityError(
            "weak_password", f"a password has at least {MIN_LENGTH} characters", "password"
        )
    if len(password) > 1024:
        raise IdentityError("weak_password", "a password has at most 1024 characters", "password")
    if password.strip() != password or not password.isprintable():
        raise IdentityError(
            "weak_password", "a password has no control characters and no leading or trailing"
            " spaces", "password",
        )
    return password


class Credentials:
    """Password hashes and the login check with lock-out."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        people: People,
        *,
        hasher: PasswordHasher | None = None,
        clock: Clock = _now,
        max_failures: int = MAX_FAILURES,
        lock_for: timedelta = LOCK_FOR,
    ) -> None:
        self._pool = pool
        self._people = people
        self._hasher = hasher or PasswordHasher()  # argon2id, RFC 9106 low-memory profile
        self._clock = clock
        self._max = max_failures
        self._lock_for = lock_for
        self._dummy: str | None = None

    async def set_password(self, login: str, password: str) -> None:
        """Store the argon2id hash of a new password (the caller records the event)."""
        check_password_strength(password)
        digest = await asyncio.to_thread(self._hasher.hash, password)
        await self._pool.execute(
            "INSERT INTO person_passwords (login, password_hash, set_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (login) DO UPDATE SET password_hash = excluded.password_hash,"
            " set_at = excluded.set_at",
            login, digest, self._clock(),
        )
        await self._pool.execute("DELETE FROM login_failures WHERE login = $1", login)

    async def login(self, login: str, password: str) -> Person:
        """The person when the login and password match, the person is active and the login is
        not locked; `login_failed` otherwise (the same answer in every case)."""
        now = self._clock()
        locked = await self._pool.fetchval(
            "SELECT locked_until FROM login_failures WHERE login = $1 AND locked_until > $2",
            login, now,
        )
        person = await self._people.get(login)
        stored = await self._pool.fetchval(
            "SELECT password_hash FROM person_passwords WHERE login = $1", login
        )
        ok = await self._verify(stored, password)
        if locked is not None:
            raise IdentityError("login_failed", _REFUSED)
        if not ok or person is None or not person.active:
            if _LOGIN.match(login):  # a name that can never be a login is not worth a row
                await self._failed(login, now)
            raise IdentityError("login_failed", _REFUSED)
        await self._pool.execute("DELETE FROM login_failures WHERE login = $1", login)
        if stored and self._hasher.check_needs_rehash(stored):
            await self.set_password(login, password)
        return person

    async def _verify(self, stored: str | None, password: str) -> bool:
        if stored is None:
            if self._dummy is None:
                self._dummy = await asyncio.to_thread(self._hasher.hash, "not a password")
            stored = self._dummy
            password = password + "\x00"  # never matches the dummy
        try:
            return await asyncio.to_thread(self._hasher.verify, stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def _failed(self, login: str, now: datetime) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            # failures a day old are forgotten (and rows of logins tried once by a guesser go)
            await conn.execute(
                "DELETE FROM login_failures WHERE last_failure < $1"
                " AND (locked_until IS NULL OR locked_until < $2)",
                now - FORGET_AFTER, now,
            )
            row = await conn.fetchrow(
                "SELECT failures, locked_until FROM login_failures WHERE login = $1 FOR UPDATE",
                login,
            )
            failures = 1
            if row is not None and row["locked_until"] is None:
                failures = row["failures"] + 1
            locked_until = now + self._lock_for if failures >= self._max else None
            await conn.execute(
                "INSERT INTO login_failures (login, failures, last_failure, locked_until)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (login) DO UPDATE SET"
                " failures = excluded.failures, last_failure = excluded.last_failure,"
                " locked_until = excluded.locked_until",
                login, failures, now, locked_until,
            )
