"""One rule for finding the services a command talks to.

    1. an explicit setting wins: TEMPORAL_ADDRESS, DATABASE_URL;
    2. otherwise a running `thidua dev up` stack, found through THIDUA_HOME/dev.json and checked
       to be alive (its process runs and its Temporal port answers); a stale dev.json is named
       in a warning and ignored;
    3. otherwise the commands that run a whole job by themselves (`demo`, `scenario run`) start
       an embedded stack for the run, and the others (`worker`, `cycle`, `audit`, `api`) say in
       one line how to start one.

PostgreSQL: DATABASE_URL, else the embedded server under THIDUA_HOME (the one `thidua dev up`
runs too), started when needed — it is where this machine's events live. Its superuser migrates
and makes the roles; everything else connects as the service role, which may only read and
insert events (eventstore/roles.py).
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from .settings import Settings

__all__ = ["STANDBY_ENV", "DevInfo", "ServiceNotFound", "dev_file", "find_dev", "write_dev"]

log = structlog.get_logger("thidua.discovery")


class ServiceNotFound(RuntimeError):
    """No service to talk to; the message says in one line how to get one."""


STANDBY_ENV = "THIDUA_WORKER_STANDBY"
"""Set to 1 by `thidua dev up` for its spare worker: the process imports everything, connects
and builds its worker, then waits for a line on standard input before it polls (standard input
closed: it exits 0). Promoting the spare when the running worker dies saves the seconds a new
Python process needs to start."""

NO_TEMPORAL = (
    "no Temporal to talk to: start the stack with `thidua dev up` (in another terminal) "
    "or set TEMPORAL_ADDRESS"
)


@dataclass(frozen=True)
class DevInfo:
    """What a running `thidua dev up` wrote into THIDUA_HOME/dev.json."""

    pid: int
    temporal_address: str
    namespace: str
    task_queue: str
    database_url: str | None = None
    ui_url: str | None = None
    api_url: str | None = None
    worker_pid: int | None = None
    witness_public_key: str | None = None
    """The public key (base64) that checks the witness's checkpoints (app/witness)."""
    witness_dir: str | None = None
    temporal_pid: int | None = None

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def dev_file(settings: Settings) -> Path:
    return settings.home / "dev.json"


def write_dev(settings: Settings, info: DevInfo) -> None:
    path = dev_file(settings)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    # only for its owner: database_url carries the service role's password
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(info.as_json()))
    tmp.replace(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answers(address: str, timeout: float = 1.0) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def find_dev(settings: Settings) -> DevInfo | None:
    """The running `thidua dev up` stack, or None (a stale dev.json is named and ignored)."""
    path = dev_file(settings)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        info = DevInfo(**raw)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        log.warning("dev.json.unreadable", path=str(path), error=str(exc))
        return None
    if not _alive(info.pid) or not _answers(info.temporal_address):
        log.warning(
            "dev.json.stale",
            path=str(path),
            pid=info.pid,
            temporal=info.temporal_address,
            hint="ignored: the `thidua dev up` that wrote it is not running",
        )
        return None
    return info
