"""Sign-in through the real HTTP app (httpx against the ASGI app, the real PostgreSQL of
tests/conftest.py): the login throttle under concurrency and per source address, the idle clock
that the version poll does not restart, and the session cookie that ends with the browser unless
"remember me" is chosen."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher

from app.bootstrap import Services
from app.http import create_app
from app.identity import Identity
from tests.identity.conftest import ADMIN

pytestmark = pytest.mark.temporal

PASSWORD = "một mật khẩu dài 2018"
WRONG = "không phải mật khẩu"
HERE, THERE = "198.51.100.7", "203.0.113.9"


class Counted:
    """argon2's `PasswordHasher.verify`, wrapped: every call counted, then the real one runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real: Callable[..., bool] = PasswordHasher.verify

        def verify(hasher: PasswordHasher, *args: Any, **kw: Any) -> bool:
            self.calls += 1
            return real(hasher, *args, **kw)

        monkeypatch.setattr(PasswordHasher, "verify", verify)  # the instance has __slots__


@pytest.fixture
async def app(services: Services) -> Any:
    services._identity = Identity(
        services.pool,
        services.store,
        hasher=PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1),
    )
    return create_app(services)


def client_from(app: Any, address: str, base_url: str = "http://thidua") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40123)), base_url=base_url
    )


