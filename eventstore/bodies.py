"""The bytes each event's hash covers, read back for verification, replay and export.

Since migration 0008 every appended event stores its canonical body (`events.body`), and the
CHECK `events_body_matches` keeps it equal, as JSON, to the object built from the columns. While
that CHECK is in place and validated, calls events_body_agrees (0010), and that function and
its helper events_hashed_object (0008) have the sources the migrations gave them, the stored
bodies are read as they are (fast). Otherwise — a body is NULL (written before 0008), or
someone dropped or replaced the CHECK, e.g. to change a column behind its back — the bodies are
rebuilt from the columns with the documented recipe (chain.canonical_body), so a changed column
shows up as a broken link either way.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from functools import cache
from importlib import resources

import orjson

from domain.codec import canonical_json

from .records import Conn
from .verify import Row

__all__ = ["body_check_in_place", "stream_rows", "streams_rows"]

_WHERE = """ WHERE stream = $1
   AND ($2::integer IS NULL OR version <= $2)
   AND ($3::timestamptz IS NULL OR recorded_at <= $3)
 ORDER BY version"""

_STORED = "SELECT version, body, hash FROM events" + _WHERE

_FROM_COLUMNS = (
    "SELECT version, event_id::text, type, schema_version, data::text, actor::text,"
    """ to_char(effective_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),"""
    " request_id, hash FROM events" + _WHERE
)

_CHECK_DEF = (
    "CHECK (events_body_agrees(body, stream, version, event_id, type, schema_version, data,"
    " actor, effective_at, request_id))"
)

# the function the constraint calls (by its oid, through pg_depend), and the one helper of that
# name (plpgsql resolves it by name)
_CHECK = """
SELECT c.convalidated AND c.contype = 'c' AND pg_get_constraintdef(c.oid) = $1
       AND md5(p.prosrc) = $2 AND l.lanname = 'plpgsql'
       AND (SELECT array_agg(md5(h.prosrc)) FROM pg_proc h
             WHERE h.proname = 'events_hashed_object') = ARRAY[$3]
  FROM pg_constraint c
  JOIN pg_depend d ON d.classid = 'pg_constraint'::regclass AND d.objid = c.oid
                  AND d.refclassid = 'pg_proc'::regclass
  JOIN pg_proc p ON p.oid = d.refobjid AND p.proname = 'events_body_agrees'
  JOIN pg_language l ON l.oid = p.prolang
 WHERE c.conrelid = 'events'::regclass AND c.conname = 'events_body_matches'
"""


def _function_md5(migration: str, name: str) -> str:
    """md5 of the source of function `name` exactly as `migration` creates it."""
    text = resources.files("eventstore").joinpath(f"migrations/{migration}").read_text("utf-8")
    m = re.search(rf"FUNCTION {name}\(.*?AS \$\$(.*?)\$\$;", text, re.S)
    assert m is not None, f"{migration} defines {name}"
    return hashlib.md5(m[1].encode()).hexdigest()  # a fingerprint, not security


@cache
def _fingerprints() -> tuple[str, str, str]:
    return (
        _CHECK_DEF,
        _function_md5("0010_body_check_function.sql", "events_body_agrees"),
        _function_md5("0008_audit.sql", "events_hashed_object"),
    )


async def body_check_in_place(conn: Conn) -> bool:
    """True when the stored bodies can be trusted to match the columns."""
    return bool(await conn.fetchval(_CHECK, *_fingerprints()))


async def stream_rows(
    conn: Conn, stream: str, to_version: int | None = None, as_of: datetime | None = None
) -> list[Row]:
    """(version, body, hash) of the stream's events in version order."""
    if await body_check_in_place(conn):
        rows = await conn.fetch(_STORED, stream, to_version, as_of)
        if all(r[1] is not None for r in rows):
            return rows  # asyncpg Records unpack like (version, body, hash) tuples
    return [
        (version, _body(stream, version, *rest), hash_)
        for version, *rest, hash_ in await conn.fetch(_FROM_COLUMNS, stream, to_version, as_of)
    ]


def _body(
    stream: str,
    version: int,
    event_id: str,
    type_: str,
    schema_version: int,
    data: str,
    actor: str,
    effective_at: str,
    request_id: str | None,
) -> bytes:
    """chain.canonical_body, from the columns as text."""
    return canonical_json(
        {
            "actor": orjson.loads(actor),
            "data": orjson.loads(data),
            "effective_at": effective_at,
            "event_id": event_id,
            "request_id": request_id,
            "schema_version": schema_version,
            "stream": stream,
            "type": type_,
            "version": version,
        }
    )


_MANY = """SELECT stream, version, body, hash FROM events WHERE stream = any($1::text[])
 ORDER BY stream, version"""


async def streams_rows(conn: Conn, streams: list[str]) -> dict[str, list[Row]]:
    """stream_rows of several streams in one query (bulk verification)."""
    out: dict[str, list[Row]] = {s: [] for s in streams}
    if await body_check_in_place(conn):
        slow = set()
        for stream, version, body, hash_ in await conn.fetch(_MANY, streams):
            if body is None:
                slow.add(stream)
            out[stream].append((version, body, hash_))
    else:
        slow = set(streams)
    for stream in slow:
        out[stream] = await stream_rows(conn, stream)
    return out
