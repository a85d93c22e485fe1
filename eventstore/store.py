"""The PostgreSQL event store: append with optimistic concurrency, idempotent retries, a
per-stream hash chain, and gap-safe reading of the global log.

All SQL is written by hand (asyncpg, $n parameters). See eventstore/README.md for the schema,
the hash recipe and why read_all never skips a late commit.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from domain.codec import EventRecord

from .bodies import stream_rows, streams_rows
from .chain import record_body
from .errors import EventIdConflict, WrongExpectedVersion, translate_errors
from .records import Conn, Position, StoredEvent
from .verify import Replay, Row, VerifyReport, replay_rows

__all__ = ["EventStore"]

_APPEND = "SELECT out_version, out_position, out_hash FROM events_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"

# Shared by both append statements: the first position of this transaction (see read_all) and
# the previous hash of a stream's first event.
_TX_POSITION = (
    "((pg_current_xact_id()::text::bigint"
    " + (SELECT b.xid_offset FROM event_position_base b)) << 20)"
)
_NO_HASH = r"'\x0000000000000000000000000000000000000000000000000000000000000000'::bytea"

# One event (the common case: a workflow step appends one): a plain statement, no plpgsql. The
# position only depends on the transaction id, so its order relative to the insert is free.
# No row comes back when the stream has no version $2 (and $2 > 0).
_APPEND_ONE = f"""
INSERT INTO events (position, stream, version, event_id, type, schema_version, data, actor,
                    effective_at, request_id, hash, body)
SELECT {_TX_POSITION}, $1, $2 + 1, $3, $4, $5, $6::jsonb, $7::jsonb,
       $8, $9, sha256(prev.hash || $10), $10
  FROM (SELECT e.hash FROM events e WHERE e.stream = $1 AND e.version = $2
        UNION ALL
        SELECT {_NO_HASH} WHERE $2 = 0) AS prev
RETURNING version, position, hash
"""

# Group commit: one-event appends that wait for a free lane go together, in one statement and one
# transaction (one commit, one round trip). A conflict does not fail the statement: ON CONFLICT
# DO NOTHING leaves the refused event out (a version or an event id already taken, also by
# another event of the same statement), and so does a missing previous version (the lateral
# join has no row); the caller resolves a refused event alone, as any refused append. Positions
# come from the transaction id as in _APPEND_ONE, the ordinality keeps them distinct.
_APPEND_GROUP = f"""
INSERT INTO events (position, stream, version, event_id, type, schema_version, data, actor,
                    effective_at, request_id, hash, body)
SELECT {_TX_POSITION} + a.i - 1,
       a.stream, a.expected + 1, a.event_id, a.type, a.schema_version, a.data::jsonb,
       a.actor::jsonb, a.effective_at, a.request_id, sha256(prev.hash || a.body), a.body
  FROM unnest($1::text[], $2::integer[], $3::uuid[], $4::text[], $5::integer[], $6::text[],
              $7::text[], $8::timestamptz[], $9::text[], $10::bytea[])
       WITH ORDINALITY AS a(stream, expected, event_id, type, schema_version, data, actor,
                            effective_at, request_id, body, i)
 CROSS JOIN LATERAL (
       SELECT e.hash FROM events e WHERE e.stream = a.stream AND e.version = a.expected
        UNION ALL
       SELECT {_NO_HASH} WHERE a.expected = 0) AS prev
ON CONFLICT DO NOTHING
RETURNING event_id, stream, version, position, hash
"""

_COLUMNS = (
    "stream, version, position, event_id, type, schema_version, data::text, actor::text,"
    " effective_at, request_id, recorded_at, hash"
)

_READ_STREAM = f"""
SELECT {_COLUMNS} FROM events
 WHERE stream = $1
   AND ($2::integer IS NULL OR version <= $2)
   AND ($3::timestamptz IS NULL OR recorded_at <= $3)
 ORDER BY version
