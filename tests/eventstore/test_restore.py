"""A database restored into a new cluster keeps positions ordered: new events land above the
restored ones once migrate() has run (as every worker does at start-up)."""

from __future__ import annotations

import asyncpg
import pytest

from eventstore import EventStore, migrate

from .conftest import new_stream, pledge, settled

pytestmark = pytest.mark.db


async def test_after_a_restore_new_positions_lie_above_restored_ones(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    # Rows restored from an old cluster carry its (higher) transaction ids in their positions.
    xid = int(await pool.fetchval("SELECT pg_current_xact_id()::text::bigint"))
    restored = (xid + 50_000_000) << 20
    await pool.execute(
        """INSERT INTO events (position, stream, version, event_id, type, schema_version, data,
                               actor, effective_at, request_id, hash)
           VALUES ($1, $2, 1, gen_random_uuid(), 'pledge_signed', 1, '{"unit": "a"}',
                   '{"kind": "unit", "unit": "a"}', now(), NULL, sha256('x'))""",
        restored, new_stream(),
    )
    before = await store.append(new_stream(), 0, [pledge()])
    assert before[0].position < restored  # the hazard: a reader past `restored` would skip it

    async with pool.acquire() as conn:
        await migrate(conn)  # rebases positions
    after = await store.append(new_stream(), 0, [pledge()])
    assert after[0].position > restored
    await settled(store, after[0].position)
    seen = [e.position for e in await store.read_all(restored - 1, limit=10)]
    assert seen[0] == restored and after[0].position in seen

    async with pool.acquire() as conn:
        await migrate(conn)  # running again changes nothing
    again = await store.append(new_stream(), 0, [pledge()])
    assert after[0].position < again[0].position < after[0].position + (1_000 << 20)
