"""A real worker process (cycles and provinces' years) whose store stalls after committing the
start of one chosen cycle, so that a test can kill it while the year is being opened. Run as
`python -m tests.blocks.year_worker` with the worker's settings in the environment and
STALL_STREAM (the suffix of the cycle stream whose first append stalls)."""

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
    def __init__(self, store: EventStore, stream: str) -> None:
        self._store, self._stream = store, stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def append(self, stream: str, expected: int, records: Sequence[EventRecord]) -> Any:
        positions = await self._store.append(stream, expected, records)
        if stream.endswith(self._stream) and expected == 0:
            print(f"committed the start of {stream}; stalling", flush=True)
            await asyncio.sleep(3600)
        return positions


async def main() -> None:
    settings = Settings()
    async with bootstrap(settings, temporal="find") as services:
        store = StallingStore(services.store, os.environ["STALL_STREAM"])
        assert services.temporal is not None
        await build_worker(  # type: ignore[arg-type]
            services.temporal, services.task_queue, store, services.outbox, services.pool
        ).run()


if __name__ == "__main__":
    asyncio.run(main())
