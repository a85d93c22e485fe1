"""The pages driven like a browser (cookies, HTML forms with the CSRF token) on the real stack:
the person's actions go through the same cycle client as the JSON API; a refused form writes
nothing and keeps what was typed."""

from __future__ import annotations

import httpx
import pytest

from app.bootstrap import Services
from workflows.messages import cycle_key

from .conftest import PASSWORD, REFERENCE, Browser, csrf_of

pytestmark = pytest.mark.temporal

BASE = "/ky/kg-khoi-2/2018"


async def start_reference(admin: httpx.AsyncClient) -> None:
    page = await admin.get("/quan-ly")
    assert page.status_code == 200, page.text
    r = await admin.post(
        "/quan-ly",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("kg.json", REFERENCE.read_bytes(), "application/json")},
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith(BASE)


async def post(c: httpx.AsyncClient, path: str, data: dict[str, object]) -> httpx.Response:
    page = await c.get(path)
    assert page.status_code == 200, page.text
    return await c.post(path, data={"csrf_token": csrf_of(page.text), **data})


async def events(site: Services) -> int:
    return await site.store.head(cycle_key("kg-khoi-2", 2018, site.cycles.prefix)[1])


async def test_login_tasks_sign_and_score_through_the_pages(
    browser: Browser, site: Services
) -> None:
    admin = await browser("qt-admin")
    await start_reference(admin)
    await site.readmodels.catch_up()

    khdt = await browser("nv-so-khdt")
    tasks = await khdt.get("/viec-can-lam")
    assert tasks.status_code == 200
    assert '<html lang="vi">' in tasks.text
    assert 'data-action="sign_pledge"' in tasks.text and f"{BASE}/giao-uoc" in tasks.text

    # without the confirmation: refused, nothing written
    before = await events(site)
    r = await post(khdt, f"{BASE}/giao-uoc", {"do": "sign_pledge"})
    assert r.status_code == 409 and 'data-code="confirm_required"' in r.text
    assert await events(site) == before
    r = await post(khdt, f"{BASE}/giao-uoc", {"do": "sign_pledge", "confirm": "1"})
    assert r.status_code == 303, r.text
    assert await events(site) == before + 1
    tasks = await khdt.get("/viec-can-lam")
    assert 'data-action="sign_pledge"' not in tasks.text

    # another unit's form: refused with the 403 page, nothing written
    r = await post(
        khdt, f"{BASE}/giao-uoc", {"do": "sign_pledge", "confirm": "1", "unit": "so-noi-vu"}
    )
    assert r.status_code == 403 and "Không có quyền truy cập" in r.text
    assert await events(site) == before + 1

    # the chair closes the pledge from the console
    head = await browser("nv-so-ngoai-vu")
    # early (1/8 signed): the confirm step names the consequence, writes nothing
    before = await events(site)
    r = await post(head, f"{BASE}/dieu-hanh", {"do": "close_pledge"})
    assert r.history[0].status_code == 303 and "loi=" in r.history[0].headers["location"]
    assert r.status_code == 200 and 'data-code="confirm_needed"' in r.text
    assert "1/8 đơn vị đã ký; 7 đơn vị sẽ không đủ điều kiện suy tôn" in r.text
    assert "Xác nhận: Kết thúc ký giao ước" in r.text
    # confirmed without a reason: refused next to the reason, still the confirm step
    r = await post(head, f"{BASE}/dieu-hanh", {"do": "close_pledge", "confirm": "1"})
    assert r.status_code == 409 and 'data-code="reason_required"' in r.text
    assert "Xác nhận: Kết thúc ký giao ước" in r.text
    assert await events(site) == before
    r = await post(
        head,
        f"{BASE}/dieu-hanh",
        {"do": "close_pledge", "confirm": "1", "note": "Hết thời gian ký"},
    )
    assert r.status_code == 303, r.text
    closed = (await site.store.read_stream(cycle_key("kg-khoi-2", 2018, site.cycles.prefix)[1]))[
        before:
    ]
    assert [(e.type, e.data.get("note")) for e in closed] == [("pledge_closed", "Hết thời gian ký")]

    # an over-maximum score: the field's sentence, what was typed kept, nothing written
    before = await events(site)
    form = {
        "do": "submit_self_score",
        "sections.c1": "650",
        "sections.c2": "180,5",
        "sections.c3": "190",
    }
    r = await post(khdt, f"{BASE}/tu-cham-diem", form)
    assert r.status_code == 409, r.text
    assert 'data-code="score_above_max"' in r.text
    assert "Điểm vượt quá điểm tối đa của nội dung (600)." in r.text
    assert 'value="180,5"' in r.text and 'value="650"' in r.text
    assert await events(site) == before
    form["sections.c1"] = "583,25"
    r = await post(khdt, f"{BASE}/tu-cham-diem", form)
    assert r.status_code == 303, r.text
    assert await events(site) == before + 1

    # the console shows the self-score for the head's verification
    console = await head.get(f"{BASE}/dieu-hanh")
    assert "Thẩm định điểm của Sở Kế hoạch và Đầu tư" in console.text
    assert "953,75" in console.text

    # the chair's console is not the deputy-less unit's
    other = await browser("nv-so-noi-vu")
    assert (await other.get(f"{BASE}/dieu-hanh")).status_code == 403


