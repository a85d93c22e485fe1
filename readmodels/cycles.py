"""The `cycles` read model: one row per cycle (block, year, stage, leaders, deadlines), for
lists (`thidua cycle list`, `GET /cycles`) and the secretariat's pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from domain.stages import STAGE_AFTER
from eventstore.projection import LogEvent
from eventstore.records import Conn

__all__ = [
    "CycleRow",
    "CyclesReadModel",
    "acts_of_unit",
    "cycle_heads",
    "cycle_version",
    "list_cycles",
]

_START = """
INSERT INTO cycles (stream, block_id, year, stage, head, deputy, leading_unit, updated_at,
                    version, position, block_name, province, title, members, deadlines,
                    started_at)
VALUES ($1, $2, $3, 'pledge', $4, $5, NULL, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $6)
ON CONFLICT (stream) DO NOTHING
"""
_STAGE = """
UPDATE cycles SET stage = $2, updated_at = $3, version = $4, position = $5 WHERE stream = $1
"""
_COMPLETE = """
UPDATE cycles SET stage = 'completed', next_head = $2, next_deputy = $3, leading_unit = $4,
                  updated_at = $5, version = $6, position = $7
 WHERE stream = $1
"""
_DEADLINE = """
UPDATE cycles SET deadlines = jsonb_set(deadlines, ARRAY[$2::text], to_jsonb($3::text)),
                  updated_at = $4, version = $5, position = $6
 WHERE stream = $1
"""
_TOUCH = "UPDATE cycles SET updated_at = $2, version = $3, position = $4 WHERE stream = $1"


class CyclesReadModel:
    """Projects cycle streams (`…cycle-{block}-{year}`) into the `cycles` table."""

    name = "cycles"
    version = 2

    async def reset(self, conn: Conn) -> None:
        await conn.execute("TRUNCATE cycles")

    async def apply(self, conn: Conn, e: LogEvent) -> None:
        if not _is_cycle(e.stream):
            return
        at = e.recorded_at
        if e.type == "cycle_started":
            block = e.data["block"]
            await conn.execute(
                _START,
                e.stream,
                block["id"],
                e.data["year"],
                block["head"],
                block["deputy"],
                at,
                e.version,
                e.position,
                block.get("name", ""),
                block.get("province", ""),
                e.data.get("title", ""),
                len(block.get("members", ())),
                orjson.dumps(e.data.get("deadlines", {})).decode(),
            )
        elif e.type == "cycle_completed":
            outcome = e.data["outcome"]
            leading = next(
                (n["unit"] for n in outcome.get("nominations", ()) if n.get("place") == 1), None
            )
            await conn.execute(
                _COMPLETE,
                e.stream,
                outcome.get("next_head"),
                outcome.get("next_deputy"),
                leading,
                at,
                e.version,
                e.position,
            )
        elif e.type in STAGE_AFTER:
            await conn.execute(_STAGE, e.stream, STAGE_AFTER[e.type], at, e.version, e.position)
        elif e.type == "deadline_extended":
            await conn.execute(
                _DEADLINE, e.stream, e.data["stage"], e.data["until"], at, e.version, e.position
            )
        else:
            await conn.execute(_TOUCH, e.stream, at, e.version, e.position)


def _is_cycle(stream: str) -> bool:
    # live cycles are "cycle-…"; scenario runs and tests prefix it ("scn-1a2b:cycle-…")
    return stream.startswith("cycle-") or ":cycle-" in stream


@dataclass(frozen=True)
class CycleRow:
    stream: str
    block_id: str
    block_name: str
    province: str
    year: int
    stage: str
    head: str | None
    deputy: str | None
    next_head: str | None
    next_deputy: str | None
    leading_unit: str | None
    members: int
    deadlines: dict[str, str]
    started_at: datetime | None
    updated_at: datetime
    version: int

    def as_json(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for k in ("started_at", "updated_at"):
            out[k] = out[k].isoformat() if out[k] else None
        return out


_LIST = """
SELECT stream, block_id, block_name, province, year, stage, head, deputy, next_head,
       next_deputy, leading_unit, members, deadlines::text, started_at, updated_at, version
  FROM cycles
 WHERE ($1::integer IS NULL OR year = $1)
   AND ($2::text IS NULL OR stage = $2)
   AND ($3::text IS NULL OR block_id = $3)
   AND starts_with(stream, $4 || 'cycle-')
 ORDER BY year DESC, province, block_id
 LIMIT $5
"""


async def list_cycles(
    pool: asyncpg.Pool,
    *,
    year: int | None = None,
    stage: str | None = None,
    block: str | None = None,
    prefix: str = "",
    limit: int = 1000,
) -> list[CycleRow]:
    """Cycles from the read model, newest year first: live cycles, or those of a client's
    `prefix` (a scenario run's or a test's isolated cycles)."""
    rows = await pool.fetch(_LIST, year, stage, block, prefix, limit)
    return [
        CycleRow(*r[:12], orjson.loads(r[12]), *r[13:])  # type: ignore[call-arg]
        for r in rows
    ]


async def cycle_version(conn: Any, stream: str) -> int:
    """The cycle's version as the read model holds it (0 when it has none)."""
    return int(await conn.fetchval("SELECT version FROM cycles WHERE stream = $1", stream) or 0)


_ACTS_OF_UNIT = """
SELECT stream, version, type, data::text, actor::text, effective_at
  FROM events
 WHERE starts_with(stream, $2 || 'cycle-')
   AND (actor->>'unit' = $1 OR data->>'unit' = $1 OR data->>'voter' = $1
        OR data->'unsigned' ? $1 OR data->'not_scored' ? $1 OR data->'excluded' ? $1
        OR data->'outcome'->'nominations' @> jsonb_build_array(jsonb_build_object('unit', $1)))
 ORDER BY effective_at DESC, position DESC
 LIMIT $3
"""


async def acts_of_unit(conn: Any, unit: str, *, prefix: str = "", limit: int = 500) -> list[Any]:
    """The cycle events a unit gave or that concern it (its score verified, a finding, being
    left out, its nomination), newest first (stream, version, type, data, actor, effective_at;
    data and actor as JSON text). Read from the log itself: no projection keeps them."""
    return list(await conn.fetch(_ACTS_OF_UNIT, unit, prefix, limit))


_CYCLE_HEADS = """
SELECT stream, state->'block'->'members', state->>'title', state->'block'->>'name',
       (state->>'year')::integer, state->'block'->>'id'
  FROM cycle_snapshots WHERE stream = any($1::text[])
"""


async def cycle_heads(conn: Any, streams: list[str]) -> list[Any]:
    """Per cycle stream, from its latest snapshot: its members (JSON text), title, block name,
    year and block id."""
    return list(await conn.fetch(_CYCLE_HEADS, streams)) if streams else []
