"""Issue 20's forms in chromium: a refused form is never sent again (Post/Redirect/Get; the live
check fetches the page with GET), the live check keeps what a person has typed, the chair is
asked before closing the pledge early (and nothing changes when the chair declines), and the
self-score form names every wrong field at once, its running total refusing what the server
refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Request, expect

from .conftest import NAME, REFERENCE, UNITS, Login, Shot, Stack, reference
from .helpers import go, scenario_for, section_titles, sent, start_cycle

pytestmark = [pytest.mark.browser, pytest.mark.temporal]

BLOCK, YEAR = "kg-khoi-2", 2018
BASE = f"/ky/{BLOCK}/{YEAR}"
HEAD = reference()["block"]["head"]


def posts_of(page: Page) -> list[str]:
    """Every POST the page's browser sends from now on (Playwright's request events)."""
    seen: list[str] = []

    def note(r: Request) -> None:
        if r.method == "POST":
            seen.append(r.url)

    page.on("request", note)
    return seen


def shown_version(page: Page) -> int:
    return int(page.locator("[data-version-url]").get_attribute("data-version") or 0)


def updated_past(page: Page, version: int) -> None:
    """Bounded wait until the page's live check has put a newer version of the page in place."""
    page.wait_for_function(
        "v => Number(document.querySelector('[data-version-url]').dataset.version) > v",
        arg=version,
        timeout=60_000,
    )


def test_forms_ask_first_refuse_once_and_keep_what_was_typed(
    stack: Stack, login: Login, shot: Shot
) -> None:
    admin = login("admin")
    assert start_cycle(admin, REFERENCE) == BASE
    units = [u for u in NAME if u != HEAD]
    first, second = units[0], units[1]

    # 1. a refused post (the confirmation not ticked), then another unit acts: one POST only
    a = login(first)
    go(a, f"{BASE}/giao-uoc")
    events = stack.event_count(BLOCK, YEAR)
    posts = posts_of(a)
    a.get_by_role("button", name="Ký giao ước").click()
    a.wait_for_url(lambda u: "loi=" in u)
    expect(a.locator('[data-code="confirm_required"]').first).to_be_visible()
    # the errors are on top, focused; the field's error beside it
    expect(a.locator("#form-errors")).to_be_focused()
    before = shown_version(a)
    b = login(second)
    go(b, f"{BASE}/giao-uoc")
    b.get_by_label("Tôi xác nhận đơn vị cam kết thực hiện nội dung giao ước trên").check()
    b.get_by_role("button", name="Ký giao ước").click()
    sent(b, "sign_pledge")
    updated_past(a, before)
    assert posts == [f"{stack.url}{BASE}/giao-uoc"]
    assert stack.event_count(BLOCK, YEAR) == events + 1  # the one signature

    # 2. closing the pledge with 1/8 signed asks first; declined, nothing changes
    head = login(HEAD)
    go(head, f"{BASE}/dieu-hanh")
    head.get_by_role("button", name="Kết thúc ký giao ước", exact=True).click()
    ask = head.locator("[data-consequence]")
    expect(ask).to_contain_text("1/8 đơn vị đã ký; 7 đơn vị sẽ không đủ điều kiện suy tôn")
    shot(head, "console-confirm")
    head.get_by_role("link", name="Không, quay lại").click()
    head.wait_for_url(lambda u: "loi=" not in u)
    expect(head.locator("[data-consequence]")).to_have_count(0)
    expect(head.locator('[data-stage="pledge"]')).to_be_visible()
    assert stack.event_count(BLOCK, YEAR) == events + 1
    # confirmed, the reason is required and recorded in the event
    head.get_by_role("button", name="Kết thúc ký giao ước", exact=True).click()
    # (the browser asks for it first; the server refuses without it: tests/http_pages)
    expect(head.get_by_label("Lý do (bắt buộc)")).to_have_attribute("required", "")
    head.get_by_label("Lý do (bắt buộc)").fill("Quá hạn ký giao ước")
    head.get_by_role("button", name="Xác nhận: Kết thúc ký giao ước").click()
    sent(head, "close_pledge")
    closed = [d for t, d in stack.events(BLOCK, YEAR) if t == "pledge_closed"]
    assert closed == [
        {
            "type": "pledge_closed",
            "reason": "closed_by_head",
            "note": "Quá hạn ký giao ước",
            "unsigned": [u for u in NAME if u != second],
        }
    ]

    # 4. the running total refuses what the server refuses; three wrong fields, three errors
    go(b, f"{BASE}/tu-cham-diem")
    titles = list(section_titles().values())
    posts = posts_of(b)
    total = b.locator("output[data-total-out]")
    for value in ("abc", "-1", "200,5", "10,123"):
        b.get_by_label(titles[2], exact=True).fill(value)
        expect(total).to_have_attribute("data-valid", "0")
    b.get_by_label(titles[0], exact=True).fill("abc")
    b.get_by_label(titles[1], exact=True).fill("-1")
    b.get_by_label(titles[2], exact=True).fill("250")
    expect(total).to_contain_text("3 ô chưa hợp lệ")
    b.get_by_role("button", name="Gửi bản tự chấm điểm").click()
    b.wait_for_url(lambda u: "loi=" in u)
    for code in ("not_a_number", "score_negative", "score_above_max"):
        expect(b.locator(f'form [data-code="{code}"]')).to_have_count(1)
    expect(b.locator("#form-errors li")).to_have_count(3)
    shot(b, "self-score-three-errors")
    assert len(posts) == 1

    # 1. an official keeps a typed score while the page updates: the chair types a verified
    # score; the unit sends its self-score again meanwhile; the console updates around it
    for title, value in zip(titles, ("500", "150", "150"), strict=True):
        b.get_by_label(title, exact=True).fill(value)
    b.get_by_role("button", name="Gửi bản tự chấm điểm").click()
    sent(b, "submit_self_score")
    go(head, f"{BASE}/dieu-hanh")
    verify = head.get_by_role("form", name=f"Thẩm định điểm của {NAME[second]}")
    field = verify.get_by_label(titles[0], exact=True)
    field.fill("512,5")
    before = shown_version(head)
    go(b, f"{BASE}/tu-cham-diem")
    b.get_by_label(titles[1], exact=True).fill("160")
    b.get_by_role("button", name="Gửi bản tự chấm điểm").click()
    sent(b, "submit_self_score")
    updated_past(head, before)
    expect(field).to_have_value("512,5")
    expect(field).to_be_focused()
    posts = posts_of(head)
    assert posts == []  # the update sent nothing


