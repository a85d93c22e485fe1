"""Outages answer promptly with a code: PostgreSQL stopped → /readyz and a command are 503
`store_unavailable`; no worker on the task queue → a command is 503 `no_worker`. After the
service comes back, the same command (same Idempotency-Key) is applied exactly once. Against a
PostgreSQL of the test's own (stopped and started again) and the real Temporal dev server."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from app.bootstrap import Services
from app.client import CycleClient
from app.http import create_app, static_tokens
from app.settings import Settings
from app.worker import build_worker
from domain.scenario import load_scenario
from domain.values import Actor
from eventstore import EventStore, ProjectionRunner, create_pool
from eventstore.connect import start_embedded, stop_embedded
from eventstore.outbox import Outbox
from readmodels import all_read_models
from tests.pg import embedded_server, fresh_database

pytestmark = pytest.mark.temporal

REFERENCE = Path(__file__).parents[2] / "app" / "scenarios" / "kg-khoi-2-2018.json"
TOKENS = {"t-admin": Actor.admin(), "t-khdt": Actor.of_unit("so-khdt")}
BOUND = 10.0  # seconds: the acceptance's bound on an outage's answer
STEP = {"do": "sign_pledge", "unit": "so-khdt"}


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


async def bounded(call: Any) -> httpx.Response:
    async with asyncio.timeout(BOUND):  # a request that hangs fails the test here
        return await call  # type: ignore[no-any-return]


class Stack:
    def __init__(
        self, pgdata: Path, url: str, pool: asyncpg.Pool, services: Services, api: httpx.AsyncClient
    ) -> None:
        self.pgdata, self.url, self.pool, self.services, self.api = (
            pgdata,
            url,
            pool,
            services,
            api,
        )

    async def count(self, stream: str) -> int:
        conn = await asyncpg.connect(self.url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM events WHERE stream = $1", stream))
        finally:
            await conn.close()


@pytest.fixture
async def own_stack(env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Stack]:
    """A PostgreSQL of this test's own, a fresh task queue (no worker yet) and the API."""
    with embedded_server("thidua-outage-pg-") as server:
        async with fresh_database(server.get_uri()) as url:
            pool = await create_pool(url, min_size=1, max_size=10)
            task_queue = f"tq-{uuid.uuid4().hex[:10]}"
            cycles = CycleClient(env.client, task_queue, prefix=f"t{uuid.uuid4().hex[:8]}:")
            services = Services(
                settings=Settings(thidua_home=tmp_path, database_url=url),  # type: ignore[arg-type]
                pool=pool,
                database_url=url,
                store=EventStore(pool),
                outbox=Outbox(pool),
                readmodels=ProjectionRunner(pool, all_read_models()),
                temporal=env.client,
                task_queue=task_queue,
                cycle_client=cycles,
            )
            app = create_app(services, authenticate=static_tokens(TOKENS))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://thidua") as api:
                try:
                    yield Stack(Path(server.pgdata), url, pool, services, api)
                finally:
                    start_embedded(Path(server.pgdata))  # running again for the clean-up
                    await pool.close()


async def start_reference(services: Services) -> None:
    sc = load_scenario(REFERENCE.read_bytes())
    await services.cycles.start(sc.start_command(), Actor.admin())


def stream_name(services: Services) -> str:
    from workflows.messages import cycle_key

    return cycle_key("kg-khoi-2", 2018, services.cycles.prefix)[1]


def path(services: Services) -> str:
    return "/cycles/kg-khoi-2/2018/commands"


