"""thidua users / tokens as subprocesses on the test's PostgreSQL: passwords from standard
input, a token printed once on standard output, refusals as one line naming field and rule."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import asyncpg
import pytest
from argon2 import PasswordHasher

from app.identity import Identity, IdentityError
from eventstore import EventStore
from tests.identity.conftest import ADMIN, table_text

pytestmark = pytest.mark.db


def thidua(db_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": db_url, "LOG_LEVEL": "WARNING"},
        timeout=120,
    )


async def test_users_and_tokens_from_the_command_line(db_url: str, pool: asyncpg.Pool) -> None:
    secret = "mật khẩu qua stdin 123"
    r = thidua(
        db_url,
        "users",
        "add",
        "cli-lan",
        "--name",
        "Nguyễn Thị Lan",
        "--role",
        "unit",
        "--unit",
        "so-khdt",
        "--position",
        "Chánh Văn phòng",
        "--password-stdin",
        stdin=secret + "\n",
    )
    assert r.returncode == 0, r.stderr
    r = thidua(db_url, "users", "add", "cli-x", "--name", "X", "--role", "unit")
    assert r.returncode == 1 and "unit_required (unit)" in r.stderr, r.stderr

    r = thidua(db_url, "tokens", "issue", "cli-lan", "--name", "ci", "--expires", "30d")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("thd_") and "\n" not in token and token not in r.stderr

    r = thidua(db_url, "users", "list", "--json")
    assert '"login": "cli-lan"' in r.stdout and '"affiliation": "so-khdt"' in r.stdout
    token_id = await pool.fetchval("SELECT id FROM api_tokens WHERE login = 'cli-lan'")
    r = thidua(db_url, "tokens", "revoke", str(token_id))
    assert r.returncode == 0, r.stderr
    r = thidua(db_url, "users", "disable", "cli-lan")
    assert r.returncode == 0, r.stderr
    r = thidua(db_url, "users", "passwd", "cli-lan", "--password-stdin", stdin="short\n")
    assert r.returncode == 1 and "weak_password" in r.stderr

    types = [
        r[0]
        for r in await pool.fetch(
            "SELECT type FROM events WHERE stream = 'person-cli-lan' ORDER BY version"
        )
    ]
    assert types == ["person_created", "token_issued", "token_revoked", "person_disabled"]
    everything = await table_text(pool)
    assert secret not in everything and token not in everything


async def test_users_show_lists_failed_logins_and_running_delays_per_address(
    db_url: str, pool: asyncpg.Pool, store: EventStore
) -> None:
    identity = Identity(pool, store, hasher=PasswordHasher(time_cost=1, memory_cost=8192))
    await identity.add_person(
        "cli-show",
        name="Trần Thư",
        role="admin",
        position="Chuyên viên",
        password="mật khẩu của thư ký",
        by=ADMIN,
    )
    for _ in range(5):
        with pytest.raises(IdentityError):
            await identity.login("cli-show", "sai mật khẩu rồi", address="198.51.100.7")
    with pytest.raises(IdentityError):
        await identity.login("cli-show", "sai mật khẩu rồi", address="203.0.113.9")

    r = thidua(db_url, "users", "show", "cli-show", "--json")
    assert r.returncode == 0, r.stderr
    shown = json.loads(r.stdout)
    assert (shown["login"], shown["role"], shown["active"]) == ("cli-show", "admin", True)
    by_address = {f["address"]: f for f in shown["login_failures"]}
    assert by_address.keys() == {"198.51.100.7", "203.0.113.9"}
    delayed = by_address["198.51.100.7"]
    assert delayed["failures"] == 5 and delayed["delayed_until"] is not None
    assert datetime.fromisoformat(delayed["delayed_until"]) > datetime.now(UTC)
    assert (by_address["203.0.113.9"]["failures"], by_address["203.0.113.9"]["delayed_until"]) == (
        1,
        None,
    )
    assert "sai mật khẩu rồi" not in r.stdout

    r = thidua(db_url, "users", "show", "cli-show")
    assert r.returncode == 0 and "198.51.100.7" in r.stdout and "delayed until" in r.stdout
    r = thidua(db_url, "users", "show", "nobody-here")
    assert r.returncode == 1 and "unknown_person" in r.stderr


async def test_users_email_from_the_command_line(db_url: str, pool: asyncpg.Pool) -> None:
    r = thidua(
        db_url,
        "users",
        "add",
        "cli-mail",
        "--name",
        "Mai",
        "--role",
        "unit",
        "--unit",
        "so-khdt",
        "--email",
        "mai@sokhdt.gov.vn",
    )
    assert r.returncode == 0, r.stderr
    r = thidua(db_url, "users", "set", "cli-mail", "--email", "not an address")
    assert r.returncode == 1 and "invalid_email (email)" in r.stderr, r.stderr
    assert "not an address" not in r.stderr
    r = thidua(db_url, "users", "set", "cli-mail", "--email", "mai2@sokhdt.gov.vn")
    assert r.returncode == 0, r.stderr
    r = thidua(db_url, "users", "list", "--json")
    assert '"email": "mai2@sokhdt.gov.vn"' in r.stdout
    rows = await pool.fetch(
        "SELECT type, data->>'email' FROM events WHERE stream = 'person-cli-mail' ORDER BY version"
    )
    assert [tuple(r) for r in rows] == [
        ("person_created", "mai@sokhdt.gov.vn"),
        ("person_changed", "mai2@sokhdt.gov.vn"),
    ]


async def test_users_calendar_prints_a_secret_address_once_and_keeps_its_hash(
    db_url: str, pool: asyncpg.Pool
) -> None:
    r = thidua(db_url, "users", "add", "cli-lich", "--name", "Trần Lịch", "--role", "admin")
    assert r.returncode == 0, r.stderr
    r = thidua(db_url, "users", "calendar", "cli-lich", "--base", "https://thidua.example/")
    assert r.returncode == 0, r.stderr
    url = r.stdout.strip()
    assert url.startswith("https://thidua.example/lich/thc_") and url.endswith(".ics")
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    identity = Identity(pool, EventStore(pool))
    assert (await identity.calendar.person(token)).login == "cli-lich"  # type: ignore[union-attr]
    assert token not in await table_text(pool)  # only its hash is kept
    again = thidua(db_url, "users", "calendar", "cli-lich").stdout.strip()
    assert again.startswith("/lich/thc_") and again != url
    assert await identity.calendar.person(token) is None  # the old address ended
    r = thidua(db_url, "users", "calendar", "cli-lich", "--revoke")
    assert r.returncode == 0 and "ended" in r.stdout
    r = thidua(db_url, "users", "calendar", "nobody-here")
    assert r.returncode == 1 and "unknown_person" in r.stderr
