"""A real PostgreSQL for the tests that need one: DATABASE_URL when set, else an embedded server
in a temporary directory; and fresh, migrated databases on it."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from eventstore import migrate

__all__ = ["EmbeddedServer", "embedded_server", "fresh_database", "server_url", "with_database"]


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


class EmbeddedServer:
    """An embedded PostgreSQL started as the application starts it (password authentication,
    socket for its owner only): `get_uri()` is the superuser's URL with its password."""

    def __init__(self, server: Any, url: str) -> None:
        self._server, self._url = server, url
        self.pgdata: Path = server.pgdata

    def get_uri(self) -> str:
        return self._url

    def ensure_postgres_running(self) -> None:
        with self._server._lock:
            self._server.ensure_postgres_running()

    def cleanup(self) -> None:
        self._server.cleanup()


@contextmanager
def embedded_server(prefix: str = "thidua-test-pg-") -> Iterator[EmbeddedServer]:
    """An embedded PostgreSQL (`get_uri()`, `pgdata`, `ensure_postgres_running()`) in a
    temporary directory; deleted afterwards."""
    from eventstore.connect import open_embedded

    pgdata = Path(tempfile.mkdtemp(prefix=prefix)) / "pgdata"
    server = EmbeddedServer(*open_embedded(pgdata, cleanup_mode="delete"))
    try:
        yield server
    finally:
        server.cleanup()


@contextmanager
def server_url() -> Iterator[str]:
    """DATABASE_URL when set, else an embedded server's URL."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    with embedded_server() as server:
        yield server.get_uri()


@asynccontextmanager
async def fresh_database(server: str) -> AsyncIterator[str]:
    """A new, migrated database on `server`, dropped afterwards."""
    name = f"thidua_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(server, name)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    yield url
    # a new connection: the server may have been restarted meanwhile
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()