async def test_no_worker_is_503_no_worker_then_the_command_lands_once(own_stack: Stack) -> None:
    s = own_stack
    await start_reference(s.services)  # the start is queued: no worker has run it yet
    r = await bounded(s.api.get("/readyz"))
    assert r.status_code == 503 and r.json()["code"] == "no_worker", r.text
    r = await bounded(
        s.api.post(
            path(s.services), json=STEP, headers=auth("t-khdt", **{"Idempotency-Key": "k-nw"})
        )
    )
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "no_worker" and int(r.headers["retry-after"]) > 0
    r = await bounded(s.api.get("/cycles/kg-khoi-2/2018/state", headers=auth("t-khdt")))
    assert r.status_code == 503 and r.json()["code"] == "no_worker", r.text  # a query too
    stream = stream_name(s.services)
    assert await s.count(stream) == 0  # nothing ran: not even the start

    worker = build_worker(
        s.services.temporal,
        s.services.task_queue,  # type: ignore[arg-type]
        s.services.store,
        s.services.outbox,
    )
    async with worker:
        s.api._transport.app.state.health.forget()  # type: ignore[attr-defined]
        r = await s.api.post(
            path(s.services), json=STEP, headers=auth("t-khdt", **{"Idempotency-Key": "k-nw"})
        )
        assert r.status_code == 200, r.text
        assert r.json()["duplicate"] is False
        again = await s.api.post(
            path(s.services), json=STEP, headers=auth("t-khdt", **{"Idempotency-Key": "k-nw"})
        )
        assert again.json()["duplicate"] is True
        assert (await s.api.get("/readyz")).status_code == 200
    assert await s.count(stream) == 2  # cycle_started, pledge_signed: once each


async def test_postgres_stopped_is_503_store_unavailable_then_lands_once(
    own_stack: Stack,
) -> None:
    s = own_stack
    worker = build_worker(
        s.services.temporal,
        s.services.task_queue,  # type: ignore[arg-type]
        s.services.store,
        s.services.outbox,
    )
    async with worker:
        r = await s.api.post("/cycles", json=_start_body(), headers=auth("t-admin"))
        assert r.status_code == 201, r.text
        assert (await s.api.get("/readyz")).status_code == 200

        assert stop_embedded(s.pgdata)  # the fault: PostgreSQL is gone
        with pytest.raises((OSError, asyncpg.PostgresError)):
            await asyncpg.connect(s.url, timeout=5)
        s.api._transport.app.state.health.forget()  # type: ignore[attr-defined]

        r = await bounded(s.api.get("/readyz"))
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "store_unavailable" and "retry-after" in r.headers
        r = await bounded(
            s.api.post(
                path(s.services), json=STEP, headers=auth("t-khdt", **{"Idempotency-Key": "k-pg"})
            )
        )
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "store_unavailable" and "retry-after" in r.headers
        assert r.headers["content-type"].startswith("application/json")
        # people's tokens are looked up in PostgreSQL: the gate itself answers 503, not 500
        people = create_app(s.services)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=people), base_url="http://thidua"
        ) as other:
            r = await bounded(other.get("/cycles", headers=auth("thd_not-a-real-token")))
        assert r.status_code == 503 and r.json()["code"] == "store_unavailable", r.text

        await asyncio.to_thread(start_embedded, s.pgdata)  # back
        s.api._transport.app.state.health.forget()  # type: ignore[attr-defined]
        r = await s.api.post(
            path(s.services), json=STEP, headers=auth("t-khdt", **{"Idempotency-Key": "k-pg"})
        )
        assert r.status_code == 200, r.text
        assert r.json()["duplicate"] is False
    assert await s.count(stream_name(s.services)) == 2


def _start_body() -> dict[str, object]:
    from domain.setup import resolve_ruleset

    sc = json.loads(REFERENCE.read_text("utf-8"))
    return {
        "block": sc["block"],
        "year": sc["year"],
        "score_sheet": sc["score_sheet"],
        "ruleset": resolve_ruleset(sc["ruleset"]).model_dump(mode="json"),
    }


