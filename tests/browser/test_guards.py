"""What the pages refuse, in a real browser: another unit's form (the 403 page, nothing
written), an expired session (back to login, then back to the page, the cycle's state intact),
a page left open reloading itself when another unit acts (and not for the person's own act),
an over-maximum score (the rule's sentence next to the field, what was typed kept, nothing
written), a page of another origin framing the pages (shown nowhere) and the security headers
as the browser receives them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import UNITS, Login, Shot, Stack
from .helpers import (
    assert_security_headers,
    fill_sections,
    go,
    scenario_for,
    section_titles,
    self_score,
    sign,
    start_cycle,
)

pytestmark = [pytest.mark.browser, pytest.mark.temporal]

BLOCK = "kg-khoi-2"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scenarios")


@pytest.fixture
def admin(login: Login) -> Iterator[Page]:
    yield login("admin")


def test_a_units_person_cannot_open_or_post_another_units_form(
    stack: Stack, login: Login, admin: Page, folder: Path, shot: Shot
) -> None:
    base = start_cycle(admin, scenario_for(2019, folder))
    noi_vu = login("so-noi-vu")

    # the chair's console belongs to the head's and the deputy's people
    response = go(noi_vu, f"{base}/dieu-hanh")
    assert response is not None and response.status == 403
    expect(noi_vu.get_by_role("heading", name="Không có quyền truy cập")).to_be_visible()
    expect(noi_vu.locator("[data-code]").first).to_be_visible()
    # ... and says what the person may do instead
    expect(noi_vu.get_by_role("link", name="Xem việc cần làm của đơn vị mình")).to_be_visible()
    shot(noi_vu, "403")

    # the pledge form, posted for another unit (the form changed in the browser): refused
    before = stack.event_count(BLOCK, 2019)
    go(noi_vu, f"{base}/giao-uoc")
    noi_vu.get_by_label("Tôi xác nhận đơn vị cam kết thực hiện nội dung giao ước trên").check()
    noi_vu.evaluate("""() => {
        const form = document.querySelector('form[action$="/giao-uoc"]');
        const unit = document.createElement('input');
        unit.type = 'hidden'; unit.name = 'unit'; unit.value = 'so-khdt';
        form.appendChild(unit);
    }""")
    with noi_vu.expect_response(lambda r: r.request.method == "POST") as posted:
        noi_vu.get_by_role("button", name="Ký giao ước").click()
    assert posted.value.status == 403
    expect(noi_vu.get_by_role("heading", name="Không có quyền truy cập")).to_be_visible()
    assert stack.event_count(BLOCK, 2019) == before

    # the auditor's timeline is not a unit's page either
    response = go(noi_vu, f"{base}/nhat-ky")
    assert response is not None and response.status == 403
    assert stack.event_count(BLOCK, 2019) == before


def test_an_expired_session_goes_back_to_login_without_losing_the_cycles_state(
    stack: Stack, login: Login, folder: Path, shot: Shot
) -> None:
    base = "/ky/kg-khoi-2/2019"
    if stack.event_count(BLOCK, 2019) == 0:  # run alone: start the cycle here
        start_cycle(login("admin"), scenario_for(2019, folder))
    ngoai_vu = login("so-ngoai-vu")
    # "Ghi nhớ đăng nhập" not ticked: the session cookie ends with the browser
    [cookie] = [c for c in ngoai_vu.context.cookies() if c["name"] == "thidua_session"]
    assert cookie["expires"] == -1
    sign(ngoai_vu, base)
    # the page a person is left on after their own act stays put while the version it polls
    # (a read model, a moment behind the page) lags what it shows
    live = ngoai_vu.locator("[data-version-url]")
    shown = int(live.get_attribute("data-version") or 0)
    lagging = json.dumps({"version": shown - 1})
    ngoai_vu.route(
        "**/phien-ban",
        lambda route: route.fulfill(status=200, content_type="application/json", body=lagging),
    )
    ngoai_vu.evaluate("() => { window.thiduaMark = 1; }")
    # two polls: once the second is asked, the page has had the first's lagging answer
    for _ in range(2):
        with ngoai_vu.expect_request("**/phien-ban", timeout=30_000):
            pass
    assert ngoai_vu.evaluate("() => window.thiduaMark") == 1
    ngoai_vu.unroute("**/phien-ban")
    khdt = login("so-khdt")
    go(khdt, f"{base}/giao-uoc")
    khdt.get_by_label("Tôi xác nhận đơn vị cam kết thực hiện nội dung giao ước trên").check()
    before = stack.events(BLOCK, 2019)

    # the session ends while the person has the form open (idle longer than any timeout)
    stack.sql(
        "UPDATE sessions SET last_seen_at = last_seen_at - interval '30 days',"
        " created_at = created_at - interval '30 days' WHERE login = 'nv-so-khdt'"
    )
    khdt.get_by_role("button", name="Ký giao ước").click()
    khdt.wait_for_url(lambda u: "/dang-nhap" in u)
    expect(khdt.locator('[data-code="not_authenticated"]')).to_be_visible()
    shot(khdt, "login-expired")
    assert stack.events(BLOCK, 2019) == before  # nothing written, nothing lost

    # logging in again lands on the page the person was on; the cycle is as it was
    khdt.get_by_label("Tên đăng nhập").fill("nv-so-khdt")
    from .conftest import PASSWORD

    khdt.get_by_label("Mật khẩu").fill(PASSWORD)
    khdt.get_by_label("Ghi nhớ đăng nhập").check()
    khdt.get_by_role("button", name="Đăng nhập").click()
    khdt.wait_for_url(lambda u: u.endswith(f"{base}/giao-uoc"))
    # ticked: the cookie outlives the browser, for the session's absolute limit (12 h)
    [cookie] = [c for c in khdt.context.cookies() if c["name"] == "thidua_session"]
    assert cookie["expires"] > time.time() + 11 * 3600
    go(khdt, base)
    signed = khdt.locator('tr[data-unit="so-ngoai-vu"]')
    expect(signed).to_be_visible()
    sign(khdt, base)
    after = stack.events(BLOCK, 2019)
    assert after[: len(before)] == before
    assert [t for t, _ in after[len(before) :]] == ["pledge_signed"]

    # another unit acted: the first person's open page updates itself (a GET of the page, no
    # reload: the same document, its mark kept) and shows it
    expect(ngoai_vu.locator('tr[data-unit="so-khdt"]')).to_contain_text("Đã ký", timeout=20_000)
    assert ngoai_vu.evaluate("() => window.thiduaMark") == 1


def test_an_over_maximum_score_shows_the_field_error_and_writes_nothing(
    stack: Stack, login: Login, admin: Page, folder: Path, shot: Shot
) -> None:
    base = start_cycle(admin, scenario_for(2020, folder))
    pages = {u: login(u) for u in UNITS}
    for u in UNITS:
        sign(pages[u], base)
    vp = pages["vp-ubnd"]
    go(vp, f"{base}/tu-cham-diem")
    shot(vp, "self-score")
    before = stack.event_count(BLOCK, 2020)
    total = vp.locator("output[data-total-out]")
    fill_sections(vp, {"c1": "590", "c2": "198,5", "c3": "195"})
    expect(total).to_have_text("983,5")  # as app/words.py writes it
    fill_sections(vp, {"c1": "700"})
    # the running total refuses what the server refuses
    expect(total).to_have_attribute("data-valid", "0")
    with vp.expect_response(lambda r: r.request.method == "POST") as posted:
        vp.get_by_role("button", name="Gửi bản tự chấm điểm").click()
    # Post/Redirect/Get: the refusal is a redirect to the page showing it (409)
    assert posted.value.status == 303
    vp.wait_for_url(lambda u: "loi=" in u)
    title = section_titles()["c1"]
    field = vp.get_by_label(title, exact=True)
    error = vp.locator('[data-code="score_above_max"]')
    expect(error).to_be_visible()
    # next to its field: the field names the error, and what was typed is kept
    expect(field).to_have_attribute("aria-invalid", "true")
    assert field.get_attribute("aria-errormessage") == error.get_attribute("id")
    expect(field).to_have_value("700")
    expect(vp.get_by_label(section_titles()["c2"], exact=True)).to_have_value("198,5")
    shot(vp, "self-score-error")
    assert stack.event_count(BLOCK, 2020) == before

    # corrected, it is accepted
    self_score(vp, base, {"c1": "590", "c2": "198.5", "c3": "195"})
    assert stack.event_count(BLOCK, 2020) == before + 1


@pytest.fixture
def other_origin() -> Iterator[str]:
    """A page server of another origin (127.0.0.1, another port; stdlib http.server in a
    thread): `{url}/frame?src=URL` is a page that frames URL, `{url}/own` a page of its own."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/own":
                body = "<!doctype html><title>own</title><p id=own>trang của nơi khác</p>"
            else:
                frames = "".join(
                    f'<iframe title="{i}" src="{src}"></iframe>'
                    for i, src in enumerate(parse_qs(parts.query).get("src", []))
                )
                body = f"<!doctype html><title>framing</title>{frames}"
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_a_page_of_another_origin_cannot_frame_any_page(
    stack: Stack, login: Login, admin: Page, other_origin: str, csp_messages: list[str]
) -> None:
    from urllib.parse import urlencode

    # the person is logged in (this context's cookie would go with the framed requests)
    targets = [
        "/quan-ly",
        "/viec-can-lam",
        "/dang-nhap",
        "/ky/kg-khoi-2/2019",
        "/ky/khong-co/2019",
        "/session/me",
    ]
    urls = [stack.url + t for t in targets]
    own = f"{other_origin}/own"  # control: that origin's own page frames fine
    answered: dict[str, int] = {}
    admin.on("response", lambda r: answered.__setitem__(r.url, r.status))
    query = urlencode([("src", u) for u in [*urls, own]])
    admin.goto(f"{other_origin}/frame?{query}")
    admin.wait_for_load_state("load")

    frames = {f.url: f for f in admin.frames if f != admin.main_frame}
    assert own in frames
    expect(frames[own].locator("#own")).to_have_text("trang của nơi khác")
    # thidua answered every framed request (with the person's session: no login redirect) ...
    for url in urls:
        assert url in answered, url
    assert answered[stack.url + "/quan-ly"] == 200
    # ... and the browser showed none of it: no frame holds a thidua document
    for f in admin.frames:
        if f == admin.main_frame or f.url == own:
            continue
        assert not f.url.startswith(stack.url), f.url
        assert "Thi đua, khen thưởng" not in f.content()
        assert "csrf_token" not in f.content()
    # chromium said why, once per framed page: the policy's frame-ancestors
    refused = [m for m in csp_messages if "frame-ancestors 'none'" in m]
    assert len(refused) >= len(urls), csp_messages
    csp_messages.clear()  # expected here; any other page's violation still fails its test

    # the headers, as the browser receives them: a page, JSON, errors, a static file
    page = admin.goto(stack.url + "/quan-ly")
    assert page is not None and page.status == 200
    assert_security_headers(page.headers)
    for path, status in (
        ("/session/me", 200),
        ("/ky/khong-co/2019", 404),
        ("/cycles?year=abc", 422),
        ("/static/app.js", 200),
    ):
        r = admin.request.get(stack.url + path)
        assert r.status == status, (path, r.status)
        assert_security_headers(r.headers, cache="no-cache" if "/static/" in path else "no-store")
    noi_vu = login("so-noi-vu")
    refused = noi_vu.request.get(stack.url + "/ky/kg-khoi-2/2019/nhat-ky")
    assert refused.status == 403
    assert_security_headers(refused.headers)
