"""Delivery of the outbox: claim rows, send one message per person of the unit, mark them.

Guarantee: **at least once, with a stable Message-ID**. The SMTP server accepts a message
before the database can record it; a crash between the two sends it again after the lease
runs out, as the same message (same Message-ID, so mail systems and readers can fold the two).
Recording first would give at most once instead, and a crash would then lose the message
silently; a reminder lost is worse than a reminder twice.

- A row is claimed with a lease (`claimed_until`) taken under FOR UPDATE SKIP LOCKED: workers
  never share a row; a dead worker's rows return when the lease ends.
- Each (row, person) sent or refused for good is recorded in `outbox_deliveries`, so a retried
  row sends only to those not done yet.
- A temporary failure (server away, 4xx) puts the row back with exponential backoff; a
  permanent one (5xx: a bad address) is recorded for that person and never retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import orjson
import structlog

from .compose import compose
from .sender import PermanentFailure, Sender, TemporaryFailure

__all__ = ["Deliverer", "backoff", "follow_outbox"]

log = structlog.get_logger("thidua.notify")

LEASE = timedelta(minutes=5)
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)

_CLAIM = """
UPDATE outbox o SET claimed_until = clock_timestamp() + $2::interval, claimed_by = $3
 WHERE o.id IN (
       SELECT id FROM outbox
        WHERE sent_at IS NULL
          AND (claimed_until IS NULL OR claimed_until < clock_timestamp())
          AND (next_attempt_at IS NULL OR next_attempt_at <= clock_timestamp())
        ORDER BY due_at, id
        LIMIT $1
          FOR UPDATE SKIP LOCKED)
RETURNING o.id, o.dedup_key, o.cycle_id, o.stream, o.kind, o.recipient, o.payload::text,
          o.attempts
"""
_RENEW = """
UPDATE outbox SET claimed_until = clock_timestamp() + $3::interval
 WHERE id = $1 AND claimed_by = $2 AND sent_at IS NULL
"""
_PERSONS = """
SELECT login, name, email FROM people
 WHERE active AND email IS NOT NULL
   AND ((role = 'unit' AND unit = $1) OR ($1 = 'admin' AND role = 'admin'))
 ORDER BY login
"""
_CYCLE = """
SELECT coalesce(nullif(data->>'title', ''), (data->'block'->>'name') || ' – năm ' || (data->>'year')),
       (data->'block'->'members')::text
  FROM events WHERE stream = $1 AND version = 1 AND type = 'cycle_started'
"""
"""The cycle's title as the pages write it and its units' names, from its first event (no read
model to wait for)."""


def backoff(
    attempts: int, first: timedelta = BACKOFF_FIRST, most: timedelta = BACKOFF_MAX
) -> timedelta:
    """The wait after the `attempts`-th failure in a row: doubling from `first`, at most
    `most`."""
    wait: timedelta = min(first * (2 ** max(attempts - 1, 0)), most)
    return wait


class Deliverer:
    def __init__(
        self,
        pool: asyncpg.Pool,
        sender: Sender,
        from_address: str,
        *,
        lease: timedelta = LEASE,
        first_backoff: timedelta = BACKOFF_FIRST,
    ) -> None:
        self._pool = pool
        self._sender = sender
        self._from = from_address
        self._lease = lease
        self._first_backoff = first_backoff
        self._token = uuid.uuid4().hex  # this deliverer's claims

    async def run_once(self, batch: int = 20) -> int:
        """Claim up to `batch` rows and deliver them; returns how many rows were claimed."""
        rows = await self._pool.fetch(_CLAIM, batch, self._lease, self._token)
        for row in rows:
            await self._deliver(row)
        return len(rows)

    async def _deliver(self, r: asyncpg.Record) -> None:
        row: dict[str, Any] = {
            "id": r["id"],
            "dedup_key": r["dedup_key"],
            "kind": r["kind"],
            "recipient": r["recipient"],
            "payload": orjson.loads(r["payload"]),
        }
        cycle = await self._pool.fetchrow(_CYCLE, r["stream"])
        title = (cycle and cycle[0]) or f"Kỳ thi đua {r['cycle_id']}"
        units = {m["id"]: m["name"] for m in orjson.loads(cycle[1] or "[]")} if cycle else {}
        done = {
            x["login"]
            for x in await self._pool.fetch(
                "SELECT login FROM outbox_deliveries WHERE outbox_id = $1", r["id"]
            )
        }
        for person in await self._pool.fetch(_PERSONS, r["recipient"]):
            if person["login"] in done:
                continue
            message = compose(row, dict(person), title, self._from, units)
            # the lease again before each message; lost (it ran out and another worker took
            # the row): leave the row to that worker
            if await self._pool.execute(_RENEW, r["id"], self._token, self._lease) != "UPDATE 1":
                log.warning("notify.lease_lost", outbox=r["id"])
                return
            try:
                await self._sender.send(message)
            except PermanentFailure as exc:
                log.warning("notify.refused", outbox=r["id"], login=person["login"], error=str(exc))
                await self._record(r["id"], person, message.message_id, "failed", str(exc))
            except TemporaryFailure as exc:
                wait = backoff(r["attempts"] + 1, self._first_backoff)
                log.warning(
                    "notify.deferred",
                    outbox=r["id"],
                    login=person["login"],
                    error=str(exc),
                    retry_in_s=wait.total_seconds(),
                )
                await self._pool.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = $2,"
                    " next_attempt_at = clock_timestamp() + $3::interval, claimed_until = NULL"
                    " WHERE id = $1 AND claimed_by = $4",
                    r["id"],
                    str(exc)[:500],
                    wait,
                    self._token,
                )
                return
            else:
                await self._record(r["id"], person, message.message_id, "sent", None)
                log.info("notify.sent", outbox=r["id"], kind=r["kind"], login=person["login"])
        await self._pool.execute(
            "UPDATE outbox SET sent_at = clock_timestamp(), claimed_until = NULL,"
            " last_error = NULL WHERE id = $1 AND claimed_by = $2",
            r["id"],
            self._token,
        )

    async def _record(
        self,
        outbox_id: int,
        person: asyncpg.Record,
        message_id: str,
        status: str,
        error: str | None,
    ) -> None:
        await self._pool.execute(
            "INSERT INTO outbox_deliveries (outbox_id, login, email, message_id, status, error)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            outbox_id,
            person["login"],
            person["email"],
            message_id,
            status,
            error,
        )


async def follow_outbox(deliverer: Deliverer, stop: asyncio.Event, interval: float = 1.0) -> None:
    """Deliver until `stop` is set, like the read-model follower: a failing round is logged
    and tried again."""
    while not stop.is_set():
        claimed = 0
        try:
            claimed = await deliverer.run_once()
        except Exception as exc:  # the database went away: say so, wait, go on
            log.warning("notify.behind", error=str(exc))
        if claimed:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
