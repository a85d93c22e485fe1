"""The `cycles` read model, projected from the global log with a checkpoint.

Each batch is read gap-safe (read_all's watermark) and applied in the same transaction that
moves the checkpoint, so the read model is always exactly "the events up to the checkpoint".
The read model is not append-only: `rebuild()` empties it and replays from position 0.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from .errors import translate_errors
from .records import Conn
from .store import _READ_ALL

__all__ = ["CyclesProjector"]

_NAME = "cycles"
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('thidua.projection.' || $1))"

_STAGE_AFTER = {
    "pledge_closed": "scoring",
    "scoring_closed": "review",
    "review_held": "discipline",
    "discipline_check_closed": "vote",
    "election_opened": "election",
    "cycle_cancelled": "cancelled",
}

_START = """
INSERT INTO cycles (stream, block_id, year, stage, head, deputy, leading_unit, updated_at,
                    version, position)
VALUES ($1, $2, $3, 'pledge', $4, $5, NULL, $6, $7, $8)
ON CONFLICT (stream) DO UPDATE SET
    block_id = excluded.block_id, year = excluded.year, stage = 'pledge',
    head = excluded.head, deputy = excluded.deputy, leading_unit = NULL,
    updated_at = excluded.updated_at, version = excluded.version, position = excluded.position
"""
_STAGE = """
UPDATE cycles SET stage = $2, updated_at = $3, version = $4, position = $5 WHERE stream = $1
"""
_COMPLETE = """
UPDATE cycles SET stage = 'completed', head = $2, deputy = $3, leading_unit = $4,
                  updated_at = $5, version = $6, position = $7
 WHERE stream = $1
"""
_TOUCH = "UPDATE cycles SET updated_at = $2, version = $3, position = $4 WHERE stream = $1"


class CyclesProjector:
    """Keeps the `cycles` table up to date with the events."""

    def __init__(self, pool: asyncpg.Pool, *, batch: int = 1000) -> None:
        self._pool = pool
        self._batch = batch

    async def run_once(self) -> int:
        """Apply the next batch of events; returns how many were read."""
        with translate_errors():
            async with self._pool.acquire() as conn, conn.transaction():
                return await self._step(conn)

    async def catch_up(self) -> int:
        """Apply batches until no event is left below the watermark."""
        total = 0
        while n := await self.run_once():
            total += n
        return total

    async def rebuild(self) -> int:
        """Empty the read model and replay every event, in one transaction: readers see the
        old model until the new one is complete."""
        with translate_errors():
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute(_LOCK, _NAME)
                await conn.execute("TRUNCATE cycles")
                await conn.execute(
                    "INSERT INTO projection_checkpoints (name, position) VALUES ($1, 0)"
                    " ON CONFLICT (name) DO UPDATE SET position = 0", _NAME,
                )
                total = 0
                while n := await self._step(conn):
                    total += n
                return total

    async def checkpoint(self) -> int:
        with translate_errors():
            pos = await self._pool.fetchval(
                "SELECT position FROM projection_checkpoints WHERE name = $1", _NAME
            )
        return int(pos or 0)

    async def _step(self, conn: Conn) -> int:
        # the advisory lock (not SELECT ... FOR UPDATE) so that this transaction has no id of
        # its own yet when it reads: its id would otherwise hold the read watermark back
        await conn.execute(_LOCK, _NAME)
        after = await conn.fetchval(
            "SELECT position FROM projection_checkpoints WHERE name = $1", _NAME
        )
        rows = await conn.fetch(_READ_ALL, after or 0, self._batch)
        if not rows:
            return 0
        for row in rows:
            await self._apply(conn, row)
        await conn.execute(
            "INSERT INTO projection_checkpoints (name, position) VALUES ($1, $2)"
            " ON CONFLICT (name) DO UPDATE SET position = excluded.position",
            _NAME, rows[-1][2],
        )
        return len(rows)

    @staticmethod
    async def _apply(conn: Conn, row: asyncpg.Record) -> None:
        stream, version, position, _, type_, _, data_text = row[:7]
        recorded_at = row[10]
        if not stream.startswith("cycle-"):
            return
        if type_ == "cycle_started":
            data: dict[str, Any] = orjson.loads(data_text)
            block = data["block"]
            await conn.execute(
                _START, stream, block["id"], data["year"], block["head"], block["deputy"],
                recorded_at, version, position,
            )
        elif type_ in _STAGE_AFTER:
            await conn.execute(
                _STAGE, stream, _STAGE_AFTER[type_], recorded_at, version, position
            )
        elif type_ == "cycle_completed":
            outcome = orjson.loads(data_text)["outcome"]
            leading = next(
                (n["unit"] for n in outcome.get("nominations", ()) if n.get("place") == 1), None
            )
            await conn.execute(
                _COMPLETE, stream, outcome.get("next_head"), outcome.get("next_deputy"),
                leading, recorded_at, version, position,
            )
        else:
            await conn.execute(_TOUCH, stream, recorded_at, version, position)