async def test_a_command_unanswered_in_time_is_202_then_applied_once(
    env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    db_url: str,
    tmp_path: Path,
) -> None:
    """The worker polls but cannot finish (its own database is stopped): the command is
    answered 202 after COMMAND_TIMEOUT with where to look and the request id; once the
    database is back, the command lands once and sending it again answers the first result."""
    with embedded_server("thidua-outage-wpg-") as server:
        async with fresh_database(server.get_uri()) as worker_url:
            wpool = await create_pool(worker_url, min_size=1, max_size=5)
            task_queue = f"tq-{uuid.uuid4().hex[:10]}"
            cycles = CycleClient(env.client, task_queue, prefix=f"t{uuid.uuid4().hex[:8]}:")
            services = Services(
                settings=Settings(
                    thidua_home=tmp_path,
                    database_url=db_url,  # type: ignore[arg-type]
                    command_timeout=3,
                ),
                pool=pool,
                database_url=db_url,
                store=EventStore(pool),
                outbox=Outbox(pool),
                readmodels=ProjectionRunner(pool, all_read_models()),
                temporal=env.client,
                task_queue=task_queue,
                cycle_client=cycles,
            )
            app = create_app(services, authenticate=static_tokens(TOKENS))
            pgdata = Path(server.pgdata)
            try:
                async with (
                    build_worker(env.client, task_queue, EventStore(wpool), Outbox(wpool)),
                    httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=app), base_url="http://thidua"
                    ) as api,
                ):
                    r = await api.post("/cycles", json=_start_body(), headers=auth("t-admin"))
                    assert r.status_code == 201, r.text
                    stream = stream_name(services)
                    conn = await asyncpg.connect(worker_url)
                    try:  # the start is in the worker's store before the fault
                        for _ in range(200):
                            if await conn.fetchval(
                                "SELECT count(*) FROM events WHERE stream = $1", stream
                            ):
                                break
                            await asyncio.sleep(0.05)
                    finally:
                        await conn.close()

                    assert stop_embedded(pgdata)  # the fault: the worker's database is gone
                    r = await bounded(
                        api.post(
                            path(services),
                            json=STEP,
                            headers=auth("t-khdt", **{"Idempotency-Key": "k-late"}),
                        )
                    )
                    assert r.status_code == 202, r.text
                    body = r.json()
                    assert body["request_id"] == "k-late"
                    assert (
                        body["location"]
                        == r.headers["location"]
                        == ("/cycles/kg-khoi-2/2018/state")
                    )

                    await asyncio.to_thread(start_embedded, pgdata)  # back
                    for _ in range(20):  # 202 again while the activity's retry is pending
                        again = await api.post(
                            path(services),
                            json=STEP,
                            headers=auth("t-khdt", **{"Idempotency-Key": "k-late"}),
                        )
                        if again.status_code != 202:
                            break
                    assert again.status_code == 200, again.text
                    assert again.json()["duplicate"] is True  # the first send was applied
                conn = await asyncpg.connect(worker_url)
                try:
                    assert (
                        await conn.fetchval("SELECT count(*) FROM events WHERE stream = $1", stream)
                        == 2
                    )
                finally:
                    await conn.close()
            finally:
                start_embedded(pgdata)
                await wpool.close()


async def test_temporal_stopped_is_503_engine_unavailable(
    pool: asyncpg.Pool,
    db_url: str,
    tmp_path: Path,
) -> None:
    """A Temporal server of the test's own, stopped: /readyz and a command answer 503
    `engine_unavailable` within the bound."""
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    from app.devstack import DevServer

    server = DevServer(db_file=None, log_file=tmp_path / "temporal.log")
    await server.start()
    try:
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        task_queue = f"tq-{uuid.uuid4().hex[:10]}"
        services = Services(
            settings=Settings(thidua_home=tmp_path, database_url=db_url),  # type: ignore[arg-type]
            pool=pool,
            database_url=db_url,
            store=EventStore(pool),
            outbox=Outbox(pool),
            readmodels=ProjectionRunner(pool, all_read_models()),
            temporal=client,
            task_queue=task_queue,
            cycle_client=CycleClient(client, task_queue),
        )
        app = create_app(services, authenticate=static_tokens(TOKENS))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://thidua"
        ) as api:
            r = await bounded(api.get("/readyz"))
            assert r.json()["code"] == "no_worker", r.text  # Temporal answers: only no worker
            server.stop(kill=True)  # the fault
            assert server.proc is not None and server.proc.poll() is not None
            r = await bounded(api.get("/readyz"))
            assert r.status_code == 503 and r.json()["code"] == "engine_unavailable", r.text
            app.state.health.forget()
            r = await bounded(api.post(path(services), json=STEP, headers=auth("t-khdt")))
            assert r.status_code == 503 and r.json()["code"] == "engine_unavailable", r.text
            assert "retry-after" in r.headers
    finally:
        server.stop()
