"""Issue 16: the store's errors and the driver's become 4xx/503 in one place
(app/http/errors.store_problem), never a 500 and never the driver's words."""

from __future__ import annotations

import asyncpg
import orjson
import pytest

from app.http.errors import store_problem
from eventstore import EventStore
from eventstore.errors import (
    AppendOnlyViolation,
    DatabaseError,
    StoreUnavailable,
    WrongExpectedVersion,
)

pytestmark = pytest.mark.db


def _answer(exc: BaseException) -> tuple[int, str, dict[str, str]]:
    r = store_problem(exc)
    return r.status_code, orjson.loads(r.body)["code"], dict(r.headers)


@pytest.mark.parametrize("stream", ["a\x00b", "x" * 10])
async def test_a_value_postgresql_cannot_take_is_422_from_the_real_store(
    store: EventStore, pool: asyncpg.Pool, stream: str
) -> None:
    if "\x00" in stream:
        with pytest.raises(DatabaseError) as info:  # the store's own error, the driver's cause
            await store.read_stream(stream)
    else:
        with pytest.raises(asyncpg.PostgresError) as info:  # a read model's own query
            await pool.fetchval("SELECT $1::int + 2147483647", 1)
    status, code, _ = _answer(info.value)
    assert (status, code) == (422, "invalid_request")
    assert "invalid byte" not in orjson.loads(store_problem(info.value).body)["message"]


def test_the_store_s_own_trouble_is_409_or_503() -> None:
    status, code, headers = _answer(StoreUnavailable("connection refused"))
    assert (status, code) == (503, "store_unavailable") and int(headers["retry-after"]) >= 1
    assert _answer(WrongExpectedVersion("s", 3, 4))[:2] == (409, "store_conflict")
    assert _answer(AppendOnlyViolation("x"))[:2] == (503, "store_failed")
    assert _answer(DatabaseError("deadlock detected"))[:2] == (503, "store_failed")
