"""The event store's own errors. Driver (asyncpg) errors never leave the store unwrapped.

StoreError                      anything the store raises
├── StoreUnavailable            PostgreSQL cannot be reached now (connect, lost connection,
│                               shutdown, too many connections): retry later
├── AppendRejected              the append was refused; the same call will fail again
│   ├── WrongExpectedVersion    the stream is not at the version the caller expected
│   └── EventIdConflict         an event id is already stored with other content
├── AppendOnlyViolation         someone tried to UPDATE, DELETE or TRUNCATE events
└── DatabaseError               any other error from the database or the driver
    └── PermissionDenied        the connection's role lacks a grant for what was asked
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

import asyncpg

__all__ = [
    "AppendOnlyViolation",
    "AppendRejected",
    "DatabaseError",
    "EventIdConflict",
    "PermissionDenied",
    "StoreError",
    "StoreUnavailable",
    "WrongExpectedVersion",
    "translate_errors",
]


class StoreError(Exception):
    """Base of every error the event store raises."""


class StoreUnavailable(StoreError):
    """PostgreSQL cannot be reached right now; the operation may be retried."""


class AppendRejected(StoreError):
    """The append was refused; retrying the same call will not help."""


class WrongExpectedVersion(AppendRejected):
    def __init__(self, stream: str, expected: int, actual: int) -> None:
        self.stream, self.expected, self.actual = stream, expected, actual
        super().__init__(f"stream {stream!r}: expected version {expected}, actual version {actual}")


class EventIdConflict(AppendRejected):
    def __init__(self, event_id: UUID, detail: str) -> None:
        self.event_id = event_id
        super().__init__(f"event id {event_id} is already stored with other content: {detail}")


class AppendOnlyViolation(StoreError):
    """UPDATE, DELETE or TRUNCATE on the events table."""


class DatabaseError(StoreError):
    """Any other failure reported by PostgreSQL or the driver."""


class PermissionDenied(DatabaseError):
    """The database role of this connection lacks a grant (SQLSTATE 42501)."""


_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused, socket missing, reset
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,  # class 08
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.exceptions.OperatorInterventionError,  # class 57: shutdown, cannot connect now
    asyncpg.exceptions.InsufficientResourcesError,  # class 53: too many connections
    # a connection the server dropped in the middle of a statement, met again by the driver
    # ("cannot switch to state …; another operation is in progress"): retry on another
    asyncpg.exceptions.InternalClientError,
)


@contextmanager
def translate_errors() -> Iterator[None]:
    """Re-raise driver errors as the store's own (StoreErrors pass through)."""
    try:
        yield
    except StoreError:
        raise
    except _UNAVAILABLE as exc:
        raise StoreUnavailable(str(exc) or type(exc).__name__) from exc
    except asyncpg.PostgresError as exc:
        if getattr(exc, "sqlstate", None) == "TH002":
            raise AppendOnlyViolation(str(exc)) from exc
        if isinstance(exc, asyncpg.InsufficientPrivilegeError):
            raise PermissionDenied(str(exc)) from exc
        raise DatabaseError(str(exc)) from exc
    except asyncpg.InterfaceError as exc:
        raise DatabaseError(str(exc)) from exc