"""

# Gap-safe tail of the global log. A position is (writing transaction id << 20) | index, and the
# writer takes its transaction id before it inserts anything. pg_snapshot_xmin(snapshot) is the
# oldest transaction still running at our snapshot (xids >= xmax that are running are never
# below xmin either), so:
#   * every transaction with an id below xmin has finished: its events are visible to this
#     statement (committed) or will never be (rolled back);
#   * every transaction that can still commit has an id >= xmin, hence positions >= xmin << 20.
# Rows below the watermark are therefore final: a later call can only find positions above
# every position we return, and a reader that stores the last position it saw never skips an
# event and never sees one twice. A transaction that stays open holds the watermark back (the
# reader waits); writers never wait for each other or for readers.
_READ_ALL = f"""
SELECT {_COLUMNS} FROM events
 WHERE position > $1
   AND position < ((pg_snapshot_xmin(pg_current_snapshot())::text::bigint
                    + (SELECT b.xid_offset FROM event_position_base b)) << 20)
 ORDER BY position
 LIMIT $2
"""

_STREAMS = """
SELECT stream FROM (
    SELECT DISTINCT stream FROM events
     WHERE $1::integer IS NULL OR stream LIKE '%-' || $1::text
    UNION
    SELECT stream FROM cycles WHERE $1::integer IS NULL OR year = $1
    UNION
    SELECT stream FROM province_proposals WHERE $1::integer IS NULL OR year = $1
    UNION
    SELECT stream FROM blocks WHERE $1::integer IS NULL
    UNION
    SELECT 'person-' || login FROM people WHERE $1::integer IS NULL
) s ORDER BY stream
"""

_BY_IDS = f"SELECT {_COLUMNS} FROM events WHERE event_id = any($1::uuid[])"
_HEAD = "SELECT coalesce(max(version), 0) FROM events WHERE stream = $1"


def _stored(row: asyncpg.Record) -> StoredEvent:
    return StoredEvent(
        stream=row[0],
        version=row[1],
        position=row[2],
        event_id=row[3],
        type=row[4],
        schema_version=row[5],
        data=orjson.loads(row[6]),
        actor=orjson.loads(row[7]),
        effective_at=row[8],
        request_id=row[9],
        recorded_at=row[10],
        hash=row[11],
    )


def _json_ready(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value))


@dataclass(slots=True)
class _Waiting:
    """A one-event append waiting for a lane (group commit)."""

    stream: str
    expected: int
    records: Sequence[EventRecord]
    args: tuple[Any, ...]
    done: asyncio.Future[list[Position]]


class EventStore:
    """Events in PostgreSQL, one stream per cycle. Construct with an asyncpg pool.

    Group commit: at most `lanes` appends run at once; one-event appends that arrive while every
    lane is busy wait and then go together, up to `group` in one statement and one commit (each
    caller still gets its own answer, as if it had appended alone). Under load this saves a
    round trip, a transaction and a commit per event; a lone caller never waits. `lanes=0`
    turns it off (every append runs at once, on its own connection)."""

    def __init__(self, pool: asyncpg.Pool, *, lanes: int = 4, group: int = 32) -> None:
        if lanes < 0 or group < 1:
            raise ValueError("lanes is 0 (no group commit) or more, group is 1 or more")
        self._pool = pool
        self._lanes = lanes
        self._group = group
        self._busy = 0
        self._waiting: deque[_Waiting] = deque()
        self._groups: set[asyncio.Task[None]] = set()

    async def append(
        self, stream: str, expected_version: int, records: Sequence[EventRecord]
    ) -> list[Position]:
        """Append `records` atomically after `expected_version` (0 = new stream).

        Raises WrongExpectedVersion when the stream is elsewhere. Appending events whose ids are
        already stored with the same content writes nothing and returns their original
        positions; the same id with other content raises EventIdConflict.
        """
        if expected_version < 0:
            raise ValueError("expected_version is 0 (new stream) or more")
        if not records:
            return []
        args = self._append_args(stream, expected_version, records)
        if len(records) > 1 or not self._lanes or self._busy < self._lanes:
            self._busy += 1
            try:
                return await self._append_alone(stream, expected_version, records, args)
            finally:
                self._busy -= 1
                self._next_group()
        waiting = _Waiting(
            stream, expected_version, records, args, asyncio.get_running_loop().create_future()
        )
        self._waiting.append(waiting)
        self._next_group()
        return await waiting.done

    async def _append_alone(
        self,
        stream: str,
        expected_version: int,
        records: Sequence[EventRecord],
        args: tuple[Any, ...],
    ) -> list[Position]:
        with translate_errors():
            async with self._pool.acquire() as conn:
                for _ in range(2):
                    try:
                        if len(records) == 1:
                            rows = await conn.fetch(
                                _APPEND_ONE, *(a[0] if isinstance(a, list) else a for a in args)
                            )
                        else:
                            rows = await conn.fetch(_APPEND, *args)
                        refused = not rows
                    except asyncpg.PostgresError as exc:
                        if exc.sqlstate not in ("23505", "TH001"):
                            raise
                        refused = True
                    if not refused:
                        return [Position(r[0], r[1], bytes(r[2])) for r in rows]
                    done = await self._resolve(conn, stream, expected_version, records)
                    if done is not None:
                        return done
                    # the stream reached expected_version meanwhile: try again
                actual = await conn.fetchval(_HEAD, stream)
                raise WrongExpectedVersion(stream, expected_version, actual)

    def _next_group(self) -> None:
        """Start a group from the waiting appends while a lane is free."""
        while self._waiting and self._busy < self._lanes:
            group: list[_Waiting] = []
            while self._waiting and len(group) < self._group:
                w = self._waiting.popleft()
                if not w.done.done():  # its caller was cancelled meanwhile
                    group.append(w)
            if not group:
                return
            self._busy += 1
            # a context of its own: the group serves several cycles' appends, and the task must
            # not carry the log context of the caller that happened to start it
            task = asyncio.create_task(
                self._append_group_or_fail(group), context=contextvars.Context()
            )
            self._groups.add(task)
            task.add_done_callback(self._group_done)

    def _group_done(self, task: asyncio.Task[None]) -> None:
        self._groups.discard(task)
        self._busy -= 1
        self._next_group()

    async def _append_group_or_fail(self, group: list[_Waiting]) -> None:
        try:
            await self._append_group(group)
        finally:  # cancelled (the loop is closing) or a bug: no caller waits forever
            for w in group:
                if not w.done.done():
                    w.done.set_exception(RuntimeError("the grouped append did not finish"))

    async def _append_group(self, group: list[_Waiting]) -> None:
        """One statement for the group; an event it left out (refused) or a failed statement
        falls back to each append alone, which resolves it exactly as an ungrouped append."""
        placed: dict[Any, Any] = {}
        if len(group) > 1:
            columns = [[w.stream for w in group], [w.expected for w in group]]
            columns += [[w.args[k][0] for w in group] for k in range(2, 10)]
            try:
                with translate_errors():
                    rows = await self._pool.fetch(_APPEND_GROUP, *columns)
            except Exception:  # each append alone says what is wrong with it, if anything
                rows = []
            placed = {r[0]: r for r in rows}
        alone = []
        for w in group:
            row = placed.pop(w.records[0].event_id, None)
            if row is not None and (row[1], row[2]) == (w.stream, w.expected + 1):
                if not w.done.done():
                    w.done.set_result([Position(row[2], row[3], bytes(row[4]))])
            else:
                alone.append(w)
        await asyncio.gather(*(self._settle_alone(w) for w in alone))

    async def _settle_alone(self, w: _Waiting) -> None:
        try:
            result = await self._append_alone(w.stream, w.expected, w.records, w.args)
        except Exception as exc:
            if not w.done.done():
                w.done.set_exception(exc)
        else:
            if not w.done.done():
                w.done.set_result(result)

    @staticmethod
    def _append_args(stream: str, expected: int, records: Sequence[EventRecord]) -> tuple[Any, ...]:
        ids, types, versions, data, actors, at, requests, bodies = ([] for _ in range(8))
        for i, r in enumerate(records, start=expected + 1):
            ids.append(r.event_id)
            types.append(r.type)
            versions.append(r.schema_version)
            data.append(orjson.dumps(r.data).decode())
            actors.append(orjson.dumps(r.actor).decode())
            at.append(r.effective_at)
            requests.append(r.request_id)
            bodies.append(record_body(stream, i, r))
        return (stream, expected, ids, types, versions, data, actors, at, requests, bodies)

    async def _resolve(
        self,
        conn: Conn,
        stream: str,
        expected: int,
        records: Sequence[EventRecord],
    ) -> list[Position] | None:
        """After a refused append: an idempotent retry (original positions), an id conflict,
        or a wrong expected version. None when the stream is now exactly where the caller
        expected it (the conflicting writer finished meanwhile) and the append may be tried
        again."""
        stored = {row[3]: row for row in await conn.fetch(_BY_IDS, [r.event_id for r in records])}
        if stored:
            positions = []
            for r in records:
                row = stored.get(r.event_id)
                if row is None:
                    first = next(iter(stored))
                    raise EventIdConflict(
                        first,
                        f"it was appended in a batch that did not hold event {r.event_id}",
                    )
                diff = _difference(stream, r, row)
                if diff:
                    raise EventIdConflict(r.event_id, diff)
                positions.append(Position(row[1], row[2], bytes(row[11])))
            return positions
        actual = await conn.fetchval(_HEAD, stream)
        if actual == expected:
            return None
        raise WrongExpectedVersion(stream, expected, actual)

    async def read_stream(
        self, stream: str, to_version: int | None = None, as_of: datetime | None = None
    ) -> list[StoredEvent]:
        """The stream's events in version order, up to `to_version` and recorded by `as_of`."""
        with translate_errors():
            rows = await self._pool.fetch(_READ_STREAM, stream, to_version, as_of)
        return [_stored(r) for r in rows]

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events of every stream after `after_position`, in position order, gap-safe: an event
        is returned only once no event with a lower position can still commit."""
        with translate_errors():
            rows = await self._pool.fetch(_READ_ALL, after_position, limit)
        return [_stored(r) for r in rows]

    async def replay(
        self, stream: str, to_version: int | None = None, as_of: datetime | None = None
    ) -> Replay:
        """Read, verify and parse a stream in one pass (the auditors' and the workflow's path):
        domain events, the folded state and the verification report."""
        with translate_errors():
            async with self._pool.acquire() as conn:
                rows = await stream_rows(conn, stream, to_version, as_of)
        return replay_rows(stream, rows)

    async def rows(
        self, stream: str, to_version: int | None = None, as_of: datetime | None = None
    ) -> list[Row]:
        """(version, body, hash) of the stream's events in version order: the bytes each hash
        covers (eventstore/bodies.py), for exports and bulk verification."""
        with translate_errors():
            async with self._pool.acquire() as conn:
                return await stream_rows(conn, stream, to_version, as_of)

    async def rows_of_streams(self, streams: list[str]) -> dict[str, list[Row]]:
        """`rows` of several streams in one query (bulk verification)."""
        with translate_errors():
            async with self._pool.acquire() as conn:
                return await streams_rows(conn, streams)

    async def streams(self, year: int | None = None) -> list[str]:
        """Every stream with events, and every stream a read model lists (cycles, blocks,
        provinces' proposals, people; even one whose events are gone); of one year when given
        (cycle and province streams end in -{year}; blocks and people have no year)."""
        with translate_errors():
            return [r[0] for r in await self._pool.fetch(_STREAMS, year)]

    async def verify(self, stream: str) -> VerifyReport:
        """Check the whole stream: hash chain, contiguous versions, every event parses."""
        return (await self.replay(stream)).report

    async def head(self, stream: str) -> int:
        """The stream's current version (0 when it has no events)."""
        with translate_errors():
            version: int = await self._pool.fetchval(_HEAD, stream)
        return version


def _difference(stream: str, r: EventRecord, row: asyncpg.Record) -> str:
    """'' when the stored row holds the same event as `r`, else what differs."""
    checks = (
        ("stream", stream, row[0]),
        ("type", r.type, row[4]),
        ("schema_version", r.schema_version, row[5]),
        ("data", _json_ready(r.data), orjson.loads(row[6])),
        ("actor", _json_ready(r.actor), orjson.loads(row[7])),
        ("effective_at", r.effective_at, row[8]),
        ("request_id", r.request_id, row[9]),
    )
    for name, mine, theirs in checks:
        if mine != theirs:
            return f"{name} differs (stored in {row[0]!r} at version {row[1]})"
    return ""
