"""A `thidua dev up` subprocess on its own THIDUA_HOME, shared by the CLI tests of tests/app
(one per session: tests/app/conftest.py), and `thidua …` run as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from eventstore import stop_embedded

ROOT = Path(__file__).parents[2]
REFERENCE = ROOT / "app" / "scenarios" / "kg-khoi-2-2018.json"
# the console script installed with the project, beside this interpreter
THIDUA = str(Path(sys.executable).parent / "thidua")
_SERVICE_VARS = ("DATABASE_URL", "TEMPORAL_ADDRESS", "TASK_QUEUE", "THIDUA_WORKER_STANDBY")


def user_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a user with this THIDUA_HOME and no service setting of ours."""
    env = {k: v for k, v in os.environ.items() if k not in _SERVICE_VARS}
    env["THIDUA_HOME"] = str(home)
    env.update(extra)
    return env


def thidua(
    home: Path, *args: str, timeout: float = 180, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [THIDUA, *args],
        cwd=ROOT,
        env=user_env(home, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


class DevStack:
    """`thidua dev up --no-api` as a subprocess; its standard error in home/dev-up.log."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.home / "dev-up.log"

    def info(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.home / "dev.json").read_text("utf-8"))
        return data

    def start(self, timeout: float = 240) -> dict[str, Any]:
        with self.log.open("ab") as err:
            self.proc = subprocess.Popen(
                [THIDUA, "dev", "up", "--no-api"],
                cwd=ROOT,
                env=user_env(self.home),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"dev up exited {self.proc.returncode}: "
                    + self.log.read_text(errors="replace")[-2000:]
                )
            if (self.home / "dev.json").exists() and "worker.started" in self.log.read_text(
                errors="replace"
            ):
                return self.info()
            if time.monotonic() > deadline:
                raise AssertionError("dev up not ready: " + self.log.read_text()[-2000:])
            time.sleep(0.3)

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.stop()
        pgdata = self.home / "postgres"
        stop_embedded(pgdata)
