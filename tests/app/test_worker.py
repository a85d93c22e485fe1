"""`thidua worker` as a user runs it (no service → one line, exit 2; SIGTERM → exit 0), and the
structlog context its activities log with."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import structlog
from temporalio.worker import Worker

from app.client import CycleClient
from app.worker import GRACE
from domain.scenario import load_scenario
from eventstore import EventStore
from tests.app.devstack import REFERENCE, THIDUA, DevStack, thidua, user_env

pytestmark = pytest.mark.temporal


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1, stderr
    return errors[0]


def test_worker_without_temporal_says_how_to_start_one(tmp_path: Path) -> None:
    run = thidua(tmp_path, "worker")
    assert run.returncode == 2
    assert "thidua dev up" in one_error_line(run.stderr)
    assert not (tmp_path / "postgres").exists()  # nothing started on the way to that answer


@pytest.mark.parametrize("command", ["worker", "api"])
def test_an_unreachable_temporal_is_one_line_naming_the_address(
    command: str, stack: DevStack, tmp_path: Path
) -> None:
    address = f"127.0.0.1:{closed_port()}"
    run = thidua(
        tmp_path, command, TEMPORAL_ADDRESS=address, DATABASE_URL=stack.info()["database_url"]
    )
    assert run.returncode == 2
    assert address in one_error_line(run.stderr)


def test_worker_with_an_unreachable_postgres_says_so(stack: DevStack, tmp_path: Path) -> None:
    run = thidua(
        tmp_path,
        "worker",
        TEMPORAL_ADDRESS=stack.info()["temporal_address"],
        DATABASE_URL=f"postgresql://thidua:s3cret-pw@127.0.0.1:{closed_port()}/x",
    )
    assert run.returncode == 2
    line = one_error_line(run.stderr)
    assert "PostgreSQL" in line
    assert "s3cret-pw" not in run.stderr


def test_a_stale_dev_json_is_named_and_ignored(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()  # its pid runs no more
    (tmp_path / "dev.json").write_text(
        json.dumps(
            {
                "pid": gone.pid,
                "temporal_address": f"127.0.0.1:{closed_port()}",
                "namespace": "default",
                "task_queue": "q",
            }
        ),
        "utf-8",
    )
    run = thidua(tmp_path, "worker")
    assert run.returncode == 2
    assert "dev.json.stale" in run.stderr and str(tmp_path / "dev.json") in run.stderr
    assert "thidua dev up" in one_error_line(run.stderr)


def test_worker_stops_on_sigterm_with_exit_0(stack: DevStack, tmp_path: Path) -> None:
    info = stack.info()
    proc = subprocess.Popen(
        [THIDUA, "worker"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=user_env(
            tmp_path,
            TEMPORAL_ADDRESS=info["temporal_address"],
            DATABASE_URL=info["database_url"],
            TASK_QUEUE=f"tq-{uuid.uuid4().hex}",
        ),
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "worker.started" in line:
            break
    else:
        raise AssertionError("".join(seen))
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(GRACE.total_seconds() + 30)
    rest = proc.stderr.read()
    assert code == 0, rest
    assert "worker.stopped" in rest and "Traceback" not in rest


async def test_activity_log_lines_carry_the_cycle_and_workflow(
    worker: Worker,
    cycles: CycleClient,
    store: EventStore,
) -> None:
    seen: list[dict[str, Any]] = []

    def keep(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
        seen.append(dict(event))
        raise structlog.DropEvent

    old = structlog.get_config()
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, keep], cache_logger_on_first_use=False
    )
    try:
        sc = load_scenario(REFERENCE.read_bytes())
        handle = await cycles.start(sc.start_command())
        step = sc.steps[0]
        await cycles.send(sc.block.id, sc.year, step.command, step.actor)
    finally:
        structlog.configure(**old)
    done = [e for e in seen if e["event"] == "activity.done" and e["activity"] == "append"]
    assert len(done) == 2, seen
    assert {e["workflow_id"] for e in done} == {handle.id}
    assert {e["cycle_id"] for e in done} == {f"{sc.block.id}/{sc.year}"}
    assert [e["actor"] for e in done] == ["admin", f"unit:{step.command.unit}"]  # type: ignore[union-attr]
    assert all(e["stream"].endswith(f"cycle-{sc.block.id}-{sc.year}") for e in done)


async def test_the_callers_request_id_reaches_the_activities_and_only_its_own(
    worker: Worker,
    env: Any,
    task_queue: str,
    store: EventStore,
) -> None:
    """Two cycles' commands, each under its own request id (as the HTTP layer binds it): every
    append's line carries the id of the command that caused it and names only its own cycle,
    and nothing of an activity's context stays bound afterwards."""
    import asyncio

    from temporalio.client import Client

    from app.logcontext import RequestIdClient

    client = Client(**{**env.client.config(), "interceptors": [RequestIdClient()]})
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    cycles = CycleClient(client, task_queue, prefix=prefix)
    seen: list[dict[str, Any]] = []

    def keep(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
        seen.append(dict(event))
        raise structlog.DropEvent

    sc = load_scenario(REFERENCE.read_bytes())
    first = sc.start_command()
    other = first.model_copy(update={"block": first.block.model_copy(update={"id": "kg-khoi-9"})})
    old = structlog.get_config()
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, keep], cache_logger_on_first_use=False
    )
    try:

        async def run(start: Any, rid: str) -> None:
            with structlog.contextvars.bound_contextvars(request_id=rid):
                await cycles.start(start)
                step = sc.steps[0]
                await cycles.send(start.block.id, start.year, step.command, step.actor)

        await asyncio.gather(run(first, "rid-a"), run(other, "rid-b"))
        structlog.get_logger("t").info("after")
    finally:
        structlog.configure(**old)
    done = [e for e in seen if e["event"] == "activity.done" and e["activity"] == "append"]
    assert len(done) == 4, seen
    by_rid = {(e["request_id"], e["cycle_id"]) for e in done}
    assert by_rid == {("rid-a", f"{sc.block.id}/{sc.year}"), ("rid-b", f"kg-khoi-9/{sc.year}")}
    after = [e for e in seen if e["event"] == "after"]
    assert after and "cycle_id" not in after[0] and "request_id" not in after[0]


