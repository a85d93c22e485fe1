"""Passwords, the login throttle, sessions, CSRF and API tokens on the real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
import structlog

from app.identity import Identity, IdentityError, LoginDelayed, ThrottlePolicy, parse_expiry
from app.identity.throttle import address_key
from eventstore import EventStore
from tests.identity.conftest import ADMIN, Clock, table_text

pytestmark = pytest.mark.db

PASSWORD = "mật-khẩu đủ dài 42"


async def person(identity: Identity, login: str, **kw: str) -> None:
    await identity.add_person(
        login,
        name=f"Person {login}",
        role=kw.pop("role", "unit"),
        unit=kw.pop("unit", "so-khdt"),
        password=PASSWORD,
        by=ADMIN,
    )


async def refused(coro: object, code: str) -> IdentityError:
    with pytest.raises(IdentityError) as err:
        await coro  # type: ignore[misc]
    assert err.value.code == code, err.value
    return err.value


async def test_passwords_are_argon2id_and_never_in_clear(
    identity: Identity, pool: asyncpg.Pool
) -> None:
    await person(identity, "pw-a")
    digest = await pool.fetchval("SELECT password_hash FROM person_passwords WHERE login = 'pw-a'")
    assert digest.startswith("$argon2id$")
    await identity.set_password("pw-a", "another long password", by=ADMIN)
    everything = await table_text(pool)
    assert PASSWORD not in everything and "another long password" not in everything
    assert (await identity.login("pw-a", "another long password")).person.login == "pw-a"
    await refused(identity.login("pw-a", PASSWORD), "login_failed")


async def test_the_answer_never_says_whether_the_login_exists(identity: Identity) -> None:
    await person(identity, "pw-b")
    wrong = await refused(identity.login("pw-b", "wrong password!!"), "login_failed")
    nobody = await refused(identity.login("nobody-here", "wrong password!!"), "login_failed")
    assert wrong.as_dict() == nobody.as_dict()


async def test_five_failures_start_a_delay_for_that_address_only_and_it_grows(
    identity: Identity, clock: Clock
) -> None:
    await person(identity, "pw-c")
    here, there = "198.51.100.7", "203.0.113.9"
    with structlog.testing.capture_logs() as logs:
        for _ in range(5):
            await refused(identity.login("pw-c", "wrong password!!", address=here), "login_failed")
            clock.advance(seconds=10)
    # one log line: the delay that started (login, address, failures, until), no password
    [line] = [e for e in logs if e["event"] == "login.delayed"]
    assert (line["login"], line["address"], line["failures"]) == ("pw-c", here, 5)
    assert "wrong password!!" not in repr(logs)

    # the right password from the same address: refused until the delay (1 minute) ends
    delayed = await refused(identity.login("pw-c", PASSWORD, address=here), "login_delayed")
    assert isinstance(delayed, LoginDelayed) and delayed.retry_after_seconds == 50
    # the same person from another address: not delayed
    assert (await identity.login("pw-c", PASSWORD, address=there)).person.login == "pw-c"
    [row] = await identity.login_failures("pw-c")
    assert (row.address, row.failures, row.delayed(clock())) == (here, 5, True)

    clock.advance(seconds=51)  # the delay is over: one more try; a wrong one doubles it
    await refused(identity.login("pw-c", "wrong password!!", address=here), "login_failed")
    delayed = await refused(identity.login("pw-c", PASSWORD, address=here), "login_delayed")
    assert isinstance(delayed, LoginDelayed) and delayed.retry_after_seconds == 120
    clock.advance(seconds=121)
    assert (await identity.login("pw-c", PASSWORD, address=here)).person.login == "pw-c"
    assert await identity.login_failures("pw-c") == []  # a success forgets the failures


def test_the_delay_doubles_up_to_its_limit() -> None:
    policy = ThrottlePolicy()
    assert [policy.delay(n) for n in (4, 5, 6, 7)] == [
        None,
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
    ]
    assert policy.delay(12) == policy.delay(1000) == timedelta(hours=1)


async def test_failures_in_a_row_only_a_success_resets_the_count(
    identity: Identity, clock: Clock
) -> None:
    await person(identity, "pw-d")
    for _ in range(4):
        await refused(identity.login("pw-d", "wrong password!!"), "login_failed")
    await identity.login("pw-d", PASSWORD)
    for _ in range(4):
        await refused(identity.login("pw-d", "wrong password!!"), "login_failed")
    await identity.login("pw-d", PASSWORD)  # 4 + 4 failures, never 5 in a row


async def test_failures_a_day_old_are_forgotten_and_their_rows_deleted(
    identity: Identity, clock: Clock, pool: asyncpg.Pool
) -> None:
    await person(identity, "pw-f")
    for _ in range(4):
        await refused(identity.login("pw-f", "wrong password!!"), "login_failed")
    await refused(identity.login("guessed-once", "wrong password!!"), "login_failed")
    clock.advance(days=1, seconds=1)
    await refused(identity.login("pw-f", "wrong password!!"), "login_failed")  # 1, not 5
    rows = await pool.fetch(
        "SELECT login, failures FROM login_throttle WHERE login = any($1::text[])",
        ["pw-f", "guessed-once"],
    )
    assert [tuple(r) for r in rows] == [("pw-f", 1)]
    assert (await identity.login("pw-f", PASSWORD)).person.login == "pw-f"


async def test_a_disabled_person_cannot_log_in_and_their_sessions_end_at_once(
    identity: Identity,
) -> None:
    await person(identity, "pw-e")
    s = await identity.login("pw-e", PASSWORD)
    assert (await identity.sessions.resolve(s.id)).login == "pw-e"
    await identity.disable("pw-e", by=ADMIN)
    await refused(identity.sessions.resolve(s.id), "not_authenticated")
    await refused(identity.login("pw-e", PASSWORD), "login_failed")
    await identity.enable("pw-e", by=ADMIN)
    await refused(identity.sessions.resolve(s.id), "not_authenticated")  # ended, not paused


async def test_a_login_starts_a_new_session_and_ends_the_one_it_replaces(
    identity: Identity, pool: asyncpg.Pool
) -> None:
    await person(identity, "ss-a")
    first = await identity.login("ss-a", PASSWORD)
    second = await identity.login("ss-a", PASSWORD, replacing=first.id)
    assert second.id != first.id and second.csrf_token != first.csrf_token
    await refused(identity.sessions.resolve(first.id), "not_authenticated")
    assert (await identity.sessions.resolve(second.id)).login == "ss-a"
    await identity.logout(second.id)
    await refused(identity.sessions.resolve(second.id), "not_authenticated")
    everything = await table_text(pool)
    assert first.id not in everything and second.csrf_token not in everything


async def test_sessions_end_after_30_idle_minutes_and_12_hours_in_all(
    identity: Identity, clock: Clock
) -> None:
    await person(identity, "ss-b")
    idle = await identity.login("ss-b", PASSWORD)
    clock.advance(minutes=29)
    await identity.sessions.resolve(idle.id)
    clock.advance(minutes=29)
    await identity.sessions.resolve(idle.id)  # each use restarts the idle clock
    clock.advance(minutes=31)
    await refused(identity.sessions.resolve(idle.id), "not_authenticated")

    busy = await identity.login("ss-b", PASSWORD)
    for _ in range(12 * 3 - 1):
        clock.advance(minutes=20)
        await identity.sessions.resolve(busy.id)
    clock.advance(minutes=21)  # 12 h 01 min after it began, used 20 minutes ago
    await refused(identity.sessions.resolve(busy.id), "not_authenticated")


async def test_csrf_token_belongs_to_its_session(identity: Identity) -> None:
    await person(identity, "ss-c")
    a = await identity.login("ss-c", PASSWORD)
    b = await identity.login("ss-c", PASSWORD)
    await identity.sessions.check_csrf(a.id, a.csrf_token)
    await refused(identity.sessions.check_csrf(a.id, None), "csrf_failed")
    await refused(identity.sessions.check_csrf(a.id, b.csrf_token), "csrf_failed")


async def test_api_tokens_hashed_revocable_expiring_with_last_use(
    identity: Identity, pool: asyncpg.Pool, store: EventStore, clock: Clock
) -> None:
    await person(identity, "tk-a")
    issued = await identity.issue_token("tk-a", name="ci", expires=parse_expiry("2d"), by=ADMIN)
    assert issued.token.startswith("thd_") and len(issued.token) > 40
    assert issued.token not in await table_text(pool)
    [info] = await identity.tokens.list("tk-a")
    assert info.last_used_at is None and info.status(clock()) == "active"

    assert (await identity.bearer(issued.token)).login == "tk-a"
    [info] = await identity.tokens.list("tk-a")
    assert info.last_used_at == clock()
    await refused(identity.bearer(issued.token[:-1] + "x"), "not_authenticated")
    await refused(identity.bearer(None), "not_authenticated")

    clock.advance(days=2)
    await refused(identity.bearer(issued.token), "not_authenticated")  # expired

    other = await identity.issue_token("tk-a", by=ADMIN)
    assert (await identity.bearer(other.token)).login == "tk-a"
    await identity.revoke_token(str(other.id), by=ADMIN)
    await refused(identity.bearer(other.token), "not_authenticated")
    assert [t.status(clock()) for t in await identity.tokens.list("tk-a")] == ["expired", "revoked"]

    third = await identity.issue_token("tk-a", by=ADMIN)
    await identity.disable("tk-a", by=ADMIN)
    await refused(identity.bearer(third.token), "not_authenticated")
    types = [e.type for e in await store.read_stream("person-tk-a")]
    assert types == [
        "person_created",
        "token_issued",
        "token_issued",
        "token_revoked",
        "token_issued",
        "person_disabled",
    ]
    await refused(identity.revoke_token("not-a-uuid", by=ADMIN), "unknown_token")


@pytest.mark.parametrize("text", ["0d", "90", "3 days", "20000d", "-1d", "30m"])
def test_bad_expiry_is_refused(text: str) -> None:
    with pytest.raises(IdentityError) as err:
        parse_expiry(text)
    assert (err.value.code, err.value.field) == ("invalid_expiry", "expires")


def test_expiry() -> None:
    assert parse_expiry("90d") == timedelta(days=90)
    assert parse_expiry("12h") == timedelta(hours=12)


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("unknown", "unknown"),
    ],
)
def test_failures_are_counted_by_ipv4_address_or_ipv6_network(address: str, key: str) -> None:
    assert address_key(address) == key


async def test_a_guesser_gains_nothing_from_more_addresses_of_one_ipv6_network(
    identity: Identity,
) -> None:
    await person(identity, "pw-g")
    for n in range(5):
        await refused(
            identity.login("pw-g", "wrong password!!", address=f"2001:db8:9:9::{n}"), "login_failed"
        )
    await refused(identity.login("pw-g", PASSWORD, address="2001:db8:9:9::ff"), "login_delayed")
    assert (await identity.login("pw-g", PASSWORD, address="2001:db8:9:a::1")).person
