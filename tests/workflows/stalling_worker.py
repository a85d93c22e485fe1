"""A real worker process whose store stalls after committing one chosen append, so that a test
can kill it between the commit and the report of the activity. Run as
`python -m tests.workflows.stalling_worker` with the worker's settings in the environment and
STALL_AFTER_VERSION (the stream version whose append stalls)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import Any

from app.bootstrap import bootstrap
from app.settings import Settings
from app.worker import build_worker
from domain.codec import EventRecord
from eventstore import EventStore


class StallingStore:
    def __init__(self, store: EventStore, version: int) -> None:
        self._store, self._version = store, version

    async def append(self, stream: str, expected: int, records: Sequence[EventRecord]) -> Any:
        positions = await self._store.append(stream, expected, records)
        if expected < self._version <= expected + len(records):
            print(f"committed version {self._version}; stalling", flush=True)
            await asyncio.sleep(3600)
        return positions


async def main() -> None:
    settings = Settings()
    async with bootstrap(settings, temporal="find") as services:
        store = StallingStore(services.store, int(os.environ["STALL_AFTER_VERSION"]))
        assert services.temporal is not None
        await build_worker(  # type: ignore[arg-type]
            services.temporal, services.task_queue, store, services.outbox
        ).run()


if __name__ == "__main__":
    asyncio.run(main())
