"""asyncpg event store: migrations, append, gap-safe reads, hash chain, verification,
projections. See README.md in this folder."""

from .chain import GENESIS, canonical_body, chain_hash
from .connect import create_pool, embedded_dir, start_embedded, stop_embedded
from .errors import (
    AppendOnlyViolation,
    AppendRejected,
    DatabaseError,
    EventIdConflict,
    PermissionDenied,
    StoreError,
    StoreUnavailable,
    WrongExpectedVersion,
)
from .migrate import SchemaNotCurrent, check_migrated, migrate
from .projection import LogEvent, ProjectionRunner, ReadModel
from .records import Position, StoredEvent
from .roles import ensure_roles
from .store import EventStore
from .verify import Problem, Replay, VerifyReport

__all__ = [
    "GENESIS",
    "AppendOnlyViolation",
    "AppendRejected",
    "DatabaseError",
    "EventIdConflict",
    "EventStore",
    "LogEvent",
    "PermissionDenied",
    "Position",
    "Problem",
    "ProjectionRunner",
    "ReadModel",
    "Replay",
    "SchemaNotCurrent",
    "StoreError",
    "StoreUnavailable",
    "StoredEvent",
    "VerifyReport",
    "WrongExpectedVersion",
    "canonical_body",
    "chain_hash",
    "check_migrated",
    "create_pool",
    "embedded_dir",
    "ensure_roles",
    "migrate",
    "start_embedded",
    "stop_embedded",
]
