"""Append-only enforcement, the hash chain, and verification of tampered streams."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import orjson
import pytest

import eventstore
from domain.codec import EventRecord
from eventstore import GENESIS, AppendOnlyViolation, EventStore, canonical_body, chain_hash
from eventstore.bodies import body_check_in_place
from eventstore.errors import translate_errors

from .conftest import new_stream, pledge

pytestmark = pytest.mark.db


async def tamper(pool: asyncpg.Pool, sql: str, *args: object) -> None:
    """What a superuser could do: switch the guard off, change history, switch it on."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE events DISABLE TRIGGER events_no_update_delete")
        await conn.execute(sql, *args)
        await conn.execute("ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_update_delete")


@pytest.mark.parametrize(
    "sql",
    ["UPDATE events SET type = 'x'", "DELETE FROM events", "TRUNCATE events"],
)
async def test_events_cannot_be_changed_or_removed(
    store: EventStore, pool: asyncpg.Pool, sql: str
) -> None:
    await store.append(new_stream(), 0, [pledge()])
    with pytest.raises(AppendOnlyViolation, match="append-only"), translate_errors():
        await pool.execute(sql)


async def test_the_application_role_cannot_change_events_even_with_grants(
    db_url: str, pool: asyncpg.Pool
) -> None:
    role = f"thidua_app_{uuid.uuid4().hex[:8]}"
    password = f"pw-{uuid.uuid4().hex}"  # the embedded server asks for one
    await pool.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    try:
        await pool.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON events TO {role};"
            f"GRANT EXECUTE ON FUNCTION events_append TO {role};"
            f"GRANT SELECT ON event_position_base TO {role}"
        )
        conn = await asyncpg.connect(db_url, user=role, password=password)
        try:
            app_store = EventStore(_SingleConnection(conn))  # type: ignore[arg-type]
            await app_store.append(new_stream(), 0, [pledge()])
            for sql in ("UPDATE events SET type = 'x'", "DELETE FROM events", "TRUNCATE events"):
                with pytest.raises(asyncpg.PostgresError, match="append-only"):
                    await conn.execute(sql)
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("ALTER TABLE events DISABLE TRIGGER events_no_update_delete")
        finally:
            await conn.close()
    finally:
        await pool.execute(f"DROP OWNED BY {role}; DROP ROLE {role}")


