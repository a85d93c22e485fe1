"""The login throttle: failed password logins counted per login AND per source address, with a
delay that grows, rather than a lock-out of the login from everywhere.

- The count is kept per (login, address) in `login_throttle` (migration 0011): wrong passwords
  from one address never delay the same login from another address, so a stranger cannot lock
  an official out. An IPv6 address counts as its /64 network (one machine or one household
  usually has a whole /64, so trying from many of its addresses buys nothing).
- An attempt is counted *before* its password is checked, by one statement (`INSERT … ON
  CONFLICT DO UPDATE … WHERE the row is not delayed`): PostgreSQL locks the row, so concurrent
  attempts are decided and counted one after another, never from a stale read. The attempt
  that reaches `max_failures` starts the delay at once; a successful login deletes the row.
  Hence N concurrent wrong passwords cost at most `max_failures` password verifications before
  every further attempt is refused without one.
- While the delay runs, every attempt of that login from that address (the right password
  too) is refused with `login_delayed` (HTTP 429, Retry-After). After it ends one more attempt is
  allowed; if it fails too, the next delay is twice as long (`base_delay` · 2^(failures −
  max_failures), at most `max_delay`). Failures `forget_after` old are forgotten.
- One structured log line (`login.delayed`: login, address, failures, until) per delay that
  starts; never a password.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import structlog

from .errors import IdentityError

__all__ = ["LoginDelayed", "LoginThrottle", "ThrottlePolicy", "ThrottleRow", "address_key"]

log = structlog.get_logger("thidua.identity")


def address_key(address: str) -> str:
    """What failures are counted by: an IPv4 address as it is, an IPv6 address as its /64
    network (an IPv4-mapped one as the IPv4 address), anything else (no address known) as given,
    at most 100 characters."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int = 5
    base_delay: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(hours=1)
    forget_after: timedelta = timedelta(days=1)

    def delay(self, failures: int) -> timedelta | None:
        """The delay that `failures` failures in a row start (None below `max_failures`); the
        same rule as the SQL below, for the documentation and the tests."""
        if failures < self.max_failures:
            return None
        grown: timedelta = self.base_delay * 2 ** min(30, failures - self.max_failures)
        return min(grown, self.max_delay)


class LoginDelayed(IdentityError):
    """`login_delayed`: too many failed logins of this login from this address; retry later."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            "login_delayed",
            "too many failed logins for this login from this address; try again after"
            f" {retry_after_seconds} s",
        )
        self.retry_after_seconds = retry_after_seconds

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "retry_after_seconds": self.retry_after_seconds}


@dataclass(frozen=True)
class Attempt:
    """An admitted attempt: its number in the row's count, and the delay it started (which
    stands unless the attempt succeeds)."""

    login: str
    address: str
    failures: int
    delayed_until: datetime | None


@dataclass(frozen=True)
class ThrottleRow:
    login: str
    address: str
    failures: int
    last_failure: datetime
    delayed_until: datetime | None

    def delayed(self, now: datetime) -> bool:
        return self.delayed_until is not None and self.delayed_until > now


# the row's count after this attempt: restarted when the last failure is forgotten
_COUNT = (
    "(CASE WHEN t.last_failure < $3::timestamptz - make_interval(secs => $7::float8)"
    " THEN 1 ELSE t.failures + 1 END)"
)


def _delay_after(count: str) -> str:
    return (
        f"CASE WHEN {count} >= $4::int THEN $3::timestamptz + make_interval(secs =>"
        f" LEAST($6::float8, $5::float8 * power(2, LEAST(30, {count} - $4::int)))) END"
    )


_ADMIT = f"""
INSERT INTO login_throttle AS t (login, address, failures, last_failure, delayed_until)
VALUES ($1, $2, 1, $3, {_delay_after("1")})
ON CONFLICT (login, address) DO UPDATE SET
    failures = {_COUNT},
    last_failure = $3,
    delayed_until = {_delay_after(_COUNT)}
WHERE t.delayed_until IS NULL OR t.delayed_until <= $3
RETURNING failures, delayed_until
"""


class LoginThrottle:
    def __init__(self, pool: asyncpg.Pool, policy: ThrottlePolicy | None = None) -> None:
        self._pool = pool
        self.policy = policy or ThrottlePolicy()

    async def admit(self, login: str, address: str, now: datetime) -> Attempt:
        """Count one attempt of `login` from `address`, or refuse it (`LoginDelayed`) while a
        delay runs. Counted as a failure until `succeeded` says otherwise."""
        p, address = self.policy, address_key(address)
        row = await self._pool.fetchrow(
            _ADMIT,
            login,
            address,
            now,
            p.max_failures,
            p.base_delay.total_seconds(),
            p.max_delay.total_seconds(),
            p.forget_after.total_seconds(),
        )
        if row is None:  # the row is delayed: refused, not counted
            until = await self._pool.fetchval(
                "SELECT delayed_until FROM login_throttle WHERE login = $1 AND address = $2",
                login,
                address,
            )
            seconds = (until - now).total_seconds() if until is not None else 1
            raise LoginDelayed(max(1, math.ceil(seconds)))
        return Attempt(login, address, row["failures"], row["delayed_until"])

    async def succeeded(self, attempt: Attempt) -> None:
        await self._pool.execute(
            "DELETE FROM login_throttle WHERE login = $1 AND address = $2",
            attempt.login,
            attempt.address,
        )

    async def failed(self, attempt: Attempt, now: datetime) -> None:
        """The attempt's password was wrong (it is counted already): log the delay it started,
        and forget failures older than `forget_after` (rows of logins a guesser tried once)."""
        if attempt.delayed_until is not None:
            log.warning(
                "login.delayed",
                login=attempt.login,
                address=attempt.address,
                failures=attempt.failures,
                until=attempt.delayed_until.isoformat(),
            )
        await self._pool.execute(
            "DELETE FROM login_throttle WHERE last_failure < $1"
            " AND (delayed_until IS NULL OR delayed_until < $2)",
            now - self.policy.forget_after,
            now,
        )

    async def of_login(self, login: str) -> list[ThrottleRow]:
        """The failures of a login, per address (latest first)."""
        rows = await self._pool.fetch(
            "SELECT login, address, failures, last_failure, delayed_until FROM login_throttle"
            " WHERE login = $1 ORDER BY last_failure DESC, address",
            login,
        )
        return [ThrottleRow(**dict(r)) for r in rows]

    async def clear(self, login: str) -> None:
        """Forget a login's failures (its password was set by the secretariat)."""
        await self._pool.execute("DELETE FROM login_throttle WHERE login = $1", login)
