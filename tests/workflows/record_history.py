"""Record the Temporal history of scenario cycles into tests/workflows/histories/ (the replay
test runs them through the Replayer: a determinism guard for later changes of the workflow).

    python -m tests.workflows.record_history [SCENARIO.json …]   (default: the reference case)

Runs on a throwaway stack: an embedded PostgreSQL and an in-memory dev server in a temp dir."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from pathlib import Path

from app.bootstrap import bootstrap
from app.client import CycleClient
from app.settings import Settings
from app.worker import build_worker
from eventstore import stop_embedded

from .helpers import HISTORIES, REFERENCE, scenario, send_steps


async def record(paths: list[Path]) -> None:
    home = Path(tempfile.mkdtemp(prefix="thidua-record-"))
    settings = Settings(thidua_home=home, database_url=None, temporal_address=None)
    try:
        async with bootstrap(settings, temporal="run", setup=True) as services:
            assert services.temporal is not None
            for path in paths:
                sc = scenario(path)
                queue = f"record-{uuid.uuid4().hex[:8]}"
                cycles = CycleClient(services.temporal, queue, prefix=f"{path.stem}:")
                async with build_worker(services.temporal, queue, services.store, services.outbox):
                    handle = await cycles.start(sc.start_command(), request_id="start")
                    await send_steps(cycles, sc, sc.steps)
                    await handle.result()
                history = await handle.fetch_history()
                out = HISTORIES / f"{path.stem}.json"
                out.write_text(history.to_json() + "\n", encoding="utf-8")
                print(f"{out}: {len(history.events)} history events")
    finally:
        stop_embedded(home / "postgres")


if __name__ == "__main__":
    asyncio.run(record([Path(p) for p in sys.argv[1:]] or [REFERENCE]))
