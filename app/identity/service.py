"""One object for the outer layer (CLI, HTTP): people, passwords, sessions, API tokens and single
sign-on, each step that changes access recorded as an event of the person's stream."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from argon2 import PasswordHasher
from pydantic import BaseModel

from domain.values import Actor
from eventstore import EventStore

from .calendar import CalendarTokens
from .errors import IdentityError
from .oidc import OidcConfig, OidcLogin
from .passwords import UNKNOWN_ADDRESS, Credentials, check_password_strength
from .people import Clock, People, Person, _now
from .sessions import NewSession, Sessions
from .throttle import ThrottlePolicy, ThrottleRow
from .tokens import ApiTokens, IssuedToken, TokenInfo

__all__ = ["DemoUser", "Identity", "IdentityConfig"]


class IdentityConfig(BaseModel):
    session_idle: timedelta = timedelta(minutes=30)
    session_absolute: timedelta = timedelta(hours=12)
    login_max_failures: int = 5
    login_delay: timedelta = timedelta(minutes=1)
    """The first delay after `login_max_failures` failures; each further failure doubles it."""
    login_delay_max: timedelta = timedelta(hours=1)
    oidc: OidcConfig | None = None

    def throttle(self) -> ThrottlePolicy:
        return ThrottlePolicy(
            max_failures=self.login_max_failures,
            base_delay=self.login_delay,
            max_delay=self.login_delay_max,
        )


@dataclass(frozen=True)
class DemoUser:
    login: str
    password: str  # printed once by the caller, never stored in clear
    role: str
    unit: str | None
    name: str


class Identity:
    def __init__(
        self,
        pool: asyncpg.Pool,
        store: EventStore,
        config: IdentityConfig | None = None,
        *,
        hasher: PasswordHasher | None = None,
        clock: Clock = _now,
    ) -> None:
        config = config or IdentityConfig()
        self.config = config
        self.people = People(pool, store, clock=clock)
        self.credentials = Credentials(
            pool, self.people, hasher=hasher, clock=clock, throttle=config.throttle()
        )
        self.sessions = Sessions(
            pool,
            self.people,
            idle=config.session_idle,
            absolute=config.session_absolute,
            clock=clock,
        )
        self.tokens = ApiTokens(pool, self.people, clock=clock)
        self.calendar = CalendarTokens(pool, self.people, clock=clock)
        self.oidc = OidcLogin(config.oidc, self.people) if config.oidc else None

    # ---- people ----------------------------------------------------------------------------

    async def add_person(
        self,
        login: str,
        *,
        name: str,
        role: str,
        by: Actor,
        unit: str | None = None,
        position: str | None = None,
        password: str | None = None,
        email: str | None = None,
    ) -> Person:
        if password is not None:
            check_password_strength(password)  # before anything is written
        person = await self.people.add(
            login, name=name, role=role, unit=unit, position=position, email=email, by=by
        )
        if password is not None:
            await self.credentials.set_password(person.login, password)
        return person

    async def set_password(self, login: str, password: str, *, by: Actor) -> Person:
        check_password_strength(password)
        await self.people.require(login)
        await self.credentials.set_password(login, password)
        person = await self.people.record(login, "password_reset", {}, by=by)
        await self.sessions.end_all(login)
        return person

    async def disable(self, login: str, *, by: Actor) -> Person:
        """Disable a person: their sessions end at once and their tokens stop working."""
        person = await self.people.set_active(login, False, by=by)
        await self.sessions.end_all(login)
        return person

    async def enable(self, login: str, *, by: Actor) -> Person:
        return await self.people.set_active(login, True, by=by)

    # ---- tokens ----------------------------------------------------------------------------

    async def issue_token(
        self,
        login: str,
        *,
        by: Actor,
        name: str | None = None,
        expires: timedelta = timedelta(days=90),
    ) -> IssuedToken:
        issued = await self.tokens.issue(login, name=name, expires=expires)
        await self.people.record(
            login,
            "token_issued",
            {
                "token_id": str(issued.id),
                "name": issued.name,
                "expires_at": issued.expires_at.isoformat(),
            },
            by=by,
        )
        return issued

    async def revoke_token(self, token_id: str, *, by: Actor) -> TokenInfo:
        info = await self.tokens.revoke(token_id)
        await self.people.record(info.login, "token_revoked", {"token_id": str(info.id)}, by=by)
        return info

    # ---- authentication --------------------------------------------------------------------

    async def login(
        self,
        login: str,
        password: str,
        *,
        address: str = UNKNOWN_ADDRESS,
        replacing: str | None = None,
    ) -> NewSession:
        """A new session for a password login from `address` (the caller's network address,
        which the login throttle counts failures by)."""
        person = await self.credentials.login(login, password, address=address)
        return await self.sessions.start(person, replacing=replacing)

    async def login_failures(self, login: str) -> list[ThrottleRow]:
        """The login's counted failures and delays, per source address."""
        return await self.credentials.throttle.of_login(login)

    async def logout(self, session_id: str) -> None:
        await self.sessions.end(session_id)

    async def bearer(self, token: str | None) -> Person:
        return await self.tokens.resolve(token)

    # ---- demo ------------------------------------------------------------------------------

    async def demo_users(self, units: Iterable[tuple[str, str]], *, by: Actor) -> list[DemoUser]:
        """An administrator, an auditor and one person per unit (`units`: (id, name) pairs),
        each with a new random password. People who exist already get a new password."""
        wanted = [
            ("admin", "Quản trị Ban Thi đua – Khen thưởng", "admin", None, "Chuyên viên"),
            ("auditor", "Kiểm toán viên", "auditor", None, "Kiểm toán viên"),
        ] + [
            (unit_id, f"Cán bộ {name}", "unit", unit_id, "Chánh Văn phòng")
            for unit_id, name in units
        ]
        out = []
        for login, name, role, unit, position in wanted:
            password = secrets.token_urlsafe(12)
            if await self.people.get(login) is None:
                await self.add_person(
                    login,
                    name=name,
                    role=role,
                    unit=unit,
                    position=position,
                    password=password,
                    by=by,
                )
            else:
                person = await self.people.get(login)
                if person is not None and (person.role, person.unit) != (role, unit):
                    raise IdentityError(
                        "person_exists", f"{login!r} exists with another role or unit", "login"
                    )
                await self.set_password(login, password, by=by)
                await self.enable(login, by=by)
            out.append(DemoUser(login, password, role, unit, name))
        return out
