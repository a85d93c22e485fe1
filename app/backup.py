"""`thidua db backup FILE` and `thidua db restore FILE`: the server's own pg_dump/pg_restore.

A backup is pg_dump's custom format of the whole database, taken by the major version of
pg_dump that matches the server (the embedded PostgreSQL's programs sit beside its `postgres`;
for another server the same major version is looked for on PATH and in
/usr/lib/postgresql/N/bin). A restore goes into an empty database only (the embedded one under
a new THIDUA_HOME, or DATABASE_URL), in one transaction that stops at the first error
(pg_restore --single-transaction --exit-on-error), then applies the migrations the backup
lacks and moves the position base above the restored positions (eventstore/migrate.py), then
grants the roles. Each step that fails says which it was; nothing is half restored.

Passwords reach pg_dump/pg_restore in PGPASSWORD, never on their command line."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

from eventstore import migrate
from eventstore.connect import embedded_bin
from eventstore.errors import StoreError, translate_errors
from eventstore.roles import ensure_roles

from .database import make_roles, url_for
from .settings import Settings

__all__ = ["BackupFailed", "Counts", "backup", "restore"]


class BackupFailed(RuntimeError):
    """A backup or restore step failed; the message names the step."""

    def __init__(self, step: str, detail: str) -> None:
        self.step = step
        super().__init__(f"{step} failed: {detail}")


@dataclass(frozen=True)
class Counts:
    events: int
    streams: int
    note: str | None = None


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """(the URL without its password, the environment that carries it)."""
    parts = urlsplit(url)
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        user = parts.username or ""
        host = parts.netloc.rpartition("@")[2]
        parts = parts._replace(netloc=f"{user}@{host}" if user else host)
    return urlunsplit(parts), env


def _major(program: Path) -> int | None:
    try:
        done = subprocess.run(
            [str(program), "--version"], capture_output=True, text=True, timeout=30, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"\(PostgreSQL\) (\d+)", done.stdout)
    return int(m[1]) if m else None


def _program(name: str, major: int) -> Path:
    """`name` (pg_dump, pg_restore) of the server's major version."""
    candidates = [embedded_bin(name)]
    found = shutil.which(name)
    if found:
        candidates.append(Path(found))
    candidates.append(Path(f"/usr/lib/postgresql/{major}/bin/{name}"))
    seen = []
    for c in candidates:
        if c.exists():
            v = _major(c)
            if v == major:
                return c
            seen.append(f"{c} is {v}")
    raise BackupFailed(
        f"finding {name}",
        f"no {name} of PostgreSQL {major} (the server's version) found"
        + (f" ({'; '.join(seen)})" if seen else "")
        + f"; install postgresql-client-{major}",
    )


def _run(step: str, args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        lines = [ln.strip() for ln in done.stderr.strip().splitlines() if ln.strip()]
        # the first error line names the cause (COPY's context lines would quote the data)
        first = next((ln for ln in lines if "error:" in ln.lower()), lines[-1] if lines else "")
        raise BackupFailed(step, first[:500] or f"exit {done.returncode}")
    return done.stdout


async def _server(url: str, step: str) -> tuple[int, Counts | None, int]:
    """(server major version, counts when the event store exists, relations in public)."""
    try:
        with translate_errors():
            conn = await asyncpg.connect(url)
            try:
                major = int(await conn.fetchval("SHOW server_version_num")) // 10000
                relations = int(
                    await conn.fetchval(
                        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid ="
                        " c.relnamespace WHERE n.nspname = 'public'"
                        " AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
                    )
                )
                counts = None
                if await conn.fetchval("SELECT to_regclass('public.events') IS NOT NULL"):
                    row = await conn.fetchrow("SELECT count(*), count(DISTINCT stream) FROM events")
                    assert row is not None
                    counts = Counts(int(row[0]), int(row[1]))
            finally:
                await conn.close()
    except StoreError as exc:
        raise BackupFailed(step, f"PostgreSQL: {exc}") from None
    return major, counts, relations


async def backup(settings: Settings, path: Path) -> Counts:
    """Write the database (DATABASE_URL, else the embedded one) to `path`."""
    url = await url_for(settings, "owner")
    major, counts, _ = await _server(url, "reading the database")
    if counts is None:
        raise BackupFailed("reading the database", "it holds no event store")
    pg_dump = _program("pg_dump", major)
    dsn, env = _libpq(url)
    tmp = path.with_name(path.name + ".partial")
    try:
        await asyncio.to_thread(
            _run,
            "pg_dump",
            [
                str(pg_dump),
                "--format=custom",
                "--no-password",
                f"--file={tmp}",
                f"--dbname={dsn}",
            ],
            env,
        )
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return counts


async def restore(settings: Settings, path: Path) -> Counts:
    """Restore `path` into the empty database (DATABASE_URL, else the embedded one)."""
    if not path.is_file():
        raise BackupFailed("reading the backup", f"{path} is not a file")
    url = await url_for(settings, "owner")
    major, _, relations = await _server(url, "checking the target")
    if relations:
        raise BackupFailed(
            "checking the target",
            f"the database is not empty ({relations}"
            " tables, views or sequences in schema public): restore into an"
            " empty database (a new THIDUA_HOME, or a new DATABASE_URL)",
        )
    pg_restore = _program("pg_restore", major)
    dsn, env = _libpq(url)
    await asyncio.to_thread(_run, "reading the backup", [str(pg_restore), "--list", str(path)], env)
    # objects belong to the restoring role, grants are made again below (roles differ between
    # clusters); one transaction, stopped by the first error
    await asyncio.to_thread(
        _run,
        "pg_restore",
        [
            str(pg_restore),
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={dsn}",
            str(path),
        ],
        env,
    )
    note = None
    try:
        with translate_errors():
            conn = await asyncpg.connect(url)
            try:
                await migrate(conn)  # newer migrations; positions above the restored ones
                may_grant = await conn.fetchval(
                    "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
                )
                if settings.database_url and may_grant:
                    await ensure_roles(conn)  # passwords unchanged
                elif settings.database_url:
                    note = (
                        "this role may not grant: run `thidua db roles` with an"
                        " administrator's DATABASE_URL to grant thidua_app and thidua_auditor"
                    )
            finally:
                await conn.close()
        if not settings.database_url:
            await make_roles(settings, url=url)
    except StoreError as exc:
        raise BackupFailed(
            "migrating and granting after the restore", f"PostgreSQL: {exc}"
        ) from None
    _, counts, _ = await _server(url, "counting the restored events")
    assert counts is not None
    return Counts(counts.events, counts.streams, note)
