"""The cycles read model, followed while cycles are written and rebuilt."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from domain.events import (
    CycleCancelled,
    CycleCompleted,
    Nomination,
    Outcome,
    PledgeClosed,
    ScoringClosed,
)
from domain.values import Actor
from eventstore import EventStore, ProjectionRunner
from readmodels.cycles import CyclesReadModel, list_cycles
from tests.eventstore.conftest import append_events, env, pledge, started

pytestmark = pytest.mark.db

ADMIN = Actor.admin()


def completed() -> CycleCompleted:
    outcome = Outcome(
        ranking=(),
        excluded={},
        next_head="b",
        next_deputy="c",
        nominations=(
            Nomination(
                place=2,
                unit="d",
                title="Bằng khen",
                approvals=3,
                voters=4,
                round=1,
                decided_by="vote",
            ),
            Nomination(
                place=1,
                unit="c",
                title="Cờ thi đua",
                approvals=4,
                voters=4,
                round=1,
                decided_by="vote",
            ),
        ),
    )
    return CycleCompleted(**env(), outcome=outcome)


async def snapshot(pool: asyncpg.Pool) -> list[dict[str, object]]:
    rows = await pool.fetch("SELECT * FROM cycles ORDER BY stream")
    return [dict(r) for r in rows]


async def test_the_projection_follows_the_cycles_and_a_rebuild_equals_it(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    projector = ProjectionRunner(pool, [CyclesReadModel()], batch=7)
    one, two, three = "k1", "k2", "k3"
    stop = asyncio.Event()

    async def follow() -> None:
        while not stop.is_set():
            await projector.run_once()
            await asyncio.sleep(0.005)

    follower = asyncio.create_task(follow())
    await asyncio.gather(
        append_events(
            store,
            f"cycle-{one}-2025",
            [
                started(one, 2025),
                PledgeClosed(**env(), reason="all_signed"),
                ScoringClosed(**env(), reason="closed_by_head"),
                completed(),
            ],
        ),
        append_events(
            store,
            f"cycle-{two}-2025",
            [
                started(two, 2025),
                CycleCancelled(**env(), reason="merged", stage="pledge"),
            ],
        ),
        append_events(store, f"cycle-{three}-2026", [started(three, 2026)]),
    )
    await store.append(f"cycle-{three}-2026", 1, [pledge("a"), pledge("b")])
    stop.set()
    await follower
    await projector.catch_up()
    live = await snapshot(pool)

    by_stream = {r["stream"]: r for r in live}
    k1 = by_stream["cycle-k1-2025"]
    assert (k1["block_id"], k1["year"], k1["stage"]) == ("k1", 2025, "completed")
    assert (k1["head"], k1["deputy"], k1["leading_unit"], k1["version"]) == ("a", "b", "c", 4)
    assert (k1["next_head"], k1["next_deputy"], k1["members"]) == ("b", "c", 4)
    assert (k1["block_name"], k1["province"]) == ("Khối các sở tổng hợp", "Hà Tĩnh")
    assert by_stream["cycle-k2-2025"]["stage"] == "cancelled"
    k3 = by_stream["cycle-k3-2026"]
    assert (k3["stage"], k3["head"], k3["deputy"], k3["version"]) == ("pledge", "a", "b", 3)

    await projector.rebuild()
    assert await snapshot(pool) == live
    assert await projector.checkpoint("cycles") == max(r["position"] for r in live)
    listed = await list_cycles(pool, year=2025, block="k1")
    assert [(c.stream, c.stage, c.leading_unit) for c in listed] == [
        ("cycle-k1-2025", "completed", "c")
    ]
    assert [c.block_id for c in await list_cycles(pool, stage="cancelled")] == ["k2"]
