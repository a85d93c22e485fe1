"""The `pending` read model: after every event of the reference cycle, what it lists for each
unit is exactly `domain.pending.pending_actions` of the folded state; a rebuild gives the same
rows; the tasks query reads one index whatever the number of cycles."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from domain.codec import to_record
from domain.fold import fold
from domain.pending import pending_actions
from domain.scenario import load_scenario, run_pure
from eventstore import EventStore, ProjectionRunner
from readmodels.pending import PendingReadModel, pending_for, snapshot

from .conftest import REFERENCE

pytestmark = pytest.mark.db


async def listed(pool: asyncpg.Pool, prefix: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for who in (
        "admin",
        "so-ngoai-vu",
        "so-khdt",
        "so-noi-vu",
        "so-tu-phap",
        "vp-ubnd",
        "vp-hdnd",
        "vp-doan-dbqh",
        "vp-dieu-phoi-ntm",
    ):
        for a in await pending_for(pool, who, prefix=prefix):
            out.setdefault(who, []).append(a.action + (f":{a.subject}" if a.subject else ""))
    return {k: sorted(v) for k, v in out.items()}


async def test_pending_follows_the_reference_cycle_event_by_event(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    scenario = load_scenario(REFERENCE.read_bytes())
    _, log, _ = run_pure(scenario, now=lambda: datetime.now(UTC), ids=uuid.uuid4)
    prefix = f"p{uuid.uuid4().hex[:6]}:"
    stream = f"{prefix}cycle-kg-khoi-2-2018"
    runner = ProjectionRunner(pool, [PendingReadModel()])
    await runner.prepare()
    for i, e in enumerate(log):
        await store.append(stream, i, [to_record(e)])
        await runner.catch_up()
        want = {k: sorted(v) for k, v in pending_actions(fold(log[: i + 1])).items()}
        assert await listed(pool, prefix) == want, (i, e.type)
    state = await snapshot(pool, stream)
    assert state is not None and state.stage == "completed" and state.version == len(log)
    before = await pool.fetch("SELECT * FROM cycle_snapshots WHERE stream = $1", stream)
    await runner.rebuild("pending")
    assert await pool.fetch("SELECT * FROM cycle_snapshots WHERE stream = $1", stream) == before


async def test_the_tasks_query_uses_the_index(pool: asyncpg.Pool) -> None:
    await ProjectionRunner(pool, [PendingReadModel()]).prepare()
    async with pool.acquire() as conn:
        await conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in await conn.fetch(
                "EXPLAIN SELECT * FROM pending_actions WHERE who = 'so-khdt'"
                " ORDER BY deadline NULLS LAST LIMIT 500"
            )
        )
    assert "pending_actions_who" in plan
