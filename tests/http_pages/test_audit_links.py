"""The auditor's timeline links to the minutes, the export and the reconciliation; those API
routes take the page's session (GET; a POST needs the session's CSRF token), and the
reconciliation page says in Vietnamese whether Temporal's history and the store agree."""

from __future__ import annotations

import pytest

from app.audit import verify_export
from app.bootstrap import Services
from eventstore import EventStore
from tests.audit.test_http import reference_cycle
from tests.audit.test_reconcile import _cycle_with_pledges
from tests.eventstore.conftest import pledge

from .conftest import Browser, csrf_of
from .test_pages import BASE

pytestmark = pytest.mark.temporal

API = "/cycles/kg-khoi-2/2018"


async def test_the_timeline_links_and_the_reconciliation_page(
    browser: Browser, site: Services, store: EventStore
) -> None:
    wid, stream, head = await _cycle_with_pledges(site.cycles, store)
    auditor = await browser("kiem-toan")
    timeline = await auditor.get(f"{BASE}/nhat-ky")
    assert timeline.status_code == 200, timeline.text[-2000:]
    for href, words in (
        (f"{API}/minutes.pdf", "Biên bản (PDF)"),
        (f"{API}/minutes.html", "Biên bản (HTML)"),
        (f"{API}/export.zip", "Gói kiểm toán (.zip)"),
        (f"{BASE}/doi-chieu", "Đối chiếu với lịch sử Temporal"),
    ):
        assert f'href="{href}"' in timeline.text and words in timeline.text, (href, words)

    # the links work with the page's session cookie
    z = await auditor.get(f"{API}/export.zip")
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    assert verify_export(z.content).ok
    h = await auditor.get(f"{API}/minutes.html")
    assert h.status_code == 200 and h.headers["content-type"].startswith("text/html")
    j = await auditor.get(f"{API}/reconcile")
    assert j.status_code == 200 and j.json()["ok"] is True, j.text
    page = await auditor.get(f"{BASE}/doi-chieu")
    assert page.status_code == 200, page.text[-2000:]
    assert 'data-verdict="reconcile_ok"' in page.text and f"<code>{wid}</code>" in page.text
    # an upload from the session needs the session's CSRF token, as every API post
    no_token = await auditor.post(
        "/audit/verify-export", content=z.content, headers={"Content-Type": "application/zip"}
    )
    assert no_token.status_code == 403 and no_token.json()["code"] == "csrf_failed"
    ok = await auditor.post(
        "/audit/verify-export",
        content=z.content,
        headers={"Content-Type": "application/zip", "X-CSRF-Token": csrf_of(timeline.text)},
    )
    assert ok.status_code == 200 and ok.json()["ok"] is True, ok.text

    # an event behind the workflow's back: the page lists it
    await site.cycles.client.get_workflow_handle(wid).terminate("test over")
    await store.append(stream, head, [pledge("so-x")])
    page = await auditor.get(f"{BASE}/doi-chieu")
    assert 'data-verdict="reconcile_failed"' in page.text
    assert (
        f'data-code="not_written">Phiên bản {head + 1} (pledge_signed, ' in page.text
        and "không do yêu cầu, lần xử lý quá hạn hay việc khởi tạo nào" in page.text
    )
    assert "no update, deadline" not in page.text  # said in Vietnamese, not in English

    # a unit's person sees none of it
    unit = await browser("nv-so-khdt")
    assert (await unit.get(f"{BASE}/doi-chieu")).status_code == 403
    for path in ("export.zip", "reconcile", "minutes.pdf"):
        r = await unit.get(f"{API}/{path}")
        assert r.status_code == 403 and r.json()["code"] == "not_authorized", path


async def test_the_reconciliation_page_without_a_history_or_without_temporal(
    browser: Browser, site: Services, store: EventStore
) -> None:
    await reference_cycle(store, site.cycles)  # events only: no workflow ever ran them
    auditor = await browser("kiem-toan")
    page = await auditor.get(f"{BASE}/doi-chieu")
    assert page.status_code == 404 and 'data-code="unknown_workflow"' in page.text, page.text
    assert "Temporal không còn lưu lịch sử" in page.text
    site.temporal = None  # this test's own services: a process started without Temporal
    page = await auditor.get(f"{BASE}/doi-chieu")
    assert page.status_code == 503 and 'data-code="temporal_unavailable"' in page.text
    assert (await auditor.get("/ky/kg-khoi-9/2018/doi-chieu")).status_code == 404
