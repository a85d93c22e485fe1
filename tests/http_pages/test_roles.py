"""Being told and the record, through the pages on the real stack: the header's task count
(from the `pending` read model, on every page and in the polls), each role's landing page, the
secretariat's own tasks, a unit's "Việc đã làm", and the system credited with what it did by
itself."""

from __future__ import annotations

import json
import re
from datetime import date

import httpx
import pytest

from app.bootstrap import Services
from app.runner import reference_scenario
from tests.workflows.helpers import send_steps

from .conftest import REFERENCE, Browser
from .test_pages import BASE, post, start_reference
from .test_reference_cycle import form_of

pytestmark = pytest.mark.temporal


def count_in_header(html: str) -> str:
    m = re.search(r'data-inbox-count="(\d*)"', html)
    assert m, "the header shows the task count"
    return m.group(1)


async def landing(c: httpx.AsyncClient) -> str:
    r = await c.get("/")
    assert r.status_code == 303
    return r.headers["location"]


async def test_roles_land_on_their_pages_and_the_count_follows_the_tasks(
    browser: Browser, site: Services
) -> None:
    admin = await browser("qt-admin")
    auditor = await browser("kiem-toan")
    khdt = await browser("nv-so-khdt")
    # after login (no page asked for): "/", which sends each role to its own page
    assert await landing(admin) == "/quan-ly"
    assert await landing(auditor) == "/kiem-tra"
    assert await landing(khdt) == "/viec-can-lam"

    await start_reference(admin)
    await site.readmodels.catch_up()
    tasks = await khdt.get("/viec-can-lam")
    assert count_in_header(tasks.text) == "1"
    # the 2018 cycle entered today: its deadline passed before it started, not "8 years late"
    assert "data-overdue" not in tasks.text and 'class="late"' not in tasks.text
    assert "không tính quá hạn" in tasks.text
    poll = (await khdt.get("/viec-can-lam/so-viec")).json()
    assert poll["inbox"] == 1 and poll["stamp"]
    assert (await khdt.get(f"{BASE}/phien-ban")).json()["inbox"] == 1
    audit_page = await auditor.get("/kiem-tra")
    assert "data-inbox-count" not in audit_page.text  # auditors have no tasks
    assert "Đơn vị không có việc nào đang chờ" not in audit_page.text
    assert (await auditor.get("/viec-can-lam/so-viec")).json() == {"inbox": None}

    r = await post(khdt, f"{BASE}/giao-uoc", {"do": "sign_pledge", "confirm": "1"})
    assert r.status_code == 303, r.text
    await site.readmodels.catch_up()
    after = (await khdt.get("/viec-can-lam/so-viec")).json()
    assert after["inbox"] == 0 and after["stamp"] != poll["stamp"]
    assert count_in_header((await khdt.get(BASE)).text) == "0"

    # the rest of the reference cycle up to the review
    sc = reference_scenario()
    await send_steps(site.cycles, sc, [s for s in sc.steps[:25] if s.index != 1])
    # the conference's date typed as dd/mm/yyyy, whatever the browser's language
    head = await browser("nv-so-ngoai-vu")
    console = await head.get(f"{BASE}/dieu-hanh")
    field = re.search(r'<input [^>]*id="held_on"[^>]*>', console.text)
    assert field and 'type="text"' in field.group(0) and "pattern=" in field.group(0)
    review = form_of(
        next(
            s for s in json.loads(REFERENCE.read_text("utf-8"))["steps"] if s["do"] == "hold_review"
        )
    )
    wrong = await post(head, f"{BASE}/dieu-hanh", {**review, "held_on": "31/02/2019"})
    assert wrong.status_code == 409 and 'data-code="invalid_date"' in wrong.text
    r = await post(head, f"{BASE}/dieu-hanh", {**review, "held_on": "8/3/2019"})
    assert r.status_code == 303, r.text
    state = await site.cycles.state("kg-khoi-2", 2018)
    assert state.held_on == date(2019, 3, 8)
    await site.readmodels.catch_up()
    manage = await admin.get("/quan-ly")
    assert 'data-role="secretariat-tasks"' in manage.text
    assert 'data-action="record_finding"' in manage.text and f"{BASE}/quan-ly" in manage.text
    assert count_in_header(manage.text) == "1"
    admin_tasks = await admin.get("/viec-can-lam")
    assert 'data-action="record_finding"' in admin_tasks.text
    assert "Đơn vị không có việc nào" not in admin_tasks.text
    assert 'data-role="secretariat-tasks"' not in (await auditor.get("/kiem-tra")).text

    # a 404 or 403 page names the person's unit in full in its header, never its id
    for page in (await khdt.get("/ky/kg-khoi-2/1999"), await khdt.get(f"{BASE}/quan-ly")):
        assert page.status_code in (403, 404)
        header = page.text.split("<main")[0]
        assert "– Sở Kế hoạch và Đầu tư" in header and "– so-khdt" not in header


