"""The deadlines calendar (iCalendar) at its secret address, served by a real HTTP server
(uvicorn on a free port) over the real stack: made from the person's own page, fetched without
a session, parsed with `icalendar`; a wrong, replaced or disabled person's address gives 404;
only the token's hash is stored."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
import uvicorn
from icalendar import Calendar

from app.bootstrap import Services
from app.http import create_app
from domain.values import Actor

from .conftest import HTML, PASSWORD, REFERENCE, csrf_of

pytestmark = pytest.mark.temporal


@pytest.fixture
async def server(site: Services) -> AsyncIterator[str]:
    config = uvicorn.Config(
        create_app(site), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve())
    async with asyncio.timeout(60):
        while not srv.started:
            await asyncio.sleep(0.05)
    port = srv.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    await task


async def login(url: str, name: str) -> httpx.AsyncClient:
    c = httpx.AsyncClient(base_url=url, headers=HTML)
    page = await c.get("/dang-nhap")
    r = await c.post(
        "/dang-nhap", data={"login": name, "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    )
    assert r.status_code == 303, r.text
    return c


async def make_feed(c: httpx.AsyncClient) -> str:
    page = await c.get("/tai-khoan")
    assert (
        page.status_code == 200 and "Chưa có địa chỉ lịch" in page.text
    ) or "đã tạo" in page.text
    r = await c.post("/tai-khoan/lich", data={"csrf_token": csrf_of(page.text), "do": "rotate"})
    assert r.status_code == 303
    shown = await c.get(r.headers["location"])
    m = re.search(r'value="(http[^"]+/lich/thc_[A-Za-z0-9_-]{43}\.ics)"', shown.text)
    assert m, shown.text
    again = await c.get("/tai-khoan")  # shown once
    assert m.group(1) not in again.text and "Địa chỉ lịch đã tạo lúc" in again.text
    return m.group(1)


async def test_a_persons_deadlines_by_a_secret_address(site: Services, server: str) -> None:
    admin = await login(server, "qt-admin")
    page = await admin.get("/quan-ly")
    r = await admin.post(
        "/quan-ly",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("kg.json", REFERENCE.read_bytes(), "application/json")},
    )
    assert r.status_code == 303, r.text
    await site.readmodels.catch_up()

    khdt = await login(server, "nv-so-khdt")
    own = await khdt.get("/tai-khoan")
    assert "<dd>Sở Kế hoạch và Đầu tư</dd>" in own.text  # the unit by name, never its id
    url = await make_feed(khdt)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    async with httpx.AsyncClient() as anyone:  # no session: the token is the key
        r = await anyone.get(url)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/calendar")
        cal = Calendar.from_ical(r.content)
        events = list(cal.walk("VEVENT"))
        assert len(events) == 1
        e = events[0]
        assert str(e["summary"]).startswith("Hạn: Ký giao ước thi đua – ")
        assert e.decoded("dtstart") == datetime.fromisoformat("2018-03-31T17:00:00+07:00")
        assert str(e["url"]).split("#")[0].endswith("/ky/kg-khoi-2/2018/giao-uoc")
        assert list(e.walk("VALARM"))
        # wrong tokens: 404, telling nothing
        for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), "thc_x", "thc_" + "a" * 43):
            bad = await anyone.get(f"{server}/lich/{wrong}.ics")
            assert bad.status_code == 404 and "thc_" not in bad.text
        assert (await anyone.get(url.removesuffix(".ics"))).status_code == 404

    # stored only as its hash
    rows = await site.pool.fetch("SELECT * FROM calendar_tokens WHERE login = 'nv-so-khdt'")
    assert (
        len(rows) == 1 and bytes(rows[0]["token_hash"]) == hashlib.sha256(token.encode()).digest()
    )
    assert token not in repr(dict(rows[0]))

    # a new address ends the old one
    newer = await make_feed(khdt)
    async with httpx.AsyncClient() as anyone:
        assert (await anyone.get(url)).status_code == 404
        assert (await anyone.get(newer)).status_code == 200
        # the secretariat's own feed: its tasks only (none with a deadline now)
        mine = Calendar.from_ical((await anyone.get(await make_feed(admin))).content)
        assert list(mine.walk("VEVENT")) == []
        # a disabled person's address serves nobody
        await site.identity.disable("nv-so-khdt", by=Actor.admin(name="test"))
        try:
            assert (await anyone.get(newer)).status_code == 404
        finally:
            await site.identity.enable("nv-so-khdt", by=Actor.admin(name="test"))
    await khdt.aclose()
    await admin.aclose()
