"""Identity tests: the real PostgreSQL of tests/conftest.py, a clock the test can move, and
argon2id with small costs (the same algorithm, cheaper on a shared machine)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from argon2 import PasswordHasher

from app.identity import Identity
from domain.values import Actor
from eventstore import EventStore

ADMIN = Actor.admin(name="test")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def identity(pool: asyncpg.Pool, store: EventStore, clock: Clock) -> Identity:
    return Identity(
        pool,
        store,
        hasher=PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1),
        clock=clock,
    )


async def table_text(pool: asyncpg.Pool) -> str:
    """Every row of every table of the database as text (to look for secrets in clear)."""
    tables = await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    out = []
    for t in tables:
        rows = await pool.fetch(f'SELECT t::text FROM "{t[0]}" t')
        out += [r[0] for r in rows]
    return "\n".join(out)
