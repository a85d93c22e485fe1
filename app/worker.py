"""The worker: runs EmulationCycle and its activities on the task queue."""

from __future__ import annotations

import asyncio

from temporalio.client import Client
from temporalio.worker import Worker

from activities.cycle import CycleActivities
from eventstore import EventStore
from eventstore.outbox import Outbox
from workflows.cycle import EmulationCycle

__all__ = ["build_worker", "main"]


def build_worker(client: Client, task_queue: str, store: EventStore, outbox: Outbox) -> Worker:
    acts = CycleActivities(store, outbox)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[EmulationCycle],
        activities=acts.all,
    )


async def serve() -> None:
    """Run a worker against the configured (or embedded) stack until interrupted."""
    import structlog

    from .devstack import Stack
    from .logging import configure_logging
    from .settings import Settings

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    async with Stack(settings) as stack:
        worker = build_worker(stack.client, settings.task_queue, stack.store, stack.outbox)
        structlog.get_logger("thidua.worker").info(
            "worker.started", task_queue=settings.task_queue
        )
        await worker.run()


def main() -> None:
    from .process import exit_now

    code = 0
    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        code = 130
    exit_now(code)

if __name__ == "__main__":
    main()
