"""The secretariat sets up a block through the pages, in a real browser: the reference cycle's
8 units typed one row at a time (the block's id suggested from its name), head and deputy of
the first year chosen, and the block's record shown; an error stays next to its field."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import NAME, UNITS, Login, Shot, Stack, reference
from .helpers import go, sent

pytestmark = [pytest.mark.browser]


def test_the_secretariat_creates_a_block_of_eight_members_and_sees_its_record(
    stack: Stack, login: Login, shot: Shot
) -> None:
    block = reference()["block"]
    admin = login("admin")
    go(admin, "/quan-ly")
    admin.get_by_role("navigation", name="Trang chính").get_by_role(
        "link", name="Khối thi đua"
    ).click()
    admin.get_by_role("link", name="Đăng ký khối thi đua mới").click()
    form = admin.get_by_role("form", name="Đăng ký khối thi đua")
    form.get_by_label("Tên khối thi đua").fill(block["name"])
    form.get_by_label("Tỉnh, thành phố").fill(block["province"])
    for i, unit in enumerate(UNITS):
        row = form.get_by_role("group", name=f"Đơn vị {i + 1}", exact=True)
        row.get_by_label("Mã đơn vị").fill(unit)
        row.get_by_label("Tên đầy đủ").fill(NAME[unit])
        if unit == block["head"]:
            row.get_by_label("Khối trưởng", exact=True).check()
        if unit == block["deputy"]:
            row.get_by_label("Khối phó", exact=True).check()
        if i + 1 < len(UNITS):
            form.get_by_role("button", name="Thêm đơn vị").click()
            expect(form.get_by_role("group", name=f"Đơn vị {i + 2}", exact=True)).to_be_visible()
    # the id is suggested from the name once the form has come back
    expect(form.get_by_label("Mã khối")).to_have_value("khoi-thi-dua-so-2")
    shot(admin, "block-new")
    form.get_by_label("Mã khối").fill("kg khoi 2")
    form.get_by_role("button", name="Đăng ký khối thi đua").click()
    error = admin.locator('[data-code="invalid_id"]')
    expect(error).to_contain_text("Mã chưa hợp lệ")
    expect(admin.get_by_label("Tên đầy đủ").nth(7)).to_have_value(NAME[UNITS[7]])  # kept
    admin.get_by_label("Mã khối").fill(block["id"])
    admin.get_by_role("button", name="Đăng ký khối thi đua").click()

    sent(admin, "register_block")
    expect(admin.get_by_role("heading", name=block["name"], level=1)).to_be_visible()
    expect(admin.locator('[data-role="block_id"]')).to_have_text(block["id"])
    go(admin, f"/quan-ly/khoi-thi-dua/{block['id']}?nam=2018")
    rows = admin.get_by_role("table", name="Thành viên năm 2018").locator("tr[data-unit]")
    expect(rows).to_have_count(8)
    for unit in UNITS:
        expect(admin.locator(f'tr[data-unit="{unit}"] th')).to_have_text(NAME[unit])
    expect(admin.locator('[data-role="head"]')).to_have_text(NAME[block["head"]])
    expect(admin.locator('[data-role="deputy"]')).to_have_text(NAME[block["deputy"]])
    shot(admin, "block-record")
    stored = stack.sql("SELECT count(*) FROM events WHERE stream = 'block-' || $1", block["id"])
    assert stored[0][0] == 1  # one event: the block's registration
