"""Schema migrations: numbered .sql files in eventstore/migrations, applied in order under a
PostgreSQL advisory lock and recorded in `schema_migrations`. Running it again is a no-op."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

from .errors import translate_errors
from .records import Conn

__all__ = ["Migration", "SchemaNotCurrent", "check_migrated", "migrate", "migrations"]

_LOCK_KEY = 0x7468_6964_7561  # "thidua": one migrator at a time, across processes
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The migration files shipped with the package, in order."""
    found = []
    for entry in resources.files("eventstore").joinpath("migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m[1]), m[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda mg: mg.version)
    if len({mg.version for mg in found}) != len(found):
        raise RuntimeError("two migrations share a number")
    return found


class SchemaNotCurrent(RuntimeError):
    """The database lacks migrations this code needs: run `thidua db migrate` (as the owner)."""


async def check_migrated(target: asyncpg.Pool | asyncpg.Connection) -> None:
    """For the service role at start-up, which may not create anything: raise SchemaNotCurrent
    unless every shipped migration is applied."""
    with translate_errors():
        try:
            rows = await target.fetch("SELECT version FROM schema_migrations")
        except asyncpg.UndefinedTableError:
            rows = []
    missing = [
        f"{m.version:04d}_{m.name}" for m in migrations() if m.version not in {r[0] for r in rows}
    ]
    if missing:
        raise SchemaNotCurrent(
            f"schema_not_current: migrations not applied: {', '.join(missing)}; run"
            " `thidua db migrate` as the owner role"
        )


async def migrate(
    target: asyncpg.Pool | asyncpg.Connection, *, as_role: str | None = None
) -> list[str]:
    """Apply the migrations not yet applied; returns the names applied now. With `as_role`
    (e.g. the owner, see roles.py) the migrations run under SET ROLE, so that the role owns what
    they create."""
    with translate_errors():
        if isinstance(target, asyncpg.Pool):
            async with target.acquire() as conn:
                return await _migrate(conn, as_role)
        return await _migrate(target, as_role)


async def _migrate(conn: Conn, as_role: str | None = None) -> list[str]:
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        if as_role is not None:
            await conn.execute("SELECT set_config('role', $1, false)", as_role)
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version    integer PRIMARY KEY,
                   name       text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        done = {r[0] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        applied = []
        for mg in migrations():
            if mg.version in done:
                continue
            async with conn.transaction():
                await conn.execute(mg.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    mg.version,
                    mg.name,
                )
            applied.append(f"{mg.version:04d}_{mg.name}")
        # After a restore into a new cluster, keep new positions above the restored ones.
        await conn.execute("SELECT events_rebase_positions()")
        return applied
    finally:
        if as_role is not None:
            await conn.execute("RESET ROLE")
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
