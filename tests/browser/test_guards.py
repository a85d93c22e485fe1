"""What the pages refuse, in a real browser: another unit's form (the 403 page, nothing
written), an expired session (back to login, then back to the page, the cycle's state intact),
a page left open reloading itself when another unit acts (and not for the person's own act),
an over-maximum score (the rule's sentence next to the field, what was typed kept, nothing
written)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import UNITS, Login, Shot, Stack
from .helpers import fill_sections, go, scenario_for, section_titles, self_score, sign, start_cycle

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
    sign(ngoai_vu, base)
    # the page a person is left on after their own act stays put while the version it polls
    # (a read model, a moment behind the page) lags what it shows
    live = ngoai_vu.locator("[data-version-url]")
    shown = int(live.get_attribute("data-version") or 0)
    lagging = json.dumps({"version": shown - 1})
    ngoai_vu.route("**/phien-ban", lambda route: route.fulfill(
        status=200, content_type="application/json", body=lagging))
    ngoai_vu.evaluate("() => { window.thiduaMark = 1; }")
    ngoai_vu.wait_for_timeout(4500)  # longer than one poll (3 s)
    assert ngoai_vu.evaluate("() => window.thiduaMark") == 1
    ngoai_vu.unroute("**/phien-ban")
    khdt = login("so-khdt")
    go(khdt, f"{base}/giao-uoc")
    khdt.get_by_label("Tôi xác nhận đơn vị cam kết thực hiện nội dung giao ước trên").check()
    before = stack.events(BLOCK, 2019)

    # the session ends while the person has the form open (idle longer than any timeout)
    stack.sql("UPDATE sessions SET last_seen_at = last_seen_at - interval '30 days',"
              " created_at = created_at - interval '30 days' WHERE login = 'nv-so-khdt'")
    khdt.get_by_role("button", name="Ký giao ước").click()
    khdt.wait_for_url(lambda u: "/dang-nhap" in u)
    expect(khdt.locator('[data-code="not_authenticated"]')).to_be_visible()
    shot(khdt, "login-expired")
    assert stack.events(BLOCK, 2019) == before  # nothing written, nothing lost

    # logging in again lands on the page the person was on; the cycle is as it was
    khdt.get_by_label("Tên đăng nhập").fill("nv-so-khdt")
    from .conftest import PASSWORD
    khdt.get_by_label("Mật khẩu").fill(PASSWORD)
    khdt.get_by_role("button", name="Đăng nhập").click()
    khdt.wait_for_url(lambda u: u.endswith(f"{base}/giao-uoc"))
    go(khdt, base)
    signed = khdt.locator('tr[data-unit="so-ngoai-vu"]')
    expect(signed).to_be_visible()
    sign(khdt, base)
    after = stack.events(BLOCK, 2019)
    assert after[: len(before)] == before
    assert [t for t, _ in after[len(before):]] == ["pledge_signed"]

    # another unit acted: the first person's open page reloads itself and shows it
    ngoai_vu.wait_for_function("() => window.thiduaMark === undefined", timeout=20_000)
    expect(ngoai_vu.locator('tr[data-unit="so-khdt"]')).to_contain_text("Đã ký")


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
    fill_sections(vp, {"c1": "700", "c2": "198,5", "c3": "195"})
    expect(vp.locator("output[data-total-out]")).to_have_text("1.093,5")  # as app/words.py writes it
    with vp.expect_response(lambda r: r.request.method == "POST") as posted:
        vp.get_by_role("button", name="Gửi bản tự chấm điểm").click()
    assert posted.value.status == 409
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