class _SingleConnection:
    """Just enough of a pool for EventStore over one connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    def acquire(self) -> _SingleConnection:
        return self

    async def __aenter__(self) -> asyncpg.Connection:
        return self._conn

    async def __aexit__(self, *exc: object) -> None:
        return None

    def __getattr__(self, name: str) -> object:
        return getattr(self._conn, name)


async def test_hashes_can_be_recomputed_offline_from_the_stored_columns(
    store: EventStore,
) -> None:
    stream = new_stream()
    await store.append(stream, 0, [pledge("a"), pledge("b")])
    await store.append(stream, 2, [pledge("c", request_id="r-9")])
    prev = GENESIS
    for e in await store.read_stream(stream):
        body = canonical_body(
            stream=e.stream,
            version=e.version,
            event_id=e.event_id,
            type=e.type,
            schema_version=e.schema_version,
            data=e.data,
            actor=e.actor,
            effective_at=e.effective_at,
            request_id=e.request_id,
        )
        # the recipe by hand, as an auditor without this package would do it
        assert orjson.loads(body)["effective_at"].endswith("+00:00")
        assert e.hash == chain_hash(prev, body)
        prev = e.hash
    report = await store.verify(stream)
    assert report.ok and report.events == 3 and report.head_hash == prev, report


_ADD_CHECK = """ALTER TABLE events ADD CONSTRAINT events_body_matches CHECK (events_body_agrees(
    body, stream, version, event_id, type, schema_version, data, actor, effective_at, request_id))"""
_CHANGE_UNIT = "data = jsonb_set(data, '{unit}', '\"z\"')"
_BODY_FROM_COLUMNS = (
    "convert_to(events_hashed_object(stream, version, event_id, type, schema_version, data,"
    " actor, effective_at, request_id)::text, 'UTF8')"
)


@pytest.mark.parametrize("attack", ["data_and_body", "data_body_null", "data_check_dropped"])
async def test_tampered_data_is_reported_at_that_exact_event(
    store: EventStore, pool: asyncpg.Pool, attack: str
) -> None:
    """A superuser changes an event's data: with a body that matches the new columns (the CHECK
    holds), with the body removed, or with the CHECK dropped and the body left as it was."""
    stream = new_stream()
    await store.append(stream, 0, [pledge(u) for u in "abcde"])
    where = "WHERE stream = $1 AND version = 3"
    sql = {
        "data_and_body": f"UPDATE events SET {_CHANGE_UNIT}, body = NULL {where};"
        f" UPDATE events SET body = {_BODY_FROM_COLUMNS} {where}",
        "data_body_null": f"UPDATE events SET {_CHANGE_UNIT}, body = NULL {where}",
        "data_check_dropped": f"UPDATE events SET {_CHANGE_UNIT} {where}",
    }[attack]
    original = await pool.fetchval(f"SELECT data::text FROM events {where}", stream)
    if attack == "data_check_dropped":
        await pool.execute("ALTER TABLE events DROP CONSTRAINT events_body_matches")
    try:
        await tamper(pool, sql.replace("$1", f"'{stream}'"))
        report = await store.verify(stream)
        assert not report.ok
        assert report.first is not None
        assert (report.first.kind, report.first.version) == ("broken_link", 3), report
        assert [p.version for p in report.problems] == [3]  # each link is checked on its own
    finally:
        if attack == "data_check_dropped":  # put things back for the other tests
            await tamper(pool, f"UPDATE events SET data = $2::jsonb {where}", stream, original)
            await pool.execute(_ADD_CHECK)
            async with pool.acquire() as conn:
                assert await body_check_in_place(conn)


def _function_sql(migration: str, name: str) -> str:
    """The CREATE FUNCTION statement of `name` in `migration`, as CREATE OR REPLACE."""
    text = (Path(eventstore.__file__).parent / "migrations" / migration).read_text("utf-8")
    m = re.search(rf"CREATE FUNCTION {name}\(.*?\$\$;", text, re.S)
    assert m is not None
    return m[0].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


_ALWAYS_TRUE = {
    "events_body_agrees": """CREATE OR REPLACE FUNCTION events_body_agrees(
        p_body bytea, p_stream text, p_version integer, p_event_id uuid, p_type text,
        p_schema_version integer, p_data jsonb, p_actor jsonb, p_effective_at timestamptz,
        p_request_id text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
        BEGIN RETURN true; END $$""",
    "events_hashed_object": """CREATE OR REPLACE FUNCTION events_hashed_object(
        p_stream text, p_version integer, p_event_id uuid, p_type text, p_schema_version integer,
        p_data jsonb, p_actor jsonb, p_effective_at timestamptz, p_request_id text
        ) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
        SELECT convert_from(body, 'UTF8')::jsonb FROM events
         WHERE stream = p_stream AND version = p_version $$""",
}


@pytest.mark.parametrize(
    ("name", "migration"),
    [
        ("events_body_agrees", "0010_body_check_function.sql"),
        ("events_hashed_object", "0008_audit.sql"),
    ],
)
async def test_a_check_function_replaced_to_let_anything_through_is_noticed(
    store: EventStore, pool: asyncpg.Pool, name: str, migration: str
) -> None:
    """A superuser keeps the CHECK but replaces a function it relies on, so that a column can be
    changed alone: the stored bodies are no longer trusted, and the change is found."""
    stream = new_stream()
    await store.append(stream, 0, [pledge(u) for u in "abcd"])
    where = "WHERE stream = $1 AND version = 2"
    original = await pool.fetchval(f"SELECT data::text FROM events {where}", stream)
    async with pool.acquire() as conn:
        assert await body_check_in_place(conn)
    await pool.execute(_ALWAYS_TRUE[name])
    try:
        async with pool.acquire() as conn:
            assert not await body_check_in_place(conn)
        await tamper(pool, f"UPDATE events SET {_CHANGE_UNIT} {where}", stream)
        report = await store.verify(stream)
        assert report.first is not None
        assert (report.first.kind, report.first.version) == ("broken_link", 2), report
    finally:
        await tamper(pool, f"UPDATE events SET data = $2::jsonb {where}", stream, original)
        await pool.execute(_function_sql(migration, name))
    async with pool.acquire() as conn:
        assert await body_check_in_place(conn)
    assert (await store.verify(stream)).ok


async def test_a_missing_event_is_reported_as_a_version_gap(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    stream = new_stream()
    await store.append(stream, 0, [pledge(u) for u in "abcd"])
    await tamper(pool, "DELETE FROM events WHERE stream = $1 AND version = 2", stream)
    report = await store.verify(stream)
    assert report.first is not None
    assert (report.first.kind, report.first.version) == ("version_gap", 2), report


async def test_an_event_that_no_longer_parses_is_reported_as_unreadable(
    store: EventStore,
) -> None:
    stream = new_stream()
    good = pledge("a")
    bad = EventRecord(
        event_id=uuid.uuid4(),
        type="pledge_signed",
        data={"type": "pledge_signed"},
        actor={"kind": "unit", "unit": "a"},
        effective_at=datetime.now(UTC),
    )
    await store.append(stream, 0, [good, bad, pledge("c")])
    replay = await store.replay(stream)
    assert replay.report.first is not None
    assert (replay.report.first.kind, replay.report.first.version) == ("unreadable", 2)
    assert "unit" in replay.report.first.detail
    assert len(replay.events) == 1 and replay.state.version == 1
