"""Steps the browser tests share: creating a block on the secretariat's pages, starting a cycle
by uploading a scenario file, signing the pledge and submitting a self-score through the pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Error, Locator, Page, Response, expect

from .conftest import REFERENCE, reference


def go(page: Page, url: str) -> Response | None:
    """page.goto, again when the page's own live update (it reloads itself when the cycle
    changes) interrupted it or won the race, leaving the browser on the page it was on.
    Chromium says so in two ways: "interrupted by another navigation", or the goto's request
    "net::ERR_ABORTED" when the reload cancelled it."""
    want = urlsplit(url).path
    for attempt in range(5):
        try:
            response = page.goto(url)
            settle(page)
        except Error as exc:
            lost = "interrupted by another navigation" in str(exc) or "net::ERR_ABORTED" in str(exc)
            if not lost or attempt == 4:
                raise
            page.wait_for_load_state()
            continue
        if urlsplit(page.url).path == want or attempt == 4:
            return response
    return None


def settle(page: Page) -> None:
    """Wait until the version the page polls (the read model's, a moment behind the cycle)
    has caught up with the version the page shows, so that the page does not reload itself
    under the test's hands."""
    live = page.locator("[data-version-url]")
    if live.count() == 0:
        return
    shown = int(live.get_attribute("data-version") or 0)
    url = live.get_attribute("data-version-url") or ""
    for _ in range(600):  # bounded: about a minute on a loaded machine
        polled = int(
            page.request.get(url, headers={"Accept": "application/json"}).json()["version"]
        )
        if polled >= shown:
            if polled > shown:
                page.reload()
                settle(page)
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the read model stayed behind version {shown} of {page.url}")


def new_block_form(admin: Page, block: dict[str, Any]) -> Locator:
    """The secretariat opens "Đăng ký khối thi đua mới" from the navigation and types `block`
    (the scenario format's `block` object) into it: name, province, then the members one row
    at a time with their full names, marking the head and the deputy of the first year. The id
    is left to the test; returns the form, not yet sent."""
    go(admin, "/quan-ly")
    admin.get_by_role("navigation", name="Trang chính").get_by_role(
        "link", name="Khối thi đua"
    ).click()
    admin.get_by_role("link", name="Đăng ký khối thi đua mới").click()
    form = admin.get_by_role("form", name="Đăng ký khối thi đua")
    form.get_by_label("Tên khối thi đua").fill(block["name"])
    form.get_by_label("Tỉnh, thành phố").fill(block["province"])
    members = block["members"]
    for i, unit in enumerate(members):
        row = form.get_by_role("group", name=f"Đơn vị {i + 1}", exact=True)
        row.get_by_label("Mã đơn vị").fill(unit["id"])
        row.get_by_label("Tên đầy đủ").fill(unit["name"])
        if unit["id"] == block["head"]:
            row.get_by_label("Khối trưởng", exact=True).check()
        if unit["id"] == block["deputy"]:
            row.get_by_label("Khối phó", exact=True).check()
        if i + 1 < len(members):
            form.get_by_role("button", name="Thêm đơn vị").click()
            expect(form.get_by_role("group", name=f"Đơn vị {i + 2}", exact=True)).to_be_visible()
    return form


def expect_block_record(admin: Page, block: dict[str, Any], year: int) -> None:
    """The block's record page for `year` lists `block`'s members by full name, its head and
    its deputy."""
    go(admin, f"/quan-ly/khoi-thi-dua/{block['id']}?nam={year}")
    rows = admin.get_by_role("table", name=f"Thành viên năm {year}").locator("tr[data-unit]")
    expect(rows).to_have_count(len(block["members"]))
    for unit in block["members"]:
        expect(admin.locator(f'tr[data-unit="{unit["id"]}"] th')).to_have_text(unit["name"])
    name = {m["id"]: m["name"] for m in block["members"]}
    expect(admin.locator('[data-role="head"]')).to_have_text(name[block["head"]])
    expect(admin.locator('[data-role="deputy"]')).to_have_text(name[block["deputy"]])


def scenario_for(year: int, folder: Path) -> Path:
    """The reference scenario file moved to another year (its dates shifted alike)."""
    text = REFERENCE.read_text("utf-8")
    d = year - 2018
    if d:
        text = text.replace('"2019-', f'"{2019 + d}-').replace('"2018-', f'"{2018 + d}-')
    data = json.loads(text)
    data["year"] = year
    path = folder / f"kg-khoi-2-{year}.json"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path


def start_cycle(admin: Page, file: Path) -> str:
    """The secretariat starts a cycle by uploading a scenario-format file; returns its base path."""
    data = json.loads(file.read_text("utf-8"))
    go(admin, "/quan-ly")
    form = admin.get_by_role("form", name="Khởi tạo kỳ thi đua", exact=True)
    form.get_by_label("Tệp kỳ thi đua").set_input_files(str(file))
    form.get_by_role("button", name="Khởi tạo kỳ thi đua").click()
    base = f"/ky/{data['block']['id']}/{data['year']}"
    admin.wait_for_url(lambda u: base in u)
    return base


def sign(page: Page, base: str) -> None:
    go(page, f"{base}/giao-uoc")
    page.get_by_label("Tôi xác nhận đơn vị cam kết thực hiện nội dung giao ước trên").check()
    page.get_by_role("button", name="Ký giao ước").click()
    sent(page, "sign_pledge")


def section_titles() -> dict[str, str]:
    return {s["id"]: s["title"] for s in reference()["score_sheet"]["sections"]}


def fill_sections(scope: Any, sections: dict[str, str]) -> None:
    """One field per section, labelled by the section's title; typed as a person would
    (decimal comma)."""
    titles = section_titles()
    for sid, value in sections.items():
        scope.get_by_label(titles[sid], exact=True).fill(value.replace(".", ","))


def self_score(page: Page, base: str, sections: dict[str, str]) -> None:
    go(page, f"{base}/tu-cham-diem")
    for _ in range(200):  # the pledge closes as the last unit signs: the form follows
        if page.get_by_role("button", name="Gửi bản tự chấm điểm").count():
            break
        page.wait_for_timeout(300)
        go(page, f"{base}/tu-cham-diem")
    fill_sections(page, sections)
    page.get_by_role("button", name="Gửi bản tự chấm điểm").click()
    sent(page, "submit_self_score")


def sent(page: Page, do: str) -> None:
    """The page after a form was accepted says so (`data-sent` names the command)."""
    expect(page.locator(f'[data-sent="{do}"]')).to_be_visible()


def assert_security_headers(headers: dict[str, str], *, cache: str = "no-store") -> None:
    """The headers every response carries (app/http/headers.py), as the browser received them."""
    csp = headers.get("content-security-policy", "")
    for d in (
        "default-src 'self'",
        "script-src 'self';",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ):
        assert d in csp, (d, csp)
    assert headers.get("x-frame-options") == "DENY", headers
    assert headers.get("x-content-type-options") == "nosniff", headers
    assert headers.get("referrer-policy") == "same-origin", headers
    assert headers.get("cache-control") == cache, headers
    assert "strict-transport-security" not in headers, headers  # plain http here
