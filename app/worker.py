"""The worker: runs EmulationCycle and its activities on the task queue, and keeps the read
models current."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from datetime import timedelta

import asyncpg
import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.block import BlockActivities
from activities.cycle import CycleActivities
from eventstore import EventStore
from eventstore.outbox import Outbox
from eventstore.projection import ProjectionRunner
from workflows.cycle import EmulationCycle
from workflows.year import ProvinceYear

from .discovery import NO_TEMPORAL, STANDBY_ENV, ServiceNotFound, find_dev
from .logcontext import LogContextInterceptor
from .settings import Settings
from .witness import follow_witness

__all__ = ["GRACE", "STANDBY_ENV", "STICKY_TIMEOUT", "build_worker", "serve"]

log = structlog.get_logger("thidua.worker")

GRACE = timedelta(seconds=20)
"""On SIGTERM, in-flight activities get this long to finish before they are cancelled."""

STICKY_TIMEOUT = timedelta(seconds=2)
"""How long the server waits for this worker to take a cycle's next task from its sticky queue
before giving the task to any worker: after a worker dies, the next update of its cycles waits
about this long (Temporal's default is 10 s)."""


def build_worker(
    client: Client,
    task_queue: str,
    store: EventStore,
    outbox: Outbox,
    pool: asyncpg.Pool | None = None,
) -> Worker:
    """Cycles with their activities and the block rotation; with `pool`, provinces' years too."""
    acts = CycleActivities(store, outbox)
    workflows: list[type] = [EmulationCycle]
    activities = [*acts.all, BlockActivities(store).set_block_leaders]
    if pool is not None:
        from .blocks import year_activities

        workflows.append(ProvinceYear)
        activities += year_activities(store, pool)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=workflows,
        activities=activities,
        graceful_shutdown_timeout=GRACE,
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
        interceptors=[LogContextInterceptor()],
    )


async def follow(runner: ProjectionRunner, stop: asyncio.Event, interval: float = 0.5) -> None:
    """Keep the read models current until `stop` is set; a failing batch is logged and tried
    again (the read models are behind, never wrong)."""
    await runner.prepare()
    while not stop.is_set():
        try:
            await runner.catch_up(wait=0)
        except Exception as exc:  # the database went away: say so, wait, go on
            log.warning("readmodels.behind", error=str(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


async def serve(settings: Settings) -> int:
    """Run a worker (and the read models) on the found stack until SIGTERM or SIGINT; then
    stop polling, let in-flight activities finish (GRACE) and exit 0. As `thidua dev up`'s
    spare (STANDBY_ENV), first wait, ready, for a line on standard input."""
    from eventstore.migrate import check_migrated

    from .bootstrap import bootstrap

    if not settings.temporal_address and find_dev(settings) is None:
        raise ServiceNotFound(NO_TEMPORAL)  # before PostgreSQL is looked for or started
    from .tracing import setup_tracing

    setup_tracing(settings.otel_exporter_otlp_endpoint, "thidua-worker")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runtime = sdk_url = None
    if settings.metrics_port is not None:
        from .workerops import metrics_runtime

        runtime, sdk_url = metrics_runtime()
    async with contextlib.AsyncExitStack() as stack:
        services = await stack.enter_async_context(
            bootstrap(settings, temporal="find", runtime=runtime)
        )
        assert services.temporal is not None
        # the service role may not create anything: `thidua db migrate` runs as the owner
        await check_migrated(services.pool)
        worker = build_worker(
            services.temporal,
            services.task_queue,
            services.store,
            services.outbox,
            services.pool,
        )
        if settings.metrics_port is not None:
            from .health import Health
            from .metrics import StoreGauges
            from .workerops import ops_app, serve_ops

            health = Health(services.pool, services.temporal, services.task_queue)
            app = ops_app(health, StoreGauges(services.pool), sdk_url)
            await stack.enter_async_context(
                serve_ops(app, settings.metrics_host, settings.metrics_port)
            )
        if os.environ.get(STANDBY_ENV) == "1":
            log.info("worker.standby", task_queue=services.task_queue)
            if not await _promoted(stop):
                log.info("worker.stopped")
                return 0
        readmodels = asyncio.create_task(follow(services.readmodels, stop))
        # the witness: signed checkpoints outside the database, off the append path
        witnessing = asyncio.create_task(follow_witness(services.store, settings, stop))
        # notifications: the outbox by e-mail, when SMTP_HOST is set
        from .notify import deliverer_of, follow_outbox

        deliverer = deliverer_of(settings, services.pool)
        delivering = (
            asyncio.create_task(follow_outbox(deliverer, stop, settings.smtp_poll_seconds))
            if deliverer is not None
            else None
        )
        if deliverer is None:
            log.info("notify.off", reason="SMTP_HOST unset")
        running = asyncio.create_task(worker.run())
        log.info("worker.started", task_queue=services.task_queue)
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait([running, stopping], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not running.done():
            log.info("worker.stopping", grace_s=GRACE.total_seconds())
            await worker.shutdown()
        stop.set()
        await readmodels
        await witnessing
        if delivering is not None:
            await delivering
        await running
        log.info("worker.stopped")
    return 0


async def _promoted(stop: asyncio.Event) -> bool:
    """As a spare: True once a line arrives on standard input; False when it is closed or the
    process is asked to stop."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    line = asyncio.create_task(reader.readline())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait([line, stopping], return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not line.done():
        line.cancel()
        return False
    return bool(line.result()) and not stop.is_set()
