"""Record the Temporal histories of the blocks' workflows into tests/blocks/histories/ (the
replay test runs them through the Replayer: a determinism guard for later changes):

  rotation   the reference cycle of a registered block: it ends with the rotation's step
  year       a province's year of two blocks: one cycle completes, one is cancelled

    python -m tests.blocks.record_history

Runs on a throwaway stack: an embedded PostgreSQL and an in-memory dev server in a temp dir."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path

from app.blocks import BlockService
from app.bootstrap import bootstrap
from app.client import CycleClient
from app.settings import Settings
from app.worker import build_worker
from domain.commands import CancelCycle
from domain.values import Actor
from eventstore import stop_embedded
from tests.workflows.helpers import reference

from .helpers import block_object, run_reference_steps

HISTORIES = Path(__file__).parent / "histories"


async def record() -> None:
    home = Path(tempfile.mkdtemp(prefix="thidua-record-"))
    settings = Settings(thidua_home=home, database_url=None, temporal_address=None)
    sc = reference()
    try:
        async with bootstrap(settings, temporal="run", setup=True) as services:
            assert services.temporal is not None
            queue = f"record-{uuid.uuid4().hex[:8]}"
            cycles = CycleClient(services.temporal, queue, prefix="record:")
            blocks = BlockService(services.store, services.pool, cycles)
            async with build_worker(
                services.temporal, queue, services.store, services.outbox, services.pool
            ):
                await blocks.register(sc.block)
                handle = await cycles.start(sc.start_command(), request_id="start")
                await run_reference_steps(cycles, sc.block.id, sc.year)
                await handle.result()
                _write("rotation", await handle.fetch_history())

                for block_id in ("khoi-a", "khoi-b"):
                    await blocks.register(block_object(block_id, "Tỉnh Ghi"))
                year, _ = await blocks.open_year(
                    "Tỉnh Ghi",
                    2018,
                    ruleset=sc.ruleset,
                    score_sheet=sc.score_sheet,
                    deadlines=sc.deadlines,
                )
                while not (await _opened(blocks)):
                    await asyncio.sleep(0.1)
                await run_reference_steps(cycles, "khoi-a", 2018)
                await cycles.send("khoi-b", 2018, CancelCycle(reason="ghi"), Actor.admin())
                await year.result()
                _write("year", await year.fetch_history())
    finally:
        stop_embedded(home / "postgres")


async def _opened(blocks: BlockService) -> bool:
    try:
        return (await blocks.year_progress("Tỉnh Ghi", 2018)).opened
    except Exception:
        return False


def _write(name: str, history: object) -> None:
    out = HISTORIES / f"{name}.json"
    out.write_text(history.to_json() + "\n", encoding="utf-8")  # type: ignore[attr-defined]
    print(f"{out}: {len(history.events)} history events")  # type: ignore[attr-defined]


if __name__ == "__main__":
    asyncio.run(record())