async def test_no_session_goes_to_login_and_back(browser: Browser, site: Services) -> None:
    app_client = await browser("qt-admin")
    await start_reference(app_client)
    anon = httpx.AsyncClient(
        transport=app_client._transport, base_url="http://thidua", headers={"Accept": "text/html"}
    )
    r = await anon.get(f"{BASE}/giao-uoc")
    assert r.status_code == 303
    assert r.headers["location"].startswith("/dang-nhap?het-han=1&tiep=")
    r = await anon.post(f"{BASE}/giao-uoc", data={"do": "sign_pledge", "confirm": "1"})
    assert r.status_code == 303 and r.headers["location"].startswith("/dang-nhap")
    await anon.aclose()


async def test_pages_of_a_live_cycle_and_a_forged_form(browser: Browser, site: Services) -> None:
    admin = await browser("qt-admin")
    await start_reference(admin)
    await site.readmodels.catch_up()
    listing = await admin.get("/quan-ly")
    assert 'data-cycle="kg-khoi-2/2018"' in listing.text and "Ký giao ước" in listing.text
    khdt = await browser("nv-so-khdt")
    overview = await khdt.get(BASE)
    assert overview.status_code == 200
    assert "<title>Kỳ thi đua – " in overview.text and 'aria-current="step"' in overview.text
    v1 = (await khdt.get(f"{BASE}/phien-ban")).json()["version"]
    assert v1 >= 1
    # a form without the session's CSRF token: the 403 page, nothing written
    before = await events(site)
    r = await khdt.post(
        f"{BASE}/giao-uoc", data={"do": "sign_pledge", "confirm": "1", "csrf_token": "forged"}
    )
    assert r.status_code == 403 and 'data-code="csrf_failed"' in r.text
    assert await events(site) == before
    r = await post(khdt, f"{BASE}/giao-uoc", {"do": "sign_pledge", "confirm": "1"})
    assert r.status_code == 303
    assert (await khdt.get(f"{BASE}/phien-ban")).json()["version"] == v1 + 1
    # the secretariat: a broken scenario file is refused with every problem named
    page = await admin.get("/quan-ly")
    r = await admin.post(
        "/quan-ly",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("x.json", b'{"format": 1, "block": {}}', "application/json")},
    )
    assert r.status_code == 422 and 'data-code="invalid_scenario"' in r.text
    # cancel needs a reason
    r = await post(admin, f"{BASE}/quan-ly", {"do": "cancel_cycle", "reason": "  "})
    assert r.status_code == 409 and 'data-code="reason_required"' in r.text
    # logout ends the session: the next page goes to login
    page = await khdt.get("/viec-can-lam")
    r = await khdt.post("/dang-xuat", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303 and r.headers["location"] == "/dang-nhap"
    r = await khdt.get("/viec-can-lam")
    assert r.status_code == 303 and r.headers["location"].startswith("/dang-nhap")


async def test_an_expired_session_goes_to_login_and_back_to_the_same_page(
    browser: Browser, site: Services
) -> None:
    admin = await browser("qt-admin")
    await start_reference(admin)
    khdt = await browser("nv-so-khdt")
    r = await post(khdt, f"{BASE}/giao-uoc", {"do": "sign_pledge", "confirm": "1"})
    assert r.status_code == 303
    version = await events(site)
    await site.pool.execute("UPDATE sessions SET last_seen_at = last_seen_at - interval '1 day'")
    page = await khdt.get(f"{BASE}/tu-cham-diem")
    assert page.status_code == 303
    login_url = page.headers["location"]
    assert login_url == "/dang-nhap?het-han=1&tiep=%2Fky%2Fkg-khoi-2%2F2018%2Ftu-cham-diem"
    form = await khdt.get(login_url)
    assert 'data-code="not_authenticated"' in form.text
    r = await khdt.post(
        "/dang-nhap",
        data={
            "login": "nv-so-khdt",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "tiep": "/ky/kg-khoi-2/2018/tu-cham-diem",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == f"{BASE}/tu-cham-diem"
    assert await events(site) == version  # the cycle's state is untouched
    overview = await khdt.get(BASE)
    assert overview.status_code == 200
    assert (
        '<tr data-unit="so-khdt"><th scope="row">Sở Kế hoạch và Đầu tư (Khối phó)</th>\n<td>Đã ký'
        in overview.text
    )
    # a login page never sends the person to another site
    form = await khdt.get("/dang-nhap")
    r = await khdt.post(
        "/dang-nhap",
        data={
            "login": "nv-so-khdt",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "tiep": "//evil.example/x",
        },
    )
    assert r.headers["location"] == "/"