async def test_the_worker_delivers_the_outbox_when_smtp_host_is_set(
    stack: DevStack, tmp_path: Path
) -> None:
    from app.identity import Identity
    from domain.values import Actor
    from eventstore import create_pool
    from tests.notify.smtp import Mailbox, smtp_server
    from tests.workflows.helpers import eventually

    info = stack.info()
    tag = uuid.uuid4().hex[:6]
    unit, stream = f"so-mail-{tag}", f"cycle-mail-{tag}"
    pool = await create_pool(info["database_url"], min_size=1, max_size=2)
    try:
        await Identity(pool, EventStore(pool)).add_person(
            f"mail-{tag}",
            name="Thư",
            role="unit",
            unit=unit,
            email=f"thu@{unit}.gov.vn",
            by=Actor.admin(name="test"),
        )
        await pool.execute(
            "INSERT INTO outbox (dedup_key, cycle_id, stream, kind, recipient, payload, due_at)"
            " VALUES ($1, 'c', $2, 'new_task', $3, $4::jsonb, now())",
            f"{stream}:t",
            stream,
            unit,
            '{"stage": "pledge", "actions": ["sign_pledge"], "deadline": null}',
        )
        box = Mailbox()
        with smtp_server(box) as port:
            proc = subprocess.Popen(
                [THIDUA, "worker"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env=user_env(
                    tmp_path,
                    TEMPORAL_ADDRESS=info["temporal_address"],
                    DATABASE_URL=info["database_url"],
                    SMTP_HOST="127.0.0.1",
                    SMTP_PORT=str(port),
                    SMTP_STARTTLS="false",
                    SMTP_PASSWORD="pw-never-logged",
                    SMTP_POLL_SECONDS="0.2",
                    TASK_QUEUE=f"tq-{uuid.uuid4().hex}",
                ),
            )
            try:

                async def arrived() -> None:
                    assert f"thu@{unit}.gov.vn" in {r for r, _, _ in box.arrived}
                    assert await pool.fetchval(
                        "SELECT sent_at IS NOT NULL FROM outbox WHERE stream = $1", stream
                    )

                await eventually(arrived, timeout=120, interval=0.2)
            finally:
                proc.send_signal(signal.SIGTERM)
                code = proc.wait(GRACE.total_seconds() + 30)
        rest = proc.stderr.read() if proc.stderr else ""
        assert code == 0, rest
        assert "pw-never-logged" not in rest and "Traceback" not in rest
        assert [r for r, _, _ in box.arrived].count(f"thu@{unit}.gov.vn") == 1
    finally:
        await pool.close()
