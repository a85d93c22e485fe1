"""`/metrics` of the API and of the worker (METRICS_PORT) parse as Prometheus text and hold the
named series; the worker also answers /healthz and /readyz there."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.worker import Worker

from app.bootstrap import Services
from app.http import create_app, static_tokens
from domain.values import Actor
from tests.app.devstack import THIDUA, DevStack, user_env
from tests.app.test_worker import closed_port

pytestmark = pytest.mark.temporal

TOKENS = {"t-khdt": Actor.of_unit("so-khdt")}


def families(text: str) -> dict[str, list[object]]:
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


@pytest.fixture
async def api(services: Services, worker: Worker) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services, authenticate=static_tokens(TOKENS))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://thidua"
    ) as client:
        yield client


async def test_api_metrics_count_requests_by_route_template(api: httpx.AsyncClient) -> None:
    r = await api.get("/cycles/kg-khoi-2/2018/state", headers={"Authorization": "Bearer t-khdt"})
    assert r.status_code == 404  # no such cycle here: counted under its template all the same
    r = await api.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    found = families(r.text)
    assert "thidua_http_requests" in found and "thidua_http_request_duration_seconds" in found
    routes = {
        (s.labels["route"], s.labels["status"])  # type: ignore[attr-defined]
        for s in found["thidua_http_requests"]
    }
    assert ("/cycles/{block}/{year}/state", "404") in routes
    assert not any("kg-khoi-2" in route for route, _ in routes)  # templates, never paths
    buckets = [
        s for s in found["thidua_http_request_duration_seconds"] if s.name.endswith("_bucket")
    ]  # type: ignore[attr-defined]
    assert buckets


async def test_the_answer_carries_the_callers_request_id(api: httpx.AsyncClient) -> None:
    r = await api.get("/healthz", headers={"X-Request-ID": "req-abc.123"})
    assert r.headers["x-request-id"] == "req-abc.123"
    r = await api.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert r.headers["x-request-id"] != "bad id\twith spaces" and r.headers["x-request-id"]


def test_worker_serves_metrics_health_and_readiness(stack: DevStack, tmp_path: Path) -> None:
    info = stack.info()
    port = closed_port()
    proc = subprocess.Popen(
        [THIDUA, "worker"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=user_env(
            tmp_path,
            TEMPORAL_ADDRESS=info["temporal_address"],
            DATABASE_URL=info["database_url"],
            TASK_QUEUE=f"tq-{uuid.uuid4().hex}",
            METRICS_PORT=str(port),
            METRICS_HOST="127.0.0.1",
        ),
    )
    try:
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if "worker.started" in line:
                break
        else:
            raise AssertionError("".join(seen))
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/healthz").status_code == 200

        deadline = time.monotonic() + 60  # its own pollers show up at their first poll
        while (r := httpx.get(f"{base}/readyz", timeout=10)).status_code != 200:
            assert time.monotonic() < deadline, r.text
            assert r.json()["code"] == "no_worker", r.text
            time.sleep(0.2)
        assert {c["name"] for c in r.json()["checks"]} == {"postgres", "temporal", "worker"}
        text = httpx.get(f"{base}/metrics", timeout=10).text
        found = families(text)
        for name in (
            "thidua_cycles",
            "thidua_pending_tasks",
            "thidua_outbox_backlog",
            "thidua_readmodel_lag_events",
            "thidua_readmodel_lag_seconds",
            "thidua_activities",
            "thidua_activity_failures",
        ):
            assert name in found, sorted(found)
        assert any(n.startswith("temporal_") for n in found), sorted(found)  # the SDK's own
        stages = {s.labels["stage"] for s in found["thidua_cycles"]}  # type: ignore[attr-defined]
        assert {"pledge", "completed"} <= stages
    finally:
        proc.terminate()
        proc.wait(60)
