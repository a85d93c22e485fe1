"""The outbox: reminders and new tasks written by the cycle's activities, delivered by
app/notify (by e-mail).

A row per unit and reminder (or opened stage); `dedup_key` makes a retried write a no-op."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from .errors import translate_errors

__all__ = ["Outbox"]

_INSERT = """
INSERT INTO outbox (dedup_key, cycle_id, stream, kind, recipient, payload, due_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[],
                     $7::timestamptz[])
ON CONFLICT (dedup_key) DO NOTHING
"""


class Outbox:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add_reminders(self, inp: Any) -> int:
        """Write one reminder row per unit of `inp` (a workflows.messages.ReminderInput), or,
        with `extra["missed"]`, one `deadline_missed` row per unit that had not acted when the
        deadline passed; returns how many rows are new."""
        r = inp.reminder
        missed = bool(getattr(inp, "extra", {}).get("missed"))  # the deadline has passed
        kind = "deadline_missed" if missed else "reminder"
        rows = []
        for unit, actions in sorted(inp.units.items()):
            when = "missed" if missed else r.days_before
            key = f"{inp.stream}:{r.stage}:{r.deadline.isoformat()}:{when}:{unit}"
            payload = {
                "stage": r.stage,
                "deadline": r.deadline.isoformat(),
                "days_before": r.days_before,
                "actions": actions,
            }
            rows.append(
                (key, inp.cycle_id, inp.stream, kind, unit, orjson.dumps(payload).decode(), r.due)
            )
        if not rows:
            return 0
        cols = list(zip(*rows, strict=True))
        with translate_errors():
            status = await self._pool.execute(_INSERT, *(list(c) for c in cols))
        return int(status.split()[-1])

    async def add_tasks(self, inp: Any) -> int:
        """Write one "new task" row per unit of `inp` (a workflows.messages.TasksInput), due
        at once; returns how many rows are new."""
        rows = []
        for unit, actions in sorted(inp.units.items()):
            payload = {
                "stage": inp.stage,
                "actions": actions,
                "deadline": inp.deadline.isoformat() if inp.deadline else None,
            }
            rows.append(
                (
                    f"{inp.stream}:tasks:{inp.key}:{unit}",
                    inp.cycle_id,
                    inp.stream,
                    "new_task",
                    unit,
                    orjson.dumps(payload).decode(),
                    inp.created_at,
                )
            )
        if not rows:
            return 0
        cols = list(zip(*rows, strict=True))
        with translate_errors():
            status = await self._pool.execute(_INSERT, *(list(c) for c in cols))
        return int(status.split()[-1])

    async def pending(
        self, stream: str | None = None, kind: str | None = "reminder"
    ) -> list[dict[str, Any]]:
        """Unsent rows (of one stream, or all; reminders, or `kind`, or every kind for None),
        oldest due first."""
        with translate_errors():
            rows = await self._pool.fetch(
                "SELECT recipient, kind, payload::text, due_at, stream FROM outbox "
                "WHERE sent_at IS NULL AND ($1::text IS NULL OR stream = $1)"
                " AND ($2::text IS NULL OR kind = $2) ORDER BY due_at, id",
                stream,
                kind,
            )
        return [
            {
                "recipient": r[0],
                "kind": r[1],
                "payload": orjson.loads(r[2]),
                "due_at": r[3],
                "stream": r[4],
            }
            for r in rows
        ]
