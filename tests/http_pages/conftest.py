"""The web pages against the ASGI app on the real stack: PostgreSQL, Temporal, a worker, people
with passwords (argon2id with small costs), and a browser-like client (cookies, Accept: HTML)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from temporalio.worker import Worker

from app.bootstrap import Services
from app.http import create_app
from app.identity import Identity
from domain.values import Actor

REFERENCE = Path(__file__).parents[2] / "app" / "scenarios" / "kg-khoi-2-2018.json"
PASSWORD = "mật-khẩu đủ dài 42"
UNITS = (
    "so-ngoai-vu",
    "so-khdt",
    "so-noi-vu",
    "so-tu-phap",
    "vp-ubnd",
    "vp-hdnd",
    "vp-doan-dbqh",
    "vp-dieu-phoi-ntm",
)
HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture
async def site(services: Services, worker: Worker) -> AsyncIterator[Services]:
    services._identity = Identity(
        services.pool,
        services.store,
        hasher=PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1),
    )
    who = await services.identity.people.get("qt-admin")
    if who is None:
        admin = Actor.admin(name="test")
        await services.identity.add_person(
            "qt-admin", name="Nguyễn Văn Thường Trực", role="admin", password=PASSWORD, by=admin
        )
        await services.identity.add_person(
            "kiem-toan", name="Lê Thị Kiểm Tra", role="auditor", password=PASSWORD, by=admin
        )
        for u in UNITS:
            await services.identity.add_person(
                f"nv-{u}", name=f"Cán bộ {u}", role="unit", unit=u, password=PASSWORD, by=admin
            )
    yield services


Browser = Callable[[str], Awaitable[httpx.AsyncClient]]


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "the page has a form with a CSRF token"
    return m.group(1)


class PageClient(httpx.AsyncClient):
    """A browser-like client: a refused page form answers 303 to its page (`?loi=…`, Post/
    Redirect/Get); as a browser would, the client follows that redirect, so a test sees the
    page with the refusal (its status and sentences), `history` holding the 303."""

    async def post(self, url: str, **kwargs: object) -> httpx.Response:  # type: ignore[override]
        r = await super().post(url, **kwargs)  # type: ignore[arg-type]
        where = r.headers.get("location", "")
        if r.status_code == 303 and "loi=" in where:
            page = await self.get(where)
            page.history = [r]
            return page
        return r


@pytest.fixture
async def browser(site: Services) -> AsyncIterator[Browser]:
    app = create_app(site)
    clients: list[httpx.AsyncClient] = []

    async def login(name: str) -> httpx.AsyncClient:
        c = PageClient(
            transport=httpx.ASGITransport(app=app), base_url="http://thidua", headers=HTML
        )
        clients.append(c)
        page = await c.get("/dang-nhap")
        assert page.status_code == 200, page.text
        r = await c.post(
            "/dang-nhap",
            data={"login": name, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        )
        assert r.status_code == 303, r.text
        return c

    yield login
    for c in clients:
        await c.aclose()
