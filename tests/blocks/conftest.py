"""Services for the block tests: the shared PostgreSQL and dev server (tests/conftest.py), a
worker with both workflows (cycle and province's year) and every activity, and the service."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from app.blocks import BlockService
from app.client import CycleClient
from app.worker import build_worker
from eventstore import EventStore
from eventstore.outbox import Outbox


@pytest.fixture
async def year_worker(
    env: WorkflowEnvironment,
    task_queue: str,
    store: EventStore,
    outbox: Outbox,
    pool: asyncpg.Pool,
) -> AsyncIterator[Worker]:
    async with build_worker(env.client, task_queue, store, outbox, pool) as w:
        yield w


@pytest.fixture
def blocks(store: EventStore, pool: asyncpg.Pool, cycles: CycleClient) -> BlockService:
    """The service, with the test's own prefix of workflow ids and streams."""
    return BlockService(store, pool, cycles)
