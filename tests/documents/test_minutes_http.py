"""`GET /cycles/{block}/{year}/minutes.pdf` and `…/minutes.html`: httpx against the ASGI app on
the real services of tests/conftest.py; the minutes are for auditors and the secretariat."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.bootstrap import Services
from app.client import CycleClient
from app.http import create_app, static_tokens
from domain.codec import to_record
from domain.values import Actor
from eventstore import EventStore
from workflows.messages import cycle_key

from .conftest import record_of, scenario

pytestmark = pytest.mark.temporal

TOKENS = {"t-audit": Actor.auditor(), "t-admin": Actor.admin(), "t-a": Actor.of_unit("so-a")}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def api(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services, authenticate=static_tokens(TOKENS))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://thidua") as client:
        yield client


async def test_auditors_get_the_minutes_as_pdf_and_html(
    api: httpx.AsyncClient, store: EventStore, cycles: CycleClient
) -> None:
    rec = record_of(scenario("cancelled"))
    block, year = rec.stream.removeprefix("cycle-").rsplit("-", 1)
    stream = cycle_key(block, int(year), cycles.prefix)[1]
    await store.append(stream, 0, [to_record(e) for e in rec.events])
    head = (await store.replay(stream)).report.head_hash.hex()

    r = await api.get(f"/cycles/{block}/{year}/minutes.pdf", headers=auth("t-audit"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    assert f'filename="bien-ban-{block}-{year}.pdf"' in r.headers["content-disposition"]

    h = await api.get(f"/cycles/{block}/{year}/minutes.html", headers=auth("t-admin"))
    assert h.status_code == 200 and h.headers["content-type"].startswith("text/html")
    assert head in h.text and '<html lang="vi">' in h.text

    denied = await api.get(f"/cycles/{block}/{year}/minutes.html", headers=auth("t-a"))
    assert denied.status_code == 403 and denied.json()["code"] == "not_authorized"


async def test_minutes_of_an_unknown_cycle_are_404(api: httpx.AsyncClient) -> None:
    r = await api.get("/cycles/kg-khoi-9/2018/minutes.pdf", headers=auth("t-audit"))
    assert r.status_code == 404
    assert (await api.get("/cycles/kg-khoi-9/2018/minutes.pdf")).status_code == 401
