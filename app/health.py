"""Readiness of a process: does PostgreSQL answer, does Temporal answer, does a worker poll the
task queue. Served as `/healthz` (the process is alive) and `/readyz` (all three) by the API and
by the worker (on METRICS_PORT), and asked (cached a moment) before a command is sent, so that an
outage is a prompt 503 with a code, never a request that hangs:

    store_unavailable    PostgreSQL does not answer within `probe_timeout`
    engine_unavailable   Temporal does not answer within `probe_timeout`
    no_worker            no worker has polled the task queue's workflow tasks lately

A poller is "lately" when the server saw it within `POLLER_FRESH` (a live worker's long poll
returns at least once a minute; the server lists a dead one for a few minutes more).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, GetSystemInfoRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from eventstore.errors import StoreUnavailable

__all__ = [
    "POLLER_FRESH",
    "RETRY_AFTER",
    "Health",
    "Unavailable",
    "outage_of",
]

POLLER_FRESH = 90.0
"""Seconds since the server last saw a poller for it to count as a live worker."""
WORKER_GRACE = 3.0
"""Seconds a command waits for a first poller before it is answered `no_worker`."""
RETRY_AFTER = 5
"""Seconds an outage's answer asks the caller to wait (Retry-After)."""

MESSAGES = {
    "store_unavailable": "the database (PostgreSQL) does not answer; retry later",
    "engine_unavailable": "the workflow engine (Temporal) does not answer; retry later",
    "no_worker": "no worker is running for the cycles; nothing was applied; retry later with "
    "the same Idempotency-Key",
}


class Unavailable(Exception):
    """A service the request needs is down: 503 with `code` and Retry-After."""

    def __init__(
        self, code: str, message: str | None = None, retry_after: int = RETRY_AFTER
    ) -> None:
        self.code, self.retry_after = code, retry_after
        super().__init__(message or MESSAGES.get(code, code))


_STORE_DOWN: tuple[type[BaseException], ...] = (
    StoreUnavailable,
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.InternalClientError,
)
_ENGINE_DOWN = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED)


def outage_of(exc: BaseException) -> Unavailable | None:
    """The outage an exception shows (a database or engine that went away), or None."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, Unavailable):
            return seen
        if isinstance(seen, RPCError):
            return Unavailable("engine_unavailable") if seen.status in _ENGINE_DOWN else None
        if isinstance(seen, _STORE_DOWN):
            return Unavailable("store_unavailable")
        seen = seen.__cause__ or seen.__context__
    return None


@dataclass
class Check:
    name: str
    ok: bool
    code: str | None = None
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class Health:
    """The three probes over one process's pool and Temporal client."""

    def __init__(
        self,
        pool: asyncpg.Pool | None,
        client: Client | None,
        task_queue: str,
        *,
        probe_timeout: float = 3.0,
        cache_seconds: float = 2.0,
    ) -> None:
        self.pool, self.client, self.task_queue = pool, client, task_queue
        self.probe_timeout, self.cache_seconds = probe_timeout, cache_seconds
        self._cached: dict[str, tuple[float, Check]] = {}

    async def store(self) -> Check:
        if self.pool is None:
            return Check("postgres", False, "store_unavailable", "no database configured")
        try:
            async with asyncio.timeout(self.probe_timeout):
                async with self.pool.acquire() as conn:
                    await conn.fetchval("SELECT 1")
        except Exception as exc:
            return Check("postgres", False, "store_unavailable", type(exc).__name__)
        return Check("postgres", True)

    async def engine(self) -> Check:
        if self.client is None:
            return Check("temporal", False, "engine_unavailable", "no Temporal configured")
        try:
            await self.client.workflow_service.get_system_info(
                GetSystemInfoRequest(), timeout=timedelta(seconds=self.probe_timeout)
            )
        except Exception as exc:
            return Check("temporal", False, "engine_unavailable", type(exc).__name__)
        return Check("temporal", True)

    async def worker(self) -> Check:
        """A worker polls the task queue's workflow tasks (Temporal's DescribeTaskQueue)."""
        if self.client is None:
            return Check("worker", False, "engine_unavailable", "no Temporal configured")
        try:
            resp = await self.client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=self.client.namespace,
                    task_queue=TaskQueue(
                        name=self.task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL
                    ),
                    task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                ),
                timeout=timedelta(seconds=self.probe_timeout),
            )
        except Exception as exc:
            return Check("worker", False, "engine_unavailable", type(exc).__name__)
        now = time.time()
        live = [p for p in resp.pollers if now - p.last_access_time.ToSeconds() <= POLLER_FRESH]
        if not live:
            return Check(
                "worker", False, "no_worker", f"no worker polls task queue {self.task_queue}"
            )
        return Check("worker", True, detail=f"{len(live)} poller(s)")

    async def _cached_check(self, name: str) -> Check:
        hit = self._cached.get(name)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self.cache_seconds:
            return hit[1]
        check: Check = await getattr(self, name)()
        self._cached[name] = (now, check)
        return check

    async def ready(self) -> list[Check]:
        """Every probe, at once (each bounded by `probe_timeout`)."""
        return list(await asyncio.gather(self.store(), self.engine(), self.worker()))

    async def gate(self, *names: str) -> None:
        """Raise Unavailable for the first named probe that fails (results cached a moment).
        No poller yet is asked again for up to `WORKER_GRACE` seconds: a worker that has just
        started shows up at its first poll."""
        for name in names or ("store", "worker"):
            check = await self._cached_check(name)
            if name == "worker" and check.code == "no_worker":
                until = time.monotonic() + WORKER_GRACE
                while not check.ok and time.monotonic() < until:
                    await asyncio.sleep(0.2)
                    check = await self.worker()
                self._cached[name] = (time.monotonic(), check)
            if not check.ok:
                assert check.code is not None
                raise Unavailable(check.code)

    def forget(self) -> None:
        self._cached.clear()
