"""Passwords: argon2id hashes in `person_passwords`, and the login check behind the login
throttle (throttle.py).

Every attempt is first counted by the throttle, per login and source address, in one statement;
an attempt it refuses (`login_delayed`) is never verified. Failures are counted by login name
whether or not a person has it, and every wrong password is the same `login_failed`, so the
answer never tells whether a login exists (a login with no person still costs one argon2
verification, against a dummy hash). A name that can never be a login is refused before
anything is counted or verified.
"""

from __future__ import annotations

import asyncio
import re

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .errors import IdentityError
from .people import Clock, People, Person, _now
from .throttle import LoginThrottle, ThrottlePolicy

__all__ = ["Credentials", "check_password_strength"]

MIN_LENGTH = 10
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_REFUSED = "wrong login or password"
UNKNOWN_ADDRESS = "unknown"


def check_password_strength(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise IdentityError(
            "weak_password", f"a password has at least {MIN_LENGTH} characters", "password"
        )
    if len(password) > 1024:
        raise IdentityError("weak_password", "a password has at most 1024 characters", "password")
    if password.strip() != password or not password.isprintable():
        raise IdentityError(
            "weak_password",
            "a password has no control characters and no leading or trailing spaces",
            "password",
        )
    return password


class Credentials:
    """Password hashes and the login check, behind the login throttle."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        people: People,
        *,
        hasher: PasswordHasher | None = None,
        clock: Clock = _now,
        throttle: ThrottlePolicy | None = None,
    ) -> None:
        self._pool = pool
        self._people = people
        self.hasher = hasher or PasswordHasher()  # argon2id, RFC 9106 low-memory profile
        self._clock = clock
        self.throttle = LoginThrottle(pool, throttle)
        self._dummy: str | None = None

    async def set_password(self, login: str, password: str) -> None:
        """Store the argon2id hash of a new password (the caller records the event); the
        login's counted failures are forgotten."""
        check_password_strength(password)
        digest = await asyncio.to_thread(self.hasher.hash, password)
        await self._pool.execute(
            "INSERT INTO person_passwords (login, password_hash, set_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (login) DO UPDATE SET password_hash = excluded.password_hash,"
            " set_at = excluded.set_at",
            login,
            digest,
            self._clock(),
        )
        await self.throttle.clear(login)

    async def login(self, login: str, password: str, *, address: str = UNKNOWN_ADDRESS) -> Person:
        """The person when the login and password match and the person is active;
        `login_delayed` (before any verification) while the throttle delays this login from
        this `address`; `login_failed` otherwise (the same answer whether or not the login
        exists)."""
        if not _LOGIN.match(login):  # never a login: not worth a row nor a verification
            raise IdentityError("login_failed", _REFUSED)
        now = self._clock()
        attempt = await self.throttle.admit(login, address, now)  # decides and counts
        person = await self._people.get(login)
        stored = await self._pool.fetchval(
            "SELECT password_hash FROM person_passwords WHERE login = $1", login
        )
        ok = await self._verify(stored, password)
        if not ok or person is None or not person.active:
            await self.throttle.failed(attempt, now)
            raise IdentityError("login_failed", _REFUSED)
        await self.throttle.succeeded(attempt)
        if stored and self.hasher.check_needs_rehash(stored):
            await self.set_password(login, password)
        return person

    async def _verify(self, stored: str | None, password: str) -> bool:
        if stored is None:
            if self._dummy is None:
                self._dummy = await asyncio.to_thread(self.hasher.hash, "not a password")
            stored = self._dummy
            password = password + "\x00"  # never matches the dummy
        try:
            return await asyncio.to_thread(self.hasher.verify, stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