def act(page: Page, base: str, body: dict[str, Any]) -> None:
    """A command through the JSON API with the page's session (its CSRF token in the header)."""
    token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    block, year = base.split("/")[2:4]
    r = page.request.post(
        f"/cycles/{block}/{year}/commands",
        data=body,
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
    assert r.ok, (body, r.status, r.text()[:500])


CHAIR_BUTTONS = (
    "Kết thúc ký giao ước",
    "Kết thúc chấm điểm",
    "Ghi nhận hội nghị tổng kết",
    "Kết thúc xét điều kiện",
    "Điều chỉnh điểm",
    "Xác định thứ tự đồng điểm",
    "Mở vòng bỏ phiếu",
    "Kết thúc vòng bỏ phiếu",
    "Khối trưởng, Khối phó quyết định",
    "Mở bầu Khối trưởng, Khối phó",
    "Kết thúc bầu",
)


def no_act_shown(page: Page, base: str) -> None:
    go(page, f"{base}/dieu-hanh")
    expect(page.locator("[data-agenda][aria-current=step]")).to_have_count(1)
    expect(page.locator("[data-no-acts]")).to_be_visible()
    for name in CHAIR_BUTTONS:
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    expect(page.locator("main form[method=post]")).to_have_count(0)


def test_the_console_of_the_head_that_no_longer_chairs_shows_no_act_it_cannot_do(
    stack: Stack, login: Login, tmp_path: Path, shot: Shot
) -> None:
    """The head unit absent from the conference: the deputy chairs from then on (DOMAIN.md).
    The head's console shows the agenda and no act: none of the chair's buttons, no form —
    while the deputy's console has them. The steps before go through the JSON API."""
    file = scenario_for(2021, tmp_path)
    sc = json.loads(file.read_text("utf-8"))
    base = start_cycle(login("admin"), file)
    deputy = sc["block"]["deputy"]
    people = {u: login(u) for u in UNITS}
    for u in UNITS:
        go(people[u], base)
        act(people[u], base, {"do": "sign_pledge", "unit": u})
    scores = {s["unit"]: s["sections"] for s in sc["steps"] if s["do"] == "submit_self_score"}
    for u in UNITS:
        act(people[u], base, {"do": "submit_self_score", "unit": u, "sections": scores[u]})
    for u in UNITS:
        verifier = deputy if u == HEAD else HEAD
        act(people[verifier], base, {"do": "verify_score", "unit": u, "sections": scores[u]})
    act(people[HEAD], base, {"do": "close_scoring"})
    held = next(s["held_on"] for s in sc["steps"] if s["do"] == "hold_review")
    act(
        people[HEAD],
        base,
        {
            "do": "hold_review",
            "held_on": held,
            "present": [u for u in UNITS if u != HEAD],
            "absent": [{"unit": HEAD, "with_notice": True, "written_opinion": False}],
        },
    )

    # the discipline stage, chaired by the deputy: the head sees no act; the deputy does
    no_act_shown(people[HEAD], base)
    shot(people[HEAD], "console-not-chair")
    go(people[deputy], f"{base}/dieu-hanh")
    expect(
        people[deputy].get_by_role("button", name="Kết thúc xét điều kiện", exact=True)
    ).to_be_visible()
    shot(people[deputy], "console-chair")
    act(people[deputy], base, {"do": "close_discipline_check"})
    # the vote stage: no "Mở vòng bỏ phiếu" for the head either
    no_act_shown(people[HEAD], base)
    go(people[deputy], f"{base}/dieu-hanh")
    expect(
        people[deputy].get_by_role("button", name="Mở vòng bỏ phiếu", exact=True)
    ).to_be_visible()
