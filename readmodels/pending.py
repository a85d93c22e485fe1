"""The `pending` read model: each cycle's folded state (a snapshot per stream) and, from it, the
actions still expected of each unit (or of the secretariat, `admin`) with the stage's deadline.

The tasks page ("Việc cần làm") reads one indexed query per person: its cost does not grow with
the number of cycles, and it never asks Temporal. The fold is the domain's (`domain.fold`), so
what the page lists is exactly `domain.pending.pending_actions` of the state the rules judge.

Its tables are made by migration 0009_pending.sql.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from domain.codec import event_from_record
from domain.fold import fold_into
from domain.pending import pending_actions
from domain.state import CycleState
from eventstore.projection import LogEvent
from eventstore.records import Conn

from .cycles import _is_cycle

__all__ = ["PendingAction", "PendingReadModel", "inbox_count", "pending_for", "snapshot"]

_LOAD = "SELECT state::text FROM cycle_snapshots WHERE stream = $1"
_SAVE = """
INSERT INTO cycle_snapshots (stream, version, state) VALUES ($1, $2, $3::jsonb)
ON CONFLICT (stream) DO UPDATE SET version = excluded.version, state = excluded.state
"""
_CLEAR = "DELETE FROM pending_actions WHERE stream = $1"
_ADD = """
INSERT INTO pending_actions (stream, who, who_name, action, subject, subject_name, block_id,
                             block_name, year, title, stage, deadline)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT DO NOTHING
"""


class PendingReadModel:
    name = "pending"
    version = 3  # 3: the secretariat's findings in the discipline stage

    async def reset(self, conn: Conn) -> None:
        await conn.execute("TRUNCATE cycle_snapshots, pending_actions")

    async def apply(self, conn: Conn, e: LogEvent) -> None:
        if not _is_cycle(e.stream):
            return
        raw = await conn.fetchval(_LOAD, e.stream)
        state = CycleState.model_validate_json(raw) if raw else CycleState()
        if state.version >= e.version:
            return  # already applied (a rebuild racing a run): idempotent per version
        event = event_from_record(
            e.type,
            e.data,
            event_id=e.event_id,
            at=e.effective_at,
            actor=e.actor,
            request_id=e.request_id,
        )
        fold_into(state, (event,))
        state.requests = {}  # request ids are the workflow's business, not a page's
        await conn.execute(_SAVE, e.stream, state.version, state.model_dump_json())
        await conn.execute(_CLEAR, e.stream)
        if state.block is None or state.year is None:
            return
        deadline = state.deadlines.get(state.stage)
        names = {m.id: m.name for m in state.block.members}
        rows = []
        for who, actions in pending_actions(state).items():
            for action in actions:
                do, _, subject = action.partition(":")
                rows.append(
                    (
                        e.stream,
                        who,
                        names.get(who, who),
                        do,
                        subject,
                        names.get(subject, subject),
                        state.block.id,
                        state.block.name,
                        state.year,
                        state.title,
                        state.stage,
                        deadline,
                    )
                )
        if rows:
            await conn.executemany(_ADD, rows)


@dataclass(frozen=True)
class PendingAction:
    stream: str
    who_name: str
    action: str
    subject: str
    subject_name: str
    block_id: str
    block_name: str
    year: int
    title: str
    stage: str
    deadline: datetime | None
    started_at: datetime | None = None

    @property
    def overdue(self) -> bool:
        """The deadline has passed and it was a live one: it fell after the cycle started (a
        cycle started after its own deadline, e.g. a past year entered now, is not late)."""
        return (
            self.deadline is not None
            and self.deadline < datetime.now(UTC)
            and (self.started_at is None or self.deadline > self.started_at)
        )


_FOR = """
SELECT p.stream, p.who_name, p.action, p.subject, p.subject_name, p.block_id, p.block_name,
       p.year, p.title, p.stage, p.deadline, c.started_at
  FROM pending_actions p LEFT JOIN cycles c ON c.stream = p.stream
 WHERE p.who = $1 AND starts_with(p.stream, $2 || 'cycle-')
 ORDER BY p.deadline NULLS LAST, p.year DESC, p.block_id, p.action, p.subject
 LIMIT $3
"""


async def pending_for(
    pool: asyncpg.Pool, who: str, *, prefix: str = "", limit: int = 500
) -> list[PendingAction]:
    """What `who` (a unit id, or `admin`) still has to do, across all cycles: one query."""
    try:
        rows = await pool.fetch(_FOR, who, prefix, limit)
    except asyncpg.UndefinedTableError:
        return []
    return [PendingAction(*r) for r in rows]


_COUNT = """
SELECT count(*), coalesce(sum(hashtext(stream || ' ' || action || ' ' || subject)), 0)::text
  FROM pending_actions
 WHERE who = $1 AND starts_with(stream, $2 || 'cycle-')
"""


async def inbox_count(pool: asyncpg.Pool, who: str, *, prefix: str = "") -> tuple[int, str]:
    """How many tasks `who` has (the header's count) and a stamp that changes when the list
    does (the tasks page reloads on it): one query on the index of `who`."""
    try:
        row = await pool.fetchrow(_COUNT, who, prefix)
    except asyncpg.UndefinedTableError:
        return 0, ""
    assert row is not None
    return int(row[0]), str(row[1])


async def snapshot(pool: asyncpg.Pool, stream: str) -> CycleState | None:
    """A cycle's state as last projected (may trail the workflow by a moment)."""
    try:
        raw = await pool.fetchval(_LOAD, stream)
    except asyncpg.UndefinedTableError:
        return None
    return CycleState.model_validate_json(raw) if raw else None


async def late_units(
    conn: Any, streams: list[str], *, near_days: int = 0
) -> dict[str, tuple[int, int]]:
    """By cycle stream: the units that still owe an action of a stage whose deadline has
    passed, and those whose deadline passes within `near_days` days or has passed."""
    if not streams:
        return {}
    rows = await conn.fetch(
        "SELECT stream, count(DISTINCT who) FILTER (WHERE deadline < now()),"
        " count(DISTINCT who) FROM pending_actions"
        " WHERE stream = any($1::text[]) AND deadline < now() + make_interval(days => $2)"
        " AND who <> 'admin'"
        " AND action IN ('sign_pledge', 'submit_self_score', 'cast_ballot',"
        " 'cast_election_ballot') GROUP BY stream",
        streams,
        near_days,
    )
    return {r[0]: (r[1], r[2]) for r in rows}
