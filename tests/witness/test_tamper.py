"""Witnessed history against an insider with the database superuser (real PostgreSQL, real
Temporal): after the witness signed a checkpoint, cut the last 1 and the last 3 events, rewrite
an event and re-chain every later hash, forge a well-chained append as an application role,
drop a stream with its read-model rows, and rewrite after the cycle's Temporal history is gone.
`thidua audit verify --all` exits 1 naming each of those cycles; an untouched cycle beside them
stays clean."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import orjson
import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from app.client import CycleClient
from app.settings import Settings
from app.witness import Witness
from domain.codec import canonical_json
from domain.commands import SignPledge
from domain.values import Actor
from eventstore import EventStore, chain_hash
from tests.eventstore.conftest import pledge
from tests.eventstore.test_integrity import _SingleConnection
from tests.workflows.helpers import eventually, reference, stream_of
from workflows.messages import cycle_key

pytestmark = pytest.mark.temporal

ROOT = Path(__file__).parents[2]
THIDUA = [str(Path(sys.executable).parent / "thidua")]
GUARD = "events_no_update_delete"


def thidua(home: Path, *args: str, **env_vars: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")}
    env.update(THIDUA_HOME=str(home), **env_vars)
    return subprocess.run(
        [*THIDUA, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


async def _cycle(env: WorkflowEnvironment, task_queue: str, store: EventStore) -> tuple[str, str]:
    """A reference cycle of its own (prefix) with three signed pledges: (workflow id, stream),
    4 events, the workflow terminated (nothing more is appended)."""
    cycles = CycleClient(env.client, task_queue, prefix=f"w{uuid.uuid4().hex[:8]}:")
    sc = reference()
    await cycles.start(sc.start_command())
    stream = stream_of(cycles, sc)

    async def started() -> None:
        assert await store.head(stream) == 1

    await eventually(started)
    for n, unit in enumerate([m.id for m in sc.block.members][:3]):
        await cycles.send(
            sc.block.id,
            sc.year,
            SignPledge(unit=unit),
            Actor.of_unit(unit),
            request_id=f"pledge-{n}",
        )
    wid = cycle_key(sc.block.id, sc.year, cycles.prefix)[0]
    await env.client.get_workflow_handle(wid).terminate("test over")
    assert await store.head(stream) == 4
    return wid, stream


async def _superuser(pool: asyncpg.Pool, *statements: tuple[str, tuple[object, ...]]) -> None:
    """What a superuser can do: switch the guard off, change history, switch it on."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"ALTER TABLE events DISABLE TRIGGER {GUARD}")
        for sql, args in statements:
            await conn.execute(sql, *args)
        await conn.execute(f"ALTER TABLE events ENABLE ALWAYS TRIGGER {GUARD}")


async def _rewrite_and_rechain(store: EventStore, pool: asyncpg.Pool, stream: str) -> None:
    """Change version 2's unit, store its canonical body and recompute every later hash: the
    chain holds."""
    rows = await store.rows(stream)
    statements = []
    prev = bytes(rows[0][2])
    for version, body, _ in rows[1:]:
        obj = orjson.loads(body)
        if version == 2:
            obj["data"]["unit"] = "so-xay-dung"
        new_body = canonical_json(obj)
        prev = chain_hash(prev, new_body)
        statements.append(
            (
                "UPDATE events SET data = $1::jsonb, body = $2, hash = $3"
                " WHERE stream = $4 AND version = $5",
                (orjson.dumps(obj["data"]).decode(), new_body, prev, stream, version),
            )
        )
    await _superuser(pool, *statements)
    assert (await store.verify(stream)).ok  # the chain alone no longer tells


async def _forge(db_url: str, pool: asyncpg.Pool, stream: str) -> None:
    """A well-chained event appended through events_append by a role that may only append."""
    role = f"thidua_forger_{uuid.uuid4().hex[:8]}"
    secret = uuid.uuid4().hex  # the embedded server asks every role for its password (scram)
    await pool.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{secret}'")
    try:
        await pool.execute(
            f"GRANT SELECT, INSERT ON events TO {role};"
            f"GRANT EXECUTE ON FUNCTION events_append TO {role};"
            f"GRANT EXECUTE ON FUNCTION events_body_agrees TO {role};"
            f"GRANT SELECT ON event_position_base TO {role}"
        )
        conn = await asyncpg.connect(db_url, user=role, password=secret)
        try:
            forger = EventStore(_SingleConnection(conn), lanes=0)  # type: ignore[arg-type]
            await forger.append(stream, 4, [pledge("so-xay-dung")])
        finally:
            await conn.close()
    finally:
        await pool.execute(f"DROP OWNED BY {role}; DROP ROLE {role}")
    assert (await store_of(pool).verify(stream)).ok


