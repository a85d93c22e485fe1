"""Verify every cycle stream of the store (or of one year) and list the failing ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from eventstore.audit import VerifyReport, replay_rows, verify_rows
from eventstore.bodies import streams_rows

__all__ = ["StreamFailure", "list_streams", "verify_all"]

Progress = Callable[[int, int, str], None]
"""progress(done, total, stream) after each stream."""

_STREAMS = """
SELECT stream FROM (
    SELECT DISTINCT stream FROM events
     WHERE $1::integer IS NULL OR stream LIKE '%-' || $1::text
    UNION
    SELECT stream FROM cycles WHERE $1::integer IS NULL OR year = $1
) s ORDER BY stream
"""


@dataclass(frozen=True)
class StreamFailure:
    stream: str
    report: VerifyReport

    def __str__(self) -> str:
        return str(self.report)


async def list_streams(pool: asyncpg.Pool, year: int | None = None) -> list[str]:
    """Every stream with events (and every cycle the read model knows, even one whose events
    are gone), of one year when given."""
    return [r[0] for r in await pool.fetch(_STREAMS, year)]


async def verify_all(
    pool: asyncpg.Pool,
    year: int | None = None,
    progress: Progress | None = None,
    *,
    parse: bool = True,
    batch: int = 100,
) -> list[StreamFailure]:
    """Verify every stream: the chain, the versions and (with `parse`) that every event reads
    as a domain event. Returns the failing streams; a stream the read model lists that has no
    events fails too."""
    streams = await list_streams(pool, year)
    failures: list[StreamFailure] = []
    done = 0
    for start in range(0, len(streams), batch):
        names = streams[start:start + batch]
        async with pool.acquire() as conn:
            rows = await streams_rows(conn, names)
        for stream in names:
            r = rows[stream]
            report = replay_rows(stream, r).report if parse else verify_rows(stream, r)
            if not r:
                report = VerifyReport(stream, 0, 0, bytes(32), ())
            if not report.ok or not r:
                failures.append(StreamFailure(stream, report))
            done += 1
            if progress is not None:
                progress(done, len(streams), stream)
    return failures
