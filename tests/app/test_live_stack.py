"""The whole stack as a user runs it: `thidua dev up` as a subprocess (PostgreSQL, the Temporal
dev server, a worker and the HTTP API, found by the other commands through dev.json), the
reference cycle driven step by step through the HTTP API, then listed by `thidua cycle list
--json` and `GET /cycles?year=2018` from the cycles read model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from domain.scenario import load_scenario
from eventstore import stop_embedded

pytestmark = pytest.mark.temporal

ROOT = Path(__file__).parents[2]
REFERENCE = ROOT / "app" / "scenarios" / "kg-khoi-2-2018.json"
THIDUA = [sys.executable, "-m", "app"]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")}
    return {**env, "THIDUA_HOME": str(home), **extra}


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[Path, str, dict[str, str]]]:
    """A running `thidua dev up` with one bearer token per actor of the reference case."""
    # not under pytest's own tmp folder: as root, the embedded server (another user) must reach it
    home = Path(tempfile.mkdtemp(prefix="thidua-live-home-"))
    sc = json.loads(REFERENCE.read_text("utf-8"))
    tokens = {f"tok-{m['id']}": m["id"] for m in sc["block"]["members"]}
    tokens["tok-admin"] = "admin"
    with socket_port() as port:
        api_port = port
    env = _env(home, THIDUA_API_TOKENS=json.dumps(tokens), LOG_FORMAT="json")
    log = (home / "devup.log").open("w")
    proc = subprocess.Popen(
        [*THIDUA, "dev", "up", "--api-port", str(api_port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{api_port}"
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, (home / "devup.log").read_text()
        try:
            if (home / "dev.json").exists() and requests.get(f"{url}/healthz", timeout=1).ok:
                break
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, (home / "devup.log").read_text()
        time.sleep(0.3)
    try:
        yield home, url, {v: k for k, v in tokens.items()}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        stop_embedded(home / "postgres")


class socket_port:
    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return int(self.sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def test_a_completed_reference_cycle_is_listed_by_the_cli_and_the_api_alike(
    stack: tuple[Path, str, dict[str, str]],
) -> None:
    home, url, token_of = stack
    sc = load_scenario(REFERENCE.read_bytes())
    raw = json.loads(REFERENCE.read_text("utf-8"))
    session = requests.Session()
    start = {k: raw[k] for k in ("block", "year", "score_sheet", "deadlines")}
    r = session.post(
        f"{url}/cycles",
        json=start,
        headers={"Authorization": f"Bearer {token_of['admin']}"},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    for step, body in zip(sc.steps, raw["steps"], strict=True):
        who = body["as"]
        command = {k: v for k, v in body.items() if k not in ("as", "expect_error")}
        r = session.post(
            f"{url}/cycles/kg-khoi-2/2018/commands",
            json=command,
            timeout=60,
            headers={
                "Authorization": f"Bearer {token_of[who]}",
                "Idempotency-Key": f"live-{step.index}",
            },
        )
        assert r.status_code == 200, (step.index, r.text)

    deadline = time.monotonic() + 30
    while True:  # the worker keeps the read model current, a moment behind
        listed = subprocess.run(
            [*THIDUA, "cycle", "list", "--year", "2018", "--json"],
            cwd=ROOT,
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert listed.returncode == 0, listed.stderr
        rows = json.loads(listed.stdout)
        if rows and rows[0]["stage"] == "completed":
            break
        assert time.monotonic() < deadline, rows
        time.sleep(0.5)
    assert [
        (r["block_id"], r["year"], r["stage"], r["next_head"], r["next_deputy"], r["leading_unit"])
        for r in rows
    ] == [("kg-khoi-2", 2018, "completed", "so-khdt", "vp-doan-dbqh", "vp-ubnd")]
    over_http = session.get(
        f"{url}/cycles?year=2018",
        timeout=30,
        headers={"Authorization": f"Bearer {token_of['admin']}"},
    ).json()
    assert over_http == rows

    verified = subprocess.run(
        [*THIDUA, "audit", "verify", "kg-khoi-2", "2018"],
        cwd=ROOT,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stderr
    assert "52 events" in verified.stdout

    # every cycle of the stack: the chains, and each Temporal history against its stream
    for args in (("verify", "--all", "--year", "2018"), ("reconcile", "--all")):
        done = subprocess.run(
            [*THIDUA, "audit", *args],
            cwd=ROOT,
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    assert "1 cycle(s) reconciled, 0 with differences" in done.stdout
