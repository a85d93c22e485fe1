"""The cycle survives its worker being killed and its Temporal dev server being restarted:
no event is lost, none is written twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import orjson
import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from app.audit.reconcile import reconcile
from app.client import CycleClient
from app.devstack import DevServer
from app.worker import build_worker
from eventstore import EventStore
from eventstore.outbox import Outbox
from workflows.cycle import EmulationCycle
from workflows.names import READ_AFTER

from .helpers import check_store, reference, send_steps, stream_of

pytestmark = pytest.mark.temporal

ROOT = Path(__file__).parents[2]


def _worker_process(
    tmp: Path,
    *,
    temporal: str,
    database: str,
    queue: str,
    n: int,  # type: ignore[no-untyped-def]
    module: str = "app worker",
    extra: dict[str, str] | None = None,
):
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
        **(extra or {}),
    }
    log = (tmp / f"worker-{n}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", *module.split()],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


async def test_worker_killed_mid_cycle_and_restarted(
    tmp_path: Path, env: WorkflowEnvironment, db_url: str, store: EventStore, task_queue: str
) -> None:
    sc = reference()
    cycles = CycleClient(env.client, task_queue, prefix=f"t{uuid.uuid4().hex[:8]}:")
    target = env.client.service_client.config.target_host
    procs = [_worker_process(tmp_path, temporal=target, database=db_url, queue=task_queue, n=1)]
    try:
        handle = await cycles.start(sc.start_command(), request_id="start")
        half = len(sc.steps) // 2
        await send_steps(cycles, sc, sc.steps[:half])
        assert await store.head(stream_of(cycles, sc)) > 1

        os.kill(procs[0].pid, signal.SIGKILL)
        assert procs[0].wait(10) == -signal.SIGKILL
        procs.append(
            _worker_process(tmp_path, temporal=target, database=db_url, queue=task_queue, n=2)
        )
        await send_steps(cycles, sc, sc.steps[half:])
        result = await asyncio.wait_for(handle.result(), 30)
        final = await cycles.state(sc.block.id, sc.year)
    finally:
        _stop(procs)
    assert result.stage == "completed" and result.version == 52
    replay = await check_store(store, stream_of(cycles, sc), sc, events=52)
    assert replay.state.model_dump() == final.model_dump()


async def test_dev_server_restarted_on_its_sqlite_file(
    tmp_path: Path, store: EventStore, outbox: Outbox, task_queue: str
) -> None:
    sc = reference()
    db_file = tmp_path / "temporal.db"
    half = len(sc.steps) // 2
    server = DevServer(db_file=db_file, log_file=tmp_path / "temporal.log")
    try:
        client = await server.start()
        cycles = CycleClient(client, task_queue, prefix=f"t{uuid.uuid4().hex[:8]}:")
        async with build_worker(client, task_queue, store, outbox):
            await cycles.start(sc.start_command(), request_id="start")
            await send_steps(cycles, sc, sc.steps[:half])
    finally:
        server.stop()
    stream = stream_of(cycles, sc)
    written = await store.head(stream)
    assert written > 1

    again = DevServer(db_file=db_file, log_file=tmp_path / "temporal.log")
    try:
        client = await again.start()
        cycles = CycleClient(client, task_queue, prefix=cycles.prefix)
        async with build_worker(client, task_queue, store, outbox):
            assert (await cycles.state(sc.block.id, sc.year)).version == written
            await send_steps(cycles, sc, sc.steps[half:])
            result = await asyncio.wait_for(cycles.handle(sc.block.id, sc.year).result(), 30)
    finally:
        again.stop()
    assert result.stage == "completed" and result.version == 52
    await check_store(store, stream, sc, events=52)


async def test_worker_killed_between_an_append_commit_and_its_report(
    tmp_path: Path, env: WorkflowEnvironment, db_url: str, store: EventStore, task_queue: str
) -> None:
    """SIGKILL lands after a (local) append committed and before its workflow task completed: the
    next worker decides the step again (at another time: other content under the same event
    ids), meets the stored events, adopts them and lands nothing twice."""
    sc = reference()
    cycles = CycleClient(env.client, task_queue, prefix=f"t{uuid.uuid4().hex[:8]}:")
    stream = stream_of(cycles, sc)
    target = env.client.service_client.config.target_host
    stall = 13  # the version steps[10] writes (start 1, eight pledges + the close 2–10, two scores)
    procs = [
        _worker_process(
            tmp_path,
            temporal=target,
            database=db_url,
            queue=task_queue,
            n=1,
            module="tests.workflows.stalling_worker",
            extra={"STALL_AFTER_VERSION": str(stall)},
        )
    ]
    try:
        handle = await cycles.start(sc.start_command(), request_id="start")
        await send_steps(cycles, sc, sc.steps[:10])
        assert await store.head(stream) == stall - 1
        in_flight = asyncio.create_task(send_steps(cycles, sc, sc.steps[10:11]))
        for _ in range(6000):  # committed; the worker now stalls
            if await store.head(stream) >= stall:
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the stalling worker never committed the append")
        os.kill(procs[0].pid, signal.SIGKILL)
        assert procs[0].wait(10) == -signal.SIGKILL
        assert not in_flight.done()
        procs.append(
            _worker_process(tmp_path, temporal=target, database=db_url, queue=task_queue, n=2)
        )
        await asyncio.wait_for(in_flight, 90)
        await send_steps(cycles, sc, sc.steps[11:])
        result = await asyncio.wait_for(handle.result(), 30)
        history = await handle.fetch_history()
    finally:
        _stop(procs)
    assert result.stage == "completed" and result.version == 52
    await check_store(store, stream, sc, events=52)
    adopted = [
        orjson.loads(m.details["result"].payloads[0].data)
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
        and (m := e.marker_recorded_event_attributes).marker_name == "core_local_activity"
        and orjson.loads(m.details["data"].payloads[0].data)["activity_type"] == READ_AFTER
        and "result" in m.details
    ]
    # the new worker's append met the stalled one's events (decided again at another time):
    # it adopted them as stored, once, and the history witnesses them
    assert [(a["after"], len(a["records"])) for a in adopted] == [(stall - 1, 1)]
    assert (await reconcile(env.client, store, handle.id, stream)).ok
    replayer = Replayer(workflows=[EmulationCycle], data_converter=pydantic_data_converter)
    replay = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert replay.replay_failure is None  # the adoption replays as it ran