async def test_a_unit_sees_what_it_did_and_the_system_its_own_acts(
    browser: Browser, site: Services
) -> None:
    admin = await browser("qt-admin")
    await start_reference(admin)
    sc = reference_scenario()
    await send_steps(site.cycles, sc, sc.steps[:18])  # all sign; all score; two verified
    await site.readmodels.catch_up()

    khdt = await browser("nv-so-khdt")
    done = await khdt.get("/viec-da-lam")
    assert done.status_code == 200
    rows = re.findall(
        r'<tr data-type="([a-z_]+)" data-done="(mine|answer)"><td>([^<]+)</td>'
        r"<td>(.*?)</td><td>([^<]*)</td></tr>",
        done.text,
    )
    kinds = {(t, d) for t, d, *_ in rows}
    assert ("pledge_signed", "mine") in kinds and ("self_score_submitted", "mine") in kinds
    assert ("score_verified", "mine") in kinds  # the deputy verified the head's score
    assert ("score_verified", "answer") in kinds  # and its own score was verified by the head
    assert all(re.fullmatch(r"\d\d:\d\d \d\d/\d{1,2}/\d{4}", at) for _, _, at, _, _ in rows)
    assert "Sở Kế hoạch và Đầu tư" in done.text and "so-khdt" not in done.text.split("<main")[1]
    assert (await admin.get("/viec-da-lam")).status_code == 403
    # at the end, what the cycle gave it
    await send_steps(site.cycles, sc, sc.steps[18:])
    done = await khdt.get("/viec-da-lam")
    assert re.search(
        r'data-type="cycle_completed" data-done="answer">.*?đơn vị được đề nghị '
        r"Bằng khen của Chủ tịch UBND tỉnh \(vị trí 2\)",
        done.text,
    )

    # the pledge closed by itself at the last signature: the system's act, not the signer's
    stream = await site.store.read_stream(_stream(site))
    closed = next(e for e in stream if e.type == "pledge_closed")
    signed = next(e for e in reversed(stream) if e.type == "pledge_signed")
    assert closed.actor["kind"] == "system" and signed.actor["kind"] == "unit"
    timeline = await admin.get(f"{BASE}/nhat-ky")
    row = re.search(r'<tr data-type="pledge_closed">.*?</tr>', timeline.text, re.S)
    assert row and "Hệ thống (tự động)" in row.group(0)
    assert 'data-verdict="recheck_ok"' in timeline.text
    # a moment typed as dd/mm/yyyy hh:mm (Vietnam time), whatever the browser's language
    later = await admin.get(f"{BASE}/nhat-ky", params={"thoi-diem": "01/01/2100 07:30"})
    assert later.status_code == 200 and 'value="01/01/2100 07:30"' in later.text
    bad = await admin.get(f"{BASE}/nhat-ky", params={"thoi-diem": "31/02/2019 10:00"})
    assert bad.status_code == 422 and 'data-code="invalid_moment"' in bad.text


def _stream(site: Services) -> str:
    from workflows.messages import cycle_key

    return cycle_key("kg-khoi-2", 2018, site.cycles.prefix)[1]
