"""Two workers and an API, each a process with explicit addresses, on one task queue; one
worker is killed with SIGKILL while 20 cycles are in flight through the API: every cycle
completes, every stream verifies with each event once (slow tier)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.setup import resolve_ruleset
from domain.values import Actor
from eventstore import EventStore
from tests.app.test_worker import closed_port
from tests.workflows.helpers import REFERENCE, check_store, reference
from workflows.messages import cycle_key

pytestmark = [pytest.mark.temporal, pytest.mark.slow]

ROOT = Path(__file__).parents[2]
CYCLES = 20


def spawn(tmp: Path, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS", "TASK_QUEUE", "THIDUA_HOME")
    }
    log = (tmp / f"{name}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env={**base, **env, "THIDUA_HOME": str(tmp / name)},
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


def token(actor: Actor) -> str:
    return f"t-{actor.unit}" if actor.unit else f"t-{actor.kind}"


async def send(
    api: httpx.AsyncClient, path: str, body: dict[str, Any], tok: str, key: str
) -> httpx.Response:
    """One command, sent again with the same key while the answer is 202, 429 or 503."""
    deadline = time.monotonic() + 180
    while True:
        try:
            r = await api.post(
                path, json=body, headers={"Authorization": f"Bearer {tok}", "Idempotency-Key": key}
            )
        except httpx.TransportError:
            r = None
        if r is not None and r.status_code not in (202, 429, 503):
            return r
        assert time.monotonic() < deadline, (path, key, r and r.text)
        await asyncio.sleep(0.5)


async def test_a_worker_killed_with_20_cycles_in_flight_loses_and_doubles_nothing(
    tmp_path: Path,
    env: WorkflowEnvironment,
    db_url: str,
    store: EventStore,
) -> None:
    sc = reference()
    raw = json.loads(REFERENCE.read_text("utf-8"))
    queue = f"tq-{uuid.uuid4().hex[:10]}"
    units = [m.id for m in sc.block.members]
    tokens = {"t-admin": "admin", "t-auditor": "auditor", **{f"t-{u}": u for u in units}}
    common = {
        "DATABASE_URL": db_url,
        "TASK_QUEUE": queue,
        "LOG_FORMAT": "json",
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
    }
    port = closed_port()
    procs = [spawn(tmp_path, f"worker-{n}", ["worker"], common) for n in (1, 2)]
    procs.append(
        spawn(
            tmp_path,
            "api",
            ["api", "--port", str(port)],
            {**common, "THIDUA_API_TOKENS": json.dumps(tokens)},
        )
    )
    run = uuid.uuid4().hex[:6]
    blocks = [f"f{run}-{i}" for i in range(CYCLES)]
    half = len(sc.steps) // 2
    progress = {b: 0 for b in blocks}
    halfway = asyncio.Event()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as api:
            deadline = time.monotonic() + 120
            while True:  # the API answers and a worker polls
                try:
                    if (await api.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, (tmp_path / "api.log").read_text()[-2000:]
                await asyncio.sleep(0.3)

            async def one_cycle(block: str) -> None:
                start = {
                    "block": {**raw["block"], "id": block},
                    "year": raw["year"],
                    "score_sheet": raw["score_sheet"],
                    "ruleset": resolve_ruleset(raw["ruleset"]).model_dump(mode="json"),
                }
                r = await send(api, "/cycles", start, "t-admin", f"start-{block}")
                assert r.status_code == 201, r.text
                path = f"/cycles/{block}/{raw['year']}/commands"
                for step in sc.steps:
                    body = step.command.model_dump(mode="json")
                    r = await send(api, path, body, token(step.actor), f"s-{step.index}")
                    if step.expect_error is None:
                        assert r.status_code == 200, (block, step.index, r.text)
                    else:
                        assert r.json()["code"] == step.expect_error, (block, step.index, r.text)
                    progress[block] += 1
                    if min(progress.values()) >= half:
                        halfway.set()
                    elif progress[block] == half:
                        await halfway.wait()  # every cycle is in flight when the worker dies

            async def kill_one() -> None:
                await halfway.wait()
                os.kill(procs[0].pid, signal.SIGKILL)  # the fault

            await asyncio.gather(kill_one(), *(one_cycle(b) for b in blocks))
        assert procs[0].wait(10) == -signal.SIGKILL
        assert procs[1].poll() is None  # the other worker took over
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
    for block in blocks:
        _, stream = cycle_key(block, sc.year)
        await check_store(store, stream, sc, events=52)
