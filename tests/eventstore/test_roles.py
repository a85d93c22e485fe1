"""The service role cannot rewrite history: UPDATE, DELETE, TRUNCATE on events and disabling
the append-only trigger are refused; appends and reads work; later tables get its grants. The
auditor role reads everything and writes nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from eventstore import DatabaseError, EventStore, create_pool, migrate
from eventstore.migrate import SchemaNotCurrent, check_migrated
from eventstore.roles import ensure_roles, scram_verifier, service_url
from tests.pg import fresh_database

from .conftest import new_stream, pledge, settled

pytestmark = pytest.mark.db


@pytest.fixture
async def roles(pg_server: str) -> AsyncIterator[tuple[str, str, str, str]]:
    """A fresh migrated database, its roles made by ensure_roles: (admin url, service url,
    owner, service); the auditor is f"t_aud_{tag}" with password f"pw-aud-{tag}"."""
    tag = uuid.uuid4().hex[:8]
    owner, service, auditor = f"t_owner_{tag}", f"t_app_{tag}", f"t_aud_{tag}"
    async with fresh_database(pg_server) as url:
        admin = await asyncpg.connect(url)
        try:
            service_url = await ensure_roles(
                admin,
                owner=owner,
                service=service,
                auditor=auditor,
                password=f"pw-{tag}",
                auditor_password=f"pw-aud-{tag}",
                url=url,
            )
            assert service_url is not None and service in service_url
            # idempotent: a second bootstrap changes nothing and does not fail
            await ensure_roles(
                admin, owner=owner, service=service, auditor=auditor, password=f"pw-{tag}"
            )
        finally:
            await admin.close()
        yield url, service_url, owner, service
    admin = await asyncpg.connect(pg_server)
    try:
        await admin.execute(
            f'DROP ROLE IF EXISTS "{service}"; DROP ROLE IF EXISTS "{owner}";'
            f' DROP ROLE IF EXISTS "{auditor}"'
        )
    finally:
        await admin.close()


async def test_the_service_role_appends_and_reads_but_cannot_rewrite_history(
    roles: tuple[str, str, str, str],
) -> None:
    _, url, owner, _ = roles
    pool = await create_pool(url, min_size=1, max_size=2)
    try:
        store = EventStore(pool)
        stream = new_stream()
        await store.append(stream, 0, [pledge("a"), pledge("b")])
        await settled(store, (await store.append(stream, 2, [pledge("c")]))[-1].position)
        assert (await store.verify(stream)).ok
        assert (await store.replay(stream)).state.signed == ["a", "b", "c"]
        assert [e.version for e in await store.read_all(0)] == [1, 2, 3]
        # the grouped append (ON CONFLICT DO NOTHING, one statement) needs no more than INSERT:
        # a group that falls back to appends alone would be correct but not one transaction
        grouped = EventStore(pool, lanes=1)
        got = await asyncio.gather(*(grouped.append(new_stream(), 0, [pledge()]) for _ in range(4)))
        assert len({p[0].position >> 20 for p in got[1:]}) == 1
        await check_migrated(pool)
        for sql in (
            "UPDATE events SET type = 'x'",
            "DELETE FROM events",
            "TRUNCATE events",
            "ALTER TABLE events DISABLE TRIGGER events_no_update_delete",
            "ALTER TABLE events DISABLE TRIGGER ALL",
            "ALTER TABLE events DROP CONSTRAINT events_body_matches",
            "UPDATE event_position_base SET xid_offset = 0",
            "DELETE FROM schema_migrations",
            "CREATE TABLE sneaky (x int)",
            f"SET ROLE {owner}",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await pool.execute(sql)
        with pytest.raises(DatabaseError, match="permission denied"):
            await migrate(pool)  # the service cannot migrate
        # what else the application needs: full DML on the other tables (read model rebuilds
        # truncate theirs)
        for table in ("cycles", "outbox", "projection_checkpoints", "people"):
            ok = await pool.fetchval(
                "SELECT bool_and(has_table_privilege(current_user, $1, p))"
                " FROM unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p",
                table,
            )
            assert ok, table
        await pool.execute("TRUNCATE cycles")
    finally:
        await pool.close()


async def test_tables_of_later_migrations_get_the_service_grants(
    roles: tuple[str, str, str, str],
) -> None:
    admin_url, url, owner, service = roles
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f"SET ROLE {owner}; CREATE TABLE later_a (x int); RESET ROLE")
        await admin.execute("CREATE TABLE later_b (x int)")  # a migration run by the superuser
        # but not on events, had someone re-created it
        assert not await admin.fetchval(
            "SELECT has_table_privilege($1, 'events', 'UPDATE')", service
        )
    finally:
        await admin.close()
    conn = await asyncpg.connect(url)
    try:
        for table in ("later_a", "later_b"):
            await conn.execute(f"INSERT INTO {table} VALUES (1)")
            await conn.execute(f"UPDATE {table} SET x = 2")
            await conn.execute(f"DELETE FROM {table}")
    finally:
        await conn.close()


async def test_a_worker_refuses_to_start_on_an_old_schema(db_url: str) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("DELETE FROM schema_migrations WHERE version = 8")
        with pytest.raises(SchemaNotCurrent, match="0008_audit"):
            await check_migrated(conn)
        await conn.execute("INSERT INTO schema_migrations (version, name) VALUES (8, 'audit')")
        await check_migrated(conn)
    finally:
        await conn.close()


async def test_the_auditor_reads_every_table_and_writes_none(
    roles: tuple[str, str, str, str],
) -> None:
    admin_url, service_url_, owner, service = roles
    auditor = service.replace("t_app_", "t_aud_")
    store = EventStore(pool := await create_pool(service_url_, min_size=1, max_size=2))
    try:
        stream = new_stream()
        await settled(store, (await store.append(stream, 0, [pledge("a")]))[-1].position)
    finally:
        await pool.close()
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f"SET ROLE {owner}; CREATE TABLE later_c (x int); RESET ROLE")
    finally:
        await admin.close()
    url = service_url(admin_url, auditor, f"pw-aud-{auditor.removeprefix('t_aud_')}")
    pool = await create_pool(url, min_size=1, max_size=2)
    try:
        assert (await EventStore(pool).verify(stream)).ok
        for table in ("events", "cycles", "outbox", "people", "schema_migrations", "later_c"):
            await pool.fetch(f"SELECT * FROM {table} LIMIT 1")
        for sql in (
            "INSERT INTO later_c VALUES (1)",
            "UPDATE projection_checkpoints SET position = 0",
            "DELETE FROM outbox",
            "TRUNCATE cycles",
            "UPDATE events SET type = 'x'",
            "CREATE TABLE sneaky (x int)",
            f"SET ROLE {service}",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await pool.execute(sql)
        with pytest.raises(DatabaseError, match="permission denied"):
            await EventStore(pool).append(new_stream(), 0, [pledge()])
    finally:
        await pool.close()


def test_the_password_travels_as_a_scram_verifier() -> None:
    v = scram_verifier("secret", salt=b"0123456789abcdef")
    assert v.startswith("SCRAM-SHA-256$4096:") and "secret" not in v
    assert v == scram_verifier("secret", salt=b"0123456789abcdef")