@pytest.fixture
async def here(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_from(app, HERE) as c:
        yield c


@pytest.fixture
async def there(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_from(app, THERE) as c:
        yield c


async def add_person(services: Services, login: str) -> None:
    await services.identity.add_person(
        login,
        name=f"Người {login}",
        role="admin",
        position="Chuyên viên",
        password=PASSWORD,
        by=ADMIN,
    )


async def log_in(
    client: httpx.AsyncClient, login: str, password: str, **extra: str
) -> httpx.Response:
    csrf = (await client.get("/session/csrf")).json()["csrf_token"]
    return await client.post(
        "/session", data={"login": login, "password": password, "csrf_token": csrf, **extra}
    )


async def test_30_concurrent_wrong_passwords_cost_at_most_5_argon2_verifications(
    app: Any,
    services: Services,
    here: httpx.AsyncClient,
    pool: asyncpg.Pool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await add_person(services, "thu-ky")
    counted = Counted(monkeypatch)

    csrf = (await here.get("/session/csrf")).json()["csrf_token"]
    form = {"login": "thu-ky", "password": WRONG, "csrf_token": csrf}
    answers = await asyncio.gather(*[here.post("/session", data=form) for _ in range(30)])
    codes = [(r.status_code, r.json()["code"]) for r in answers]
    assert counted.calls <= 5
    assert codes.count((401, "login_failed")) == counted.calls == 5  # the rest never verified
    assert codes.count((429, "login_delayed")) == 25

    # the right password right after: refused, without a verification, until the delay ends
    r = await log_in(here, "thu-ky", PASSWORD)
    assert (r.status_code, r.json()["code"]) == (429, "login_delayed"), r.text
    retry = int(r.headers["Retry-After"])
    assert 0 < retry <= 60 and r.json()["retry_after_seconds"] == retry
    assert counted.calls == 5
    assert "thidua_session" not in r.headers.get("set-cookie", "")
    # the login page says so too, in Vietnamese
    page = await here.get("/dang-nhap")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    r = await here.post(
        "/dang-nhap", data={"login": "thu-ky", "password": PASSWORD, "csrf_token": token[1]}
    )
    assert r.status_code == 429 and 'data-code="login_delayed"' in r.text
    assert "thử lại sau" in r.text and "giây" in r.text and int(r.headers["Retry-After"]) > 0
    assert counted.calls == 5

    # the delay ends (its end moved back, not waited for): the right password is taken
    row = await pool.fetchrow(
        "SELECT failures, delayed_until FROM login_throttle"
        " WHERE login = 'thu-ky' AND address = $1",
        HERE,
    )
    assert row is not None and row["failures"] == 5 and row["delayed_until"] is not None
    await pool.execute(
        "UPDATE login_throttle SET delayed_until = now() - interval '1 second'"
        " WHERE login = 'thu-ky'"
    )
    r = await log_in(here, "thu-ky", PASSWORD)
    assert r.status_code == 200, r.text
    assert counted.calls == 6
    assert await pool.fetchval("SELECT count(*) FROM login_throttle WHERE login = 'thu-ky'") == 0


async def test_wrong_passwords_from_one_address_do_not_stop_the_person_at_another(
    services: Services,
    here: httpx.AsyncClient,
    there: httpx.AsyncClient,
    pool: asyncpg.Pool,
) -> None:
    await add_person(services, "chu-tich")
    for _ in range(6):
        await log_in(here, "chu-tich", WRONG)
    r = await log_in(here, "chu-tich", PASSWORD)
    assert (r.status_code, r.json()["code"]) == (429, "login_delayed")

    r = await log_in(there, "chu-tich", PASSWORD)
    assert r.status_code == 200, r.text
    assert (await there.get("/session/me")).json()["login"] == "chu-tich"
    rows = await pool.fetch("SELECT address, failures FROM login_throttle WHERE login = 'chu-tich'")
    assert [tuple(r) for r in rows] == [(HERE, 5)]  # the refused sixth was not counted


async def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(
    services: Services, pool: asyncpg.Pool
) -> None:
    proxy, behind = "10.9.8.7", "192.0.2.44"
    await add_person(services, "qua-proxy")
    for trusted in ("", proxy):
        services.settings.trusted_proxies = trusted
        services._identity = None
        async with client_from(create_app(services), proxy) as c:
            csrf = (await c.get("/session/csrf")).json()["csrf_token"]
            r = await c.post(
                "/session",
                headers={"X-Forwarded-For": behind},
                data={"login": "qua-proxy", "password": WRONG, "csrf_token": csrf},
            )
            assert r.status_code == 401
            # https behind the proxy (X-Forwarded-Proto) is believed alike: HSTS follows it
            h = await c.get("/healthz", headers={"X-Forwarded-Proto": "https"})
            assert ("strict-transport-security" in h.headers) == bool(trusted)
    rows = await pool.fetch(
        "SELECT address FROM login_throttle WHERE login = 'qua-proxy' ORDER BY address"
    )
    assert [r[0] for r in rows] == [proxy, behind]


async def test_a_session_touched_only_by_the_version_poll_ends_at_the_idle_limit(
    services: Services,
    here: httpx.AsyncClient,
    there: httpx.AsyncClient,
    pool: asyncpg.Pool,
) -> None:
    await add_person(services, "doc-trang")
    poll = "/ky/kg-khoi-2/2018/phien-ban"
    json_ = {"Accept": "application/json"}  # as app.js asks

    async def age(client: httpx.AsyncClient, minutes: int) -> None:
        """Move the session's times back (as if `minutes` had passed)."""
        from app.identity.sessions import token_hash

        sid = client.cookies.get("thidua_session")
        assert sid
        await pool.execute(
            "UPDATE sessions SET created_at = created_at - make_interval(mins => $2),"
            " last_seen_at = last_seen_at - make_interval(mins => $2) WHERE id_hash = $1",
            token_hash(sid),
            minutes,
        )

    async def last_seen(client: httpx.AsyncClient) -> Any:
        from app.identity.sessions import token_hash

        return await pool.fetchval(
            "SELECT last_seen_at FROM sessions WHERE id_hash = $1",
            token_hash(client.cookies.get("thidua_session") or ""),
        )

    for client in (here, there):
        assert (await log_in(client, "doc-trang", PASSWORD)).status_code == 200

    # `here`: an open page polls every few seconds; nobody uses it
    await age(here, 29)
    before = await last_seen(here)
    r = await here.get(poll, headers=json_)
    assert r.status_code == 200 and r.json()["version"] == 0
    assert r.json()["inbox"] is not None  # the header's task count rides on the same poll
    assert await last_seen(here) == before  # the poll did not restart the idle clock
    r = await here.get("/viec-can-lam/so-viec", headers=json_)  # the other pages' poll
    assert r.status_code == 200 and "inbox" in r.json()
    assert await last_seen(here) == before
    await age(here, 2)  # 31 minutes since the person's last request
    assert (await here.get(poll, headers=json_)).status_code == 401
    assert (await here.get("/session/me")).status_code == 401

    # `there`: the person's own request restarts it (so the poll above was the difference)
    await age(there, 29)
    assert (await there.get("/session/me")).status_code == 200
    await age(there, 2)
    assert (await there.get(poll, headers=json_)).status_code == 200
    assert (await there.get("/session/me")).status_code == 200


def session_cookie(r: httpx.Response, name: str = "thidua_session") -> str:
    [cookie] = [c for c in r.headers.get_list("set-cookie") if c.startswith(f"{name}=")]
    return cookie.lower()


async def test_the_session_cookie_ends_with_the_browser_unless_remember_me(
    services: Services, app: Any
) -> None:
    await add_person(services, "nho-toi")
    async with client_from(app, HERE) as c:
        r = await log_in(c, "nho-toi", PASSWORD)
        assert r.status_code == 200
        cookie = session_cookie(r)
        assert "max-age" not in cookie and "expires" not in cookie and "httponly" in cookie
    async with client_from(app, HERE) as c:
        r = await log_in(c, "nho-toi", PASSWORD, remember="true")
        assert r.status_code == 200
        assert "max-age=43200" in session_cookie(r)  # the absolute limit, 12 h

    # the login page: the box "Ghi nhớ đăng nhập"
    for ticked in (False, True):
        async with client_from(app, HERE) as c:
            page = await c.get("/dang-nhap")
            assert 'name="ghi-nho"' in page.text and "Ghi nhớ đăng nhập" in page.text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token
            form = {"login": "nho-toi", "password": PASSWORD, "csrf_token": token[1]}
            if ticked:
                form["ghi-nho"] = "1"
            r = await c.post("/dang-nhap", data=form)
            assert r.status_code == 303, r.text
            for name in ("thidua_session", "thidua_page_csrf"):
                cookie = session_cookie(r, name)
                assert ("max-age=43200" in cookie) is ticked, cookie
                assert ticked or "expires" not in cookie, cookie