def store_of(pool: asyncpg.Pool) -> EventStore:
    return EventStore(pool)


async def _delete_history(env: WorkflowEnvironment, wid: str) -> None:
    await env.client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace=env.client.namespace, workflow_execution=WorkflowExecution(workflow_id=wid)
        )
    )

    async def gone() -> None:
        try:
            await env.client.get_workflow_handle(wid).describe()
        except RPCError:
            return
        raise AssertionError(f"Temporal still holds {wid}")

    await eventually(gone, timeout=180)  # the server deletes in the background: slow under load


async def test_verify_all_names_every_tampered_cycle_and_not_the_untouched_one(
    env: WorkflowEnvironment,
    worker: Worker,
    task_queue: str,
    store: EventStore,
    pool: asyncpg.Pool,
    db_url: str,
    tmp_path: Path,
) -> None:
    names = ["cut1", "cut3", "rewrite", "forge", "drop", "rewrite_no_history", "untouched"]
    made = {name: await _cycle(env, task_queue, store) for name in names}
    streams = {name: s for name, (_, s) in made.items()}

    # the worker's witness task, by hand: record every event and sign a checkpoint
    settings = Settings(thidua_home=tmp_path, database_url=db_url)  # type: ignore[arg-type]
    witness = Witness(store, settings)

    async def witnessed() -> None:
        await witness.step()
        held = witness.log.by_stream(len(witness.log.leaves))
        assert all(len(held.get(s, [])) == 4 for s in streams.values())

    await eventually(witnessed)
    assert (tmp_path / "witness.key").stat().st_mode & 0o777 == 0o600
    cli_env = {
        "DATABASE_URL": db_url,
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
    }
    done = thidua(tmp_path, "audit", "checkpoint", "verify", **cli_env)
    assert done.returncode == 0, done.stderr

    s = streams
    await _superuser(pool, ("DELETE FROM events WHERE stream = $1 AND version > 3", (s["cut1"],)))
    await _superuser(pool, ("DELETE FROM events WHERE stream = $1 AND version > 1", (s["cut3"],)))
    await _rewrite_and_rechain(store, pool, s["rewrite"])
    await _forge(db_url, pool, s["forge"])
    await _superuser(pool, ("DELETE FROM events WHERE stream = $1", (s["drop"],)))
    for table in ("cycles", "pending_actions", "cycle_snapshots"):
        await pool.execute(f"DELETE FROM {table} WHERE stream = $1", s["drop"])
    await _delete_history(env, made["rewrite_no_history"][0])
    await _rewrite_and_rechain(store, pool, s["rewrite_no_history"])
    assert (await store.verify(s["cut3"])).ok  # a cut chain still verifies on its own

    done = thidua(tmp_path, "audit", "verify", "--all", **cli_env)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    named = {name: [line for line in lines if s[name] in line] for name in names}
    assert named["untouched"] == [], done.stderr
    for name in names[:-1]:
        assert named[name], f"{name} not named:\n{done.stderr}"
    text = "\n".join(lines)
    assert (
        f"{s['cut1']}: the store ends at version 3, the signed checkpoint holds version 4" in text
    )
    assert f"{s['cut3']}: the store ends at version 1" in text
    assert f"{s['rewrite']}: version 2: the stored hash differs from the signed" in text
    assert f"{s['rewrite_no_history']}: version 2: the stored hash differs" in text
    # ... named by the witness alone: Temporal no longer holds that cycle's history
    assert not any(s["rewrite_no_history"] in line and "Temporal" in line for line in lines)
    assert f"{s['drop']}: the signed checkpoint holds 4 events of it" in text
    # the forged append comes after the checkpoint: Temporal's history names it
    assert f"{s['forge']}: Temporal's history: version 5" in text, text
    # so does the rewrite, version by version, while Temporal holds the history
    assert any(
        s["rewrite"] in line and "Temporal's history" in line and "a rewrite" in line
        for line in lines
    ), text
    assert "Traceback" not in done.stderr
    # without Temporal the forged append (after the checkpoint) goes unnamed: why both witnesses
    done = thidua(tmp_path, "audit", "verify", "--all", "--no-temporal", **cli_env)
    assert done.returncode == 1 and "Temporal" not in done.stderr
    assert s["forge"] not in done.stderr and s["untouched"] not in done.stderr
    assert all(s[name] in done.stderr for name in names if name not in ("forge", "untouched"))
