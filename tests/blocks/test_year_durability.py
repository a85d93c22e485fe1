"""A worker killed while a province's year is being opened: no cycle is lost, none is started
twice, no start event is written twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from app.blocks import BlockService
from app.client import CycleClient
from app.worker import build_worker
from domain.commands import CancelCycle
from domain.values import Actor
from eventstore import EventStore
from eventstore.outbox import Outbox
from tests.workflows.helpers import reference
from workflows.messages import cycle_key

from .helpers import block_object

pytestmark = pytest.mark.temporal

ROOT = Path(__file__).parents[2]


def worker_process(
    tmp: Path, *, temporal: str, database: str, queue: str, stall: str
) -> subprocess.Popen[bytes]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS", "TASK_QUEUE", "THIDUA_HOME")
    }
    env |= {
        "DATABASE_URL": database,
        "TEMPORAL_ADDRESS": temporal,
        "TASK_QUEUE": queue,
        "THIDUA_HOME": str(tmp / "home"),
        "LOG_FORMAT": "json",
        "STALL_STREAM": stall,
    }
    log = (tmp / "worker.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "tests.blocks.year_worker"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


async def test_a_worker_killed_while_the_year_is_opened_loses_and_duplicates_nothing(
    tmp_path: Path,
    env: WorkflowEnvironment,
    db_url: str,
    store: EventStore,
    outbox: Outbox,
    pool: asyncpg.Pool,
    task_queue: str,
) -> None:
    sc = reference()
    cycles = CycleClient(env.client, task_queue, prefix=f"t{uuid.uuid4().hex[:8]}:")
    blocks = BlockService(store, pool, cycles)
    province = f"Tỉnh Thử {uuid.uuid4().hex[:6]}"
    ids = ["khoi-k1", "khoi-k2", "khoi-k3"]
    for block_id in ids:
        await blocks.register(block_object(block_id, province))

    target = env.client.service_client.config.target_host
    proc = worker_process(
        tmp_path, temporal=target, database=db_url, queue=task_queue, stall="cycle-khoi-k2-2018"
    )
    try:
        handle, _ = await blocks.open_year(
            province,
            2018,
            ruleset=sc.ruleset,
            score_sheet=sc.score_sheet,
            deadlines=sc.deadlines,
        )
        log = tmp_path / "worker.log"
        for _ in range(600):
            if b"stalling" in log.read_bytes():
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(
                "the worker never reached the stalled start:\n" + log.read_text(errors="replace")
            )
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)

    async with build_worker(env.client, task_queue, store, outbox, pool):
        streams = [cycle_key(b, 2018, cycles.prefix)[1] for b in ids]

        async def all_started() -> bool:
            return all([await store.head(s) == 1 for s in streams])

        for _ in range(600):
            if await all_started() and (await blocks.year_progress(province, 2018)).opened:
                break
            await asyncio.sleep(0.1)
        progress = await blocks.year_progress(province, 2018)
        assert progress.cycles == dict.fromkeys(ids, "started")
        for block_id in ids:
            await cycles.send(block_id, 2018, CancelCycle(reason="thử"), Actor.admin())
        result = await asyncio.wait_for(handle.result(), 60)

    assert result.started == ids and result.existing == []
    for s in streams:
        rows = await store.read_stream(s)
        assert [r.type for r in rows] == ["cycle_started", "cycle_cancelled"], s
    assert [b.status for b in result.proposals.blocks] == ["cancelled"] * 3
