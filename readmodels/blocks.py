"""The blocks read model: blocks by province, their membership periods and the provinces'
compiled proposals, projected from the block and province streams (a block's leaders by year
are read from its stream).

Lookups are plain functions over a connection (or pool).
"""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from domain.block import BLOCK_EVENT_TYPES
from domain.province import province_slug
from eventstore.projection import LogEvent, ProjectionRunner
from eventstore.records import Conn

__all__ = [
    "BlocksReadModel",
    "StoreBlockDirectory",
    "blocks_of_province",
    "member_names",
    "proposals_of",
    "provinces",
    "registered_blocks",
    "unit_name",
]

_TABLES = ("blocks", "block_members", "province_proposals")

_REGISTER = """
INSERT INTO blocks (stream, block_id, name, province, province_slug, head, deputy, version,
                    position, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (stream) DO UPDATE SET
    block_id = excluded.block_id, name = excluded.name, province = excluded.province,
    province_slug = excluded.province_slug, head = excluded.head, deputy = excluded.deputy,
    version = excluded.version, position = excluded.position, updated_at = excluded.updated_at
"""
_MEMBER = """
INSERT INTO block_members (stream, seq, unit, name, from_year)
VALUES ($1, (SELECT coalesce(max(seq), 0) + 1 FROM block_members WHERE stream = $1), $2, $3, $4)
"""
_LEFT = """
UPDATE block_members SET after_year = $3
 WHERE stream = $1 AND unit = $2 AND after_year IS NULL
"""
_TOUCH = "UPDATE blocks SET version = $2, position = $3, updated_at = $4 WHERE stream = $1"
_PROPOSALS = """
INSERT INTO province_proposals (stream, province, year, proposals, compiled_at)
VALUES ($1, $2, $3, $4::jsonb, $5)
ON CONFLICT (stream) DO UPDATE SET proposals = excluded.proposals,
                                   compiled_at = excluded.compiled_at
"""


class BlocksReadModel:
    """Projects block streams (`…block-{id}`) and the provinces' compiled proposals."""

    name = "blocks"
    version = 1

    async def reset(self, conn: Conn) -> None:
        await conn.execute(f"TRUNCATE {', '.join(_TABLES)}")

    async def apply(self, conn: Conn, e: LogEvent) -> None:
        stream, version, position, type_, data, at = (
            e.stream,
            e.version,
            e.position,
            e.type,
            e.data,
            e.recorded_at,
        )
        name = stream.rsplit(":", 1)[-1]  # tests prefix their streams with "t…:"
        if type_ == "proposals_compiled" and name.startswith("province-"):
            p = data["proposals"]
            await conn.execute(
                _PROPOSALS, stream, p["province"], p["year"], orjson.dumps(p).decode(), at
            )
            return
        if type_ not in BLOCK_EVENT_TYPES or not name.startswith("block-"):
            return
        if type_ == "block_registered":
            await conn.execute(
                _REGISTER,
                stream,
                data["block_id"],
                data["name"],
                data["province"],
                province_slug(data["province"]),
                data["head"],
                data["deputy"],
                version,
                position,
                at,
            )
            await conn.execute("DELETE FROM block_members WHERE stream = $1", stream)
            for m in data["members"]:
                await conn.execute(_MEMBER, stream, m["id"], m["name"], None)
            return
        if type_ == "member_joined":
            await conn.execute(_MEMBER, stream, data["unit"], data["name"], data["from_year"])
        elif type_ == "member_left":
            await conn.execute(_LEFT, stream, data["unit"], data["after_year"])
        elif type_ == "block_renamed":
            await conn.execute(
                "UPDATE blocks SET name = $2 WHERE stream = $1", stream, data["name"]
            )
        await conn.execute(_TOUCH, stream, version, position, at)


async def blocks_of_province(conn: Any, province: str, *, prefix: str = "") -> list[str]:
    """Ids of the blocks of a province (by name or slug), in id order."""
    rows = await conn.fetch(
        "SELECT block_id FROM blocks WHERE province_slug = $1 AND stream LIKE $2 ORDER BY block_id",
        province_slug(province),
        prefix.replace("%", r"\%").replace("_", r"\_") + "block-%",
    )
    return [r[0] for r in rows]


async def registered_blocks(conn: Any, *, prefix: str = "") -> list[Any]:
    """The registered blocks (block_id, name, province), by province and name."""
    return list(
        await conn.fetch(
            "SELECT block_id, name, province FROM blocks WHERE stream LIKE $1 || 'block-%'"
            " ORDER BY province, name",
            prefix,
        )
    )


async def provinces(conn: Any, *, prefix: str = "") -> list[str]:
    """The provinces that have a registered block, in name order."""
    rows = await conn.fetch(
        "SELECT DISTINCT province FROM blocks WHERE stream LIKE $1 || 'block-%'"
        " AND province <> '' ORDER BY province",
        prefix,
    )
    return [r[0] for r in rows]


_UNIT_NAME = """
SELECT coalesce((SELECT name FROM block_members WHERE unit = $1 LIMIT 1),
                (SELECT who_name FROM pending_actions WHERE who = $1 LIMIT 1))
"""


async def unit_name(conn: Any, unit: str) -> str | None:
    """A unit's full name: from the blocks' register, else from its tasks."""
    name = await conn.fetchval(_UNIT_NAME, unit)
    return str(name) if name is not None else None


async def member_names(
    conn: Any, block_ids: list[str], *, prefix: str = ""
) -> dict[tuple[str, str], str]:
    """The names of the units of these blocks, by (block id, unit id), over every period."""
    if not block_ids:
        return {}
    streams = [f"{prefix}block-{b}" for b in block_ids]
    members = await conn.fetch(
        "SELECT stream, unit, name FROM block_members WHERE stream = any($1::text[]) ORDER BY seq",
        streams,
    )
    cut = len(prefix) + len("block-")
    return {(m["stream"][cut:], m["unit"]): m["name"] for m in members}


async def proposals_of(conn: Any, stream: str) -> dict[str, Any] | None:
    """The province's latest compiled list of proposals (JSON), if any."""
    value = await conn.fetchval(
        "SELECT proposals::text FROM province_proposals WHERE stream = $1", stream
    )
    return orjson.loads(value) if value is not None else None


class StoreBlockDirectory:
    """The blocks of a province through this read model, caught up first (the province's
    year plans one cycle per block)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.projection = ProjectionRunner(pool, [BlocksReadModel()])

    async def blocks_of(self, province: str, prefix: str) -> list[str]:
        await self.projection.catch_up()
        async with self._pool.acquire() as conn:
            return await blocks_of_province(conn, province, prefix=prefix)

    async def proposals(self, stream: str) -> dict[str, Any] | None:
        """`proposals_of`, caught up first."""
        await self.projection.catch_up()
        async with self._pool.acquire() as conn:
            return await proposals_of(conn, stream)
