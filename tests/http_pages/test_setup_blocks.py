"""The secretariat's block pages on the real stack: a new block one row at a time (errors next
to the field, in Vietnamese), its record by year and its changes, a province's workbook
previewed and confirmed."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from openpyxl import load_workbook

from app.blocks import BlockService
from app.bootstrap import Services
from app.province_setup import write_template
from domain.province_book import SHEET

from .conftest import Browser, csrf_of

pytestmark = [pytest.mark.db, pytest.mark.temporal]

BASE = "/quan-ly/khoi-thi-dua"


def new_form(csrf: str, tag: str, rows: list[tuple[str, str]], **extra: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf,
        "name": f"Khối thử {tag}",
        "id": "",
        "province": f"Tỉnh {tag}",
        "do": "register",
        **extra,
    }
    for i, (unit, name) in enumerate(rows):
        data[f"unit-{i}"], data[f"name-{i}"] = unit, name
    return data


async def test_the_secretariat_registers_a_block_and_changes_its_record(
    site: Services,
    browser: Browser,
) -> None:
    unit = await browser("nv-so-khdt")
    assert (await unit.get(BASE + "/moi")).status_code == 403
    admin = await browser("qt-admin")
    page = await admin.get(BASE + "/moi")
    assert page.status_code == 200 and "legend>Đơn vị 1<" in page.text
    csrf = csrf_of(page.text)
    tag = uuid.uuid4().hex[:6]

    r = await admin.post(BASE + "/moi", data=new_form(csrf, tag, [("a", "Đơn vị A")], do="add_row"))
    assert r.status_code == 200 and "legend>Đơn vị 2<" in r.text
    assert f'value="khoi-thu-{tag}"' in r.text  # the id suggested from the name

    rows = [(f"a-{tag}", "Sở A"), (f"b-{tag}", "Sở B"), ("Sai Mã", "Sở C")]
    r = await admin.post(BASE + "/moi", data=new_form(csrf, tag, rows, head="0", deputy="1"))
    assert r.status_code == 422
    assert re.search(r'id="err-unit-2" data-code="invalid_id" role="alert">Mã chưa hợp lệ', r.text)
    assert 'value="Sai Mã"' in r.text  # what was typed is kept

    rows[2] = (f"c-{tag}", "Sở C")
    r = await admin.post(BASE + "/moi", data=new_form(csrf, tag, rows, head="0", deputy="0"))
    assert r.status_code == 422 and 'data-code="head_is_deputy"' in r.text
    r = await admin.post(BASE + "/moi", data=new_form(csrf, tag, rows, head="0", deputy="1"))
    assert r.status_code == 303, r.text
    block = f"khoi-thu-{tag}"
    assert r.headers["location"] == f"{BASE}/{block}?da-gui=register_block"
    page = await admin.get(r.headers["location"])
    assert page.status_code == 200 and 'data-unit="c-' in page.text
    assert '<span data-role="head">Sở A</span>' in page.text

    # a second block of the province may not take a unit of the first
    other = [(f"x-{tag}", "Sở X"), (f"y-{tag}", "Sở Y"), (f"b-{tag}", "Sở B")]
    r = await admin.post(
        BASE + "/moi",
        data=new_form(csrf, tag, other, head="0", deputy="1", name=f"Khối khác {tag}"),
    )
    assert r.status_code == 409
    assert 'id="err-unit-2" data-code="unit_in_two_blocks"' in r.text

    url = f"{BASE}/{block}"
    r = await admin.post(
        url,
        data={
            "csrf_token": csrf,
            "do": "join",
            "unit": f"d-{tag}",
            "name": "Sở D",
            "from_year": "2020",
        },
    )
    assert r.status_code == 303, r.text
    r = await admin.post(
        url, data={"csrf_token": csrf, "do": "leave", "unit": f"c-{tag}", "after_year": "năm ngoái"}
    )
    assert r.status_code == 422 and 'id="err-leave-after_year" data-code="invalid_year"' in r.text
    r = await admin.post(
        url, data={"csrf_token": csrf, "do": "leave", "unit": f"c-{tag}", "after_year": "2019"}
    )
    assert r.status_code == 303
    r = await admin.post(
        url,
        data={
            "csrf_token": csrf,
            "do": "appoint",
            "year": "2020",
            "head": f"c-{tag}",
            "deputy": f"b-{tag}",
            "reason": "x",
        },
    )
    assert r.status_code == 409 and 'id="err-appoint-head" data-code="not_a_member"' in r.text
    r = await admin.post(
        url,
        data={
            "csrf_token": csrf,
            "do": "appoint",
            "year": "2020",
            "head": f"d-{tag}",
            "deputy": f"b-{tag}",
            "reason": "",
        },
    )
    assert r.status_code == 422 and 'id="err-appoint-reason" data-code="required"' in r.text
    r = await admin.post(
        url,
        data={
            "csrf_token": csrf,
            "do": "appoint",
            "year": "2020",
            "head": f"d-{tag}",
            "deputy": f"b-{tag}",
            "reason": "Sở A xin thôi",
        },
    )
    assert r.status_code == 303
    r = await admin.post(url, data={"csrf_token": csrf, "do": "rename", "name": "Khối mới"})
    assert r.status_code == 303

    page = await admin.get(url + "?nam=2020")
    assert "<h1>Khối mới</h1>" in page.text
    assert 'data-unit="d-' in page.text and f'data-unit="c-{tag}"' not in page.text
    assert '<span data-role="head">Sở D</span>' in page.text
    assert "chỉ định: Sở A xin thôi" in page.text
    state = await BlockService(site.store, site.pool, site.cycles).state(block)
    assert state.version == 5  # registered, joined, left, appointed, renamed


async def test_a_workbook_is_previewed_then_written_on_confirmation(
    site: Services,
    browser: Browser,
) -> None:
    admin = await browser("qt-admin")
    page = await admin.get(BASE)
    assert page.status_code == 200
    csrf = csrf_of(page.text)
    r = await admin.get(BASE + "/mau.xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"

    tag = uuid.uuid4().hex[:6]
    buf = io.BytesIO()
    write_template(buf, example=False)
    wb = load_workbook(io.BytesIO(buf.getvalue()))
    ws = wb[SHEET]
    for u, mark in (("a", "Khối trưởng"), ("b", "Khối phó"), ("c", "")):
        ws.append([f"Tỉnh {tag}", "", f"Khối bảng tính {tag}", f"{u}-{tag}", f"Sở {u}", mark])
    ws.append([f"Tỉnh {tag}", "", "", f"d-{tag}", "Sở d", ""])
    bad = io.BytesIO()
    wb.save(bad)
    r = await admin.post(
        BASE + "/nhap",
        data={"csrf_token": csrf, "year": "2019"},
        files={"file": ("khoi.xlsx", bad.getvalue())},
    )
    assert r.status_code == 422
    assert (
        'data-code="block_missing" data-row="5" data-column="C">Trang «Khối thi đua», '
        "dòng 5, cột C (Tên khối thi đua): Dòng này chưa ghi"
    ) in r.text
    assert "Xác nhận và ghi" not in r.text

    ws.delete_rows(5)
    good = io.BytesIO()
    wb.save(good)
    r = await admin.post(
        BASE + "/nhap",
        data={"csrf_token": csrf, "year": "2019"},
        files={"file": ("khoi.xlsx", good.getvalue())},
    )
    assert r.status_code == 200 and 'data-state="new"' in r.text
    block = f"khoi-bang-tinh-{tag}"
    service = BlockService(site.store, site.pool, site.cycles)
    assert await site.store.read_stream(service.stream(block)) == []  # a preview writes nothing
    form = {k: v for k, v in re.findall(r'name="(\w+)" value="([^"]*)"', r.text)}
    r = await admin.post(BASE + "/nhap/ghi", data={**form, "digest": "0" * 32})
    assert r.status_code == 409  # not what was shown: shown again, nothing written
    assert await site.store.read_stream(service.stream(block)) == []
    r = await admin.post(BASE + "/nhap/ghi", data=form)
    assert r.status_code == 303, r.text
    assert (await service.state(block)).leaders_in(2019) == (f"a-{tag}", f"b-{tag}")
    r = await admin.post(
        BASE + "/nhap",
        data={"csrf_token": csrf, "year": "2019"},
        files={"file": ("khoi.xlsx", good.getvalue())},
    )
    assert r.status_code == 200 and 'data-state="unchanged"' in r.text


async def test_a_scenario_upload_needs_no_steps_and_says_what_is_wrong_in_vietnamese(
    site: Services, browser: Browser
) -> None:
    import json

    from .conftest import REFERENCE

    admin = await browser("qt-admin")
    csrf = csrf_of((await admin.get("/quan-ly")).text)
    data = json.loads(REFERENCE.read_text("utf-8"))
    data.pop("steps")
    data.pop("expect")
    data["block"]["id"] = f"khong-buoc-{uuid.uuid4().hex[:6]}"
    broken = {k: v for k, v in data.items() if k != "block"}
    r = await admin.post(
        "/quan-ly",
        data={"csrf_token": csrf},
        files={"file": ("x.json", json.dumps(broken).encode(), "application/json")},
    )
    assert r.status_code == 422
    assert (
        'data-field="block" data-code="missing"><code>block</code>: Thiếu khối thi đua '
        "(block): đây là thông tin bắt buộc."
    ) in r.text
    assert "this key is required" not in r.text and "steps" not in r.text
    small = json.loads(json.dumps(data))
    small["block"]["members"] = small["block"]["members"][:2]
    r = await admin.post(
        "/quan-ly",
        data={"csrf_token": csrf},
        files={"file": ("x.json", json.dumps(small).encode(), "application/json")},
    )
    assert r.status_code == 422 and "Một khối thi đua cần ít nhất 3 đơn vị." in r.text

    r = await admin.post(
        "/quan-ly",
        data={"csrf_token": csrf},
        files={"file": ("x.json", json.dumps(data).encode(), "application/json")},
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith(f"/ky/{data['block']['id']}/2018")
