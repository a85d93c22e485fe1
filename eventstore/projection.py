"""The generic projection runner: read models kept current from the global log.

A read model is any object with

    name: str                                     its checkpoint's name (unique)
    version: int                                  bumped when its tables or handler change:
                                                  `prepare()` then rebuilds it
    async def apply(conn, event: LogEvent)        one event of the global log, in position order
    async def reset(conn)                         empty its tables (for a rebuild)

The runner reads batches gap-safe (read_all's watermark) and applies each batch in the same
transaction that moves the read model's checkpoint, so a read model is always exactly "the
events up to its checkpoint". An advisory lock per read model lets any number of workers run
the same runner: one applies a batch, the others wait and then find nothing new.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import asyncpg
import orjson

from .errors import translate_errors
from .records import Conn
from .store import _READ_ALL

__all__ = ["LogEvent", "ProjectionRunner", "ReadModel"]

_LOCK = "SELECT pg_advisory_xact_lock(hashtext('thidua.projection.' || $1))"
_CHECKPOINT = "SELECT position FROM projection_checkpoints WHERE name = $1"
_CHECKPOINTS = "SELECT name, position FROM projection_checkpoints WHERE name = any($1::text[])"
_HEAD = "SELECT coalesce(max(position), 0) FROM events"
_SAVE = (
    "INSERT INTO projection_checkpoints (name, position) VALUES ($1, $2)"
    " ON CONFLICT (name) DO UPDATE SET position = excluded.position"
)


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One event of the global log as a read model sees it (payloads decoded, not parsed into
    domain models: projections stay cheap)."""

    stream: str
    version: int
    position: int
    event_id: Any
    type: str
    data: dict[str, Any]
    actor: dict[str, Any]
    effective_at: datetime
    request_id: str | None
    recorded_at: datetime


class ReadModel(Protocol):
    name: str
    version: int

    async def apply(self, conn: Conn, event: LogEvent) -> None: ...

    async def reset(self, conn: Conn) -> None: ...


def _log_event(row: asyncpg.Record) -> LogEvent:
    return LogEvent(
        stream=row[0],
        version=row[1],
        position=row[2],
        event_id=row[3],
        type=row[4],
        data=orjson.loads(row[6]),
        actor=orjson.loads(row[7]),
        effective_at=row[8],
        request_id=row[9],
        recorded_at=row[10],
    )


class ProjectionRunner:
    """Keeps `models` current. `catch_up()` after a write makes reads see it (it waits, up to
    a bound, for the transactions that hold the watermark below that write)."""

    def __init__(self, pool: asyncpg.Pool, models: Sequence[ReadModel], *, batch: int = 1000):
        names = [m.name for m in models]
        if len(set(names)) != len(names):
            raise ValueError(f"two read models share a name: {names}")
        self._pool = pool
        self._models = {m.name: m for m in models}
        self._batch = batch

    @property
    def names(self) -> list[str]:
        return list(self._models)

    async def prepare(self) -> list[str]:
        """Rebuild every read model whose stored version differs from its code's version (a
        new column, a changed handler); returns the names rebuilt."""
        rebuilt = []
        for model in self._models.values():
            with translate_errors():
                stored = await self._pool.fetchval(
                    "SELECT model_version FROM projection_checkpoints WHERE name = $1", model.name
                )
            if stored != model.version:
                await self.rebuild(model.name)
                rebuilt.append(model.name)
        return rebuilt

    async def run_once(self) -> int:
        """Apply the next batch to every read model; returns how many events were applied."""
        total = 0
        for model in self._models.values():
            with translate_errors():
                async with self._pool.acquire() as conn, conn.transaction():
                    total += await self._step(conn, model)
        return total

    async def catch_up(self, *, wait: float = 10.0) -> int:
        """Apply batches until every event committed before this call is in every read model;
        returns how many events were applied.

        An event can only be read once every transaction older than the one that wrote it has
        ended (the watermark: see `read_all`), and any transaction of the cluster counts, an
        autovacuum's ANALYZE as much as another writer. So the newest event may stay out of
        reach for a moment after its append has committed: this waits for it, polling, for at
        most `wait` seconds, and then returns with the read models behind (never wrong).
        `wait=0` applies what can be read now and returns (a follower that polls anyway)."""
        with translate_errors():
            head = int(await self._pool.fetchval(_HEAD))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        pause = 0.005
        total = 0
        while True:
            if n := await self.run_once():
                total += n
                continue
            if await self._reached(head) or loop.time() >= deadline:
                return total
            await asyncio.sleep(pause)
            pause = min(2 * pause, 0.1)

    async def behind(self) -> int:
        """How many read models have not yet applied the newest event (0: all current)."""
        with translate_errors():
            head = int(await self._pool.fetchval(_HEAD))
            rows = await self._pool.fetch(_CHECKPOINTS, list(self._models))
        at = {r[0]: r[1] for r in rows}
        return sum((at.get(name) or 0) < head for name in self._models)

    async def _reached(self, head: int) -> bool:
        with translate_errors():
            rows = await self._pool.fetch(_CHECKPOINTS, list(self._models))
        at = {r[0]: r[1] for r in rows}
        return all((at.get(name) or 0) >= head for name in self._models)

    async def rebuild(self, name: str | None = None) -> int:
        """Empty a read model (or all) and replay every event, in one transaction per model:
        readers see the old model until the new one is complete."""
        models = [self._models[name]] if name else list(self._models.values())
        total = 0
        for model in models:
            with translate_errors():
                async with self._pool.acquire() as conn, conn.transaction():
                    await conn.execute(_LOCK, model.name)
                    await model.reset(conn)
                    await conn.execute(_SAVE, model.name, 0)
                    await conn.execute(
                        "UPDATE projection_checkpoints SET model_version = $2 WHERE name = $1",
                        model.name,
                        model.version,
                    )
                    while n := await self._step(conn, model):
                        total += n
        return total

    async def checkpoint(self, name: str) -> int:
        with translate_errors():
            pos = await self._pool.fetchval(_CHECKPOINT, name)
        return int(pos or 0)

    async def _step(self, conn: Conn, model: ReadModel) -> int:
        # the advisory lock (not SELECT ... FOR UPDATE) so that this transaction has no id of
        # its own yet when it reads: its id would otherwise hold the read watermark back
        await conn.execute(_LOCK, model.name)
        after = await conn.fetchval(_CHECKPOINT, model.name)
        rows = await conn.fetch(_READ_ALL, after or 0, self._batch)
        if not rows:
            return 0
        for row in rows:
            await model.apply(conn, _log_event(row))
        await conn.execute(_SAVE, model.name, rows[-1][2])
        return len(rows)
