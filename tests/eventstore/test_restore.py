"""A database restored into a new cluster keeps positions ordered: new events land above the
restored ones once migrate() has run (`thidua db migrate`, and `thidua db restore` itself).
A restore that fails stops at the first error and names its step (the full backup and restore
of a province's year: tests/blocks/test_backup_restore.py)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from app.backup import BackupFailed, backup, restore
from app.settings import Settings
from eventstore import EventStore, create_pool, migrate, start_embedded, stop_embedded
from eventstore.bodies import body_check_in_place
from tests.pg import fresh_database, with_database

from .conftest import new_stream, pledge, settled

pytestmark = pytest.mark.db


async def test_after_a_restore_new_positions_lie_above_restored_ones(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    # Rows restored from an old cluster carry its (higher) transaction ids in their positions.
    xid = int(await pool.fetchval("SELECT pg_current_xact_id()::text::bigint"))
    restored = (xid + 50_000_000) << 20
    await pool.execute(
        """INSERT INTO events (position, stream, version, event_id, type, schema_version, data,
                               actor, effective_at, request_id, hash)
           VALUES ($1, $2, 1, gen_random_uuid(), 'pledge_signed', 1, '{"unit": "a"}',
                   '{"kind": "unit", "unit": "a"}', now(), NULL, sha256('x'))""",
        restored,
        new_stream(),
    )
    before = await store.append(new_stream(), 0, [pledge()])
    assert before[0].position < restored  # the hazard: a reader past `restored` would skip it

    async with pool.acquire() as conn:
        await migrate(conn)  # rebases positions
    after = await store.append(new_stream(), 0, [pledge()])
    assert after[0].position > restored
    await settled(store, after[0].position)
    seen = [e.position for e in await store.read_all(restored - 1, limit=10)]
    assert seen[0] == restored and after[0].position in seen

    async with pool.acquire() as conn:
        await migrate(conn)  # running again changes nothing
    again = await store.append(new_stream(), 0, [pledge()])
    assert after[0].position < again[0].position < after[0].position + (1_000 << 20)


@pytest.fixture
def new_home() -> Iterator[Path]:
    # not under pytest's tmp folder: as root, the embedded server (another user) must reach it
    home = Path(tempfile.mkdtemp(prefix="thidua-restore-"))
    try:
        yield home
    finally:
        stop_embedded(home / "postgres")
        shutil.rmtree(home, ignore_errors=True)


async def test_without_0012_pg_restore_fails_loudly_and_leaves_the_target_empty(
    pg_server: str, new_home: Path, tmp_path: Path
) -> None:
    """The bug 0012 fixes, and how a failing restore ends: a database whose functions follow
    the caller's search_path (as before 0012) dumps fine but does not restore; the restore
    names its step and leaves nothing behind (one transaction)."""
    async with fresh_database(pg_server) as url:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("ALTER FUNCTION events_body_agrees RESET search_path")
            store = EventStore(pool := await create_pool(url, min_size=1, max_size=2))
            await store.append(new_stream(), 0, [pledge("a"), pledge("b")])
            await pool.close()
        finally:
            await conn.close()
        dump = tmp_path / "old.dump"
        assert (await backup(Settings(database_url=url, thidua_home=tmp_path), dump)).events == 2

    with pytest.raises(BackupFailed, match=r"pg_restore failed: .*events_hashed_object"):
        await restore(Settings(thidua_home=new_home, database_url=None), dump)
    conn = await asyncpg.connect(await asyncio.to_thread(start_embedded, new_home / "postgres"))
    try:
        assert (
            await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
        )
    finally:
        await conn.close()


async def test_a_restore_into_an_empty_database_url_grants_the_roles(
    pg_server: str, tmp_path: Path
) -> None:
    async with fresh_database(pg_server) as url:
        store = EventStore(pool := await create_pool(url, min_size=1, max_size=2))
        stream = new_stream()
        await store.append(stream, 0, [pledge("a"), pledge("b"), pledge("c")])
        await pool.close()
        dump = tmp_path / "one.dump"
        made = await backup(Settings(database_url=url, thidua_home=tmp_path), dump)
        assert (made.events, made.streams) == (3, 1)

    name = f"thidua_restored_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    target = with_database(pg_server, name)
    try:
        got = await restore(Settings(database_url=target, thidua_home=tmp_path), dump)
        assert (got.events, got.streams, got.note) == (3, 1, None)
        conn = await asyncpg.connect(target)
        try:
            assert await body_check_in_place(conn)
            assert await conn.fetchval(
                "SELECT has_table_privilege('thidua_app', 'events', 'INSERT')"
                " AND NOT has_table_privilege('thidua_app', 'events', 'UPDATE')"
                " AND has_table_privilege('thidua_auditor', 'events', 'SELECT')"
                " AND NOT has_table_privilege('thidua_auditor', 'cycles', 'INSERT')"
            )
            assert (
                await conn.fetchval(
                    "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'events'::regclass"
                )
                == "thidua_owner"
            )
        finally:
            await conn.close()
        pool = await create_pool(target, min_size=1, max_size=2)
        try:
            assert (await EventStore(pool).verify(stream)).ok
            after = await EventStore(pool).append(stream, 3, [pledge("d")])
            assert after[0].version == 4
        finally:
            await pool.close()
        with pytest.raises(BackupFailed, match="checking the target failed"):
            await restore(Settings(database_url=target, thidua_home=tmp_path), dump)
    finally:
        admin = await asyncpg.connect(pg_server)
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


def test_a_pg_dump_of_another_major_version_is_refused_naming_both() -> None:
    from app.backup import _major, _program
    from eventstore.connect import embedded_bin

    with pytest.raises(BackupFailed, match=r"no pg_dump of PostgreSQL 99 .*pg_dump is 1\d"):
        _program("pg_dump", 99)
    assert _program("pg_restore", _major(embedded_bin("pg_restore")) or 0).name == "pg_restore"
