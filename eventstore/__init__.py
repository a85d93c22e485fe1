"""asyncpg event store: migrations, append, gap-safe reads, hash chain, verification,
projections. See README.md in this folder."""

from .audit import Problem, Replay, VerifyReport
from .chain import GENESIS, canonical_body, chain_hash
from .connect import create_pool, database_url, start_embedded, stop_embedded
from .errors import (
    AppendOnlyViolation,
    AppendRejected,
    DatabaseError,
    EventIdConflict,
    StoreError,
    StoreUnavailable,
    WrongExpectedVersion,
)
from .migrate import migrate
from .projector import CyclesProjector
from .records import Position, StoredEvent
from .store import EventStore

__all__ = [
    "GENESIS",
    "AppendOnlyViolation",
    "AppendRejected",
    "CyclesProjector",
    "DatabaseError",
    "EventIdConflict",
    "EventStore",
    "Position",
    "Problem",
    "Replay",
    "StoreError",
    "StoreUnavailable",
    "StoredEvent",
    "VerifyReport",
    "WrongExpectedVersion",
    "canonical_body",
    "chain_hash",
    "create_pool",
    "database_url",
    "migrate",
    "start_embedded",
    "stop_embedded",
]
