"""The HTTP API fuzzed from its own OpenAPI document (schemathesis + hypothesis), as a real
server process over a real dev server and PostgreSQL: no request gets a 5xx or a dropped
connection, and no rejected (4xx) request writes an event (the events table is counted before
and after each request)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.testing import WorkflowEnvironment

from app.worker import build_worker
from eventstore import EventStore
from eventstore.outbox import Outbox

pytestmark = [pytest.mark.slow, pytest.mark.temporal]

ROOT = Path(__file__).parents[2]
REFERENCE = ROOT / "app" / "scenarios" / "kg-khoi-2-2018.json"
TOKENS = {"t-admin": "admin", "t-head": "so-ngoai-vu", "t-khdt": "so-khdt", "t-audit": "auditor"}
EXAMPLES = int(os.environ.get("THIDUA_FUZZ_EXAMPLES", "2000"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def queue() -> str:
    return f"fuzz-{os.getpid()}"


@pytest.fixture(scope="module")
async def fuzz_worker(
    env: WorkflowEnvironment, queue: str, store: EventStore, outbox: Outbox
) -> AsyncIterator[None]:
    async with build_worker(env.client, queue, store, outbox):
        yield


@pytest.fixture(scope="module")
def api_url(
    env: WorkflowEnvironment, db_url: str, queue: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = _free_port()
    proc_env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "TASK_QUEUE": queue,
        "THIDUA_API_TOKENS": json.dumps(TOKENS),
        "THIDUA_HOME": str(tmp_path_factory.mktemp("fuzz-home")),
        "LOG_LEVEL": "WARNING",
    }
    log = (tmp_path_factory.mktemp("fuzz-log") / "api.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "api", "--port", str(port)],
        cwd=ROOT,
        env=proc_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{url}/healthz", timeout=1).ok:
                break
        except requests.ConnectionError:
            pass
        assert proc.poll() is None, "the API exited; see its log"
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(20)


async def event_count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM events"))


async def test_fuzzed_requests_get_no_5xx_and_rejected_ones_write_nothing(
    api_url: str, fuzz_worker: None, pool: asyncpg.Pool
) -> None:
    body = json.loads(REFERENCE.read_text("utf-8"))
    start = {k: body[k] for k in ("block", "year", "score_sheet")}
    # the worker of this loop polls once the loop runs: a command before that is 503 no_worker
    deadline = time.monotonic() + 60
    while (
        await asyncio.to_thread(requests.get, f"{api_url}/readyz", timeout=30)
    ).status_code != 200:
        assert time.monotonic() < deadline, "the API never got ready"
        await asyncio.sleep(0.2)
    r = requests.post(
        f"{api_url}/cycles", json=start, headers={"Authorization": "Bearer t-admin"}, timeout=30
    )
    assert r.status_code == 201, r.text
    for _ in range(600):  # the workflow appends its start right after it starts
        if await pool.fetchval("SELECT count(*) FROM events WHERE stream = 'cycle-kg-khoi-2-2018'"):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the started cycle wrote no start event")
    schema = schemathesis.openapi.from_url(f"{api_url}/openapi.json")
    seen: dict[int, int] = {}
    session = requests.Session()
    loop = asyncio.get_running_loop()

    def count() -> int:  # from the fuzzing thread, on the test's own loop and pool
        return asyncio.run_coroutine_threadsafe(event_count(pool), loop).result(60)

    cases = st.one_of(
        schema.as_strategy(
            schemathesis.GenerationMode.POSITIVE,
            path_parameters={"block": "kg-khoi-2", "year": "2018"},
        ),
        schema.as_strategy(schemathesis.GenerationMode.POSITIVE),
        schema.as_strategy(schemathesis.GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=cases, token=st.sampled_from([*TOKENS, "nope"]))
    def fuzz(case: schemathesis.Case, token: str) -> None:
        before = count()
        response = case.call(
            base_url=api_url,
            session=session,
            timeout=60,
            headers={"Authorization": f"Bearer {token}"},
        )
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500, (case.as_curl_command(), response.text[:500])
        if response.status_code >= 400:
            assert count() == before, ("a refused request wrote", case.as_curl_command())
        elif response.status_code == 201 and case.operation.path == "/cycles":
            deadline = time.monotonic() + 30  # a started cycle appends its start right after
            while count() == before:
                assert time.monotonic() < deadline, "a started cycle wrote no start event"
                time.sleep(0.05)

    await asyncio.to_thread(fuzz)
    assert sum(seen.values()) >= EXAMPLES
