"""A unit fills its self-score from the score sheet's .xlsx template, through the pages: the
template is downloaded, filled (as a person does in Excel, openpyxl here), uploaded; the form
comes back filled, nothing is written until it is sent; a wrong file names each wrong cell in
Vietnamese and never repeats what the cell holds."""

from __future__ import annotations

from io import BytesIO

import httpx
import pytest
from openpyxl import load_workbook

from app.bootstrap import Services

from .conftest import Browser, csrf_of
from .test_pages import BASE, events, post, start_reference

pytestmark = pytest.mark.temporal

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def upload(c: httpx.AsyncClient, data: bytes) -> httpx.Response:
    page = await c.get(f"{BASE}/tu-cham-diem")
    return await c.post(
        f"{BASE}/tu-cham-diem/tep",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("diem.xlsx", data, XLSX)},
    )


def filled(template: bytes, values: dict[str, object], drop: str | None = None) -> bytes:
    wb = load_workbook(BytesIO(template))
    ws = wb["Tự chấm điểm"]
    for row in ws.iter_rows(min_row=6):
        sid = row[0].value
        if sid in values:
            row[3].value = values[sid]
        if sid == drop:
            row[0].value = "ma-sai-zz"
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


async def test_a_unit_fills_its_self_score_from_the_template(
    browser: Browser, site: Services
) -> None:
    admin = await browser("qt-admin")
    await start_reference(admin)
    await site.readmodels.catch_up()
    khdt = await browser("nv-so-khdt")
    r = await post(khdt, f"{BASE}/giao-uoc", {"do": "sign_pledge", "confirm": "1"})
    assert r.status_code == 303, r.text
    head = await browser("nv-so-ngoai-vu")
    closed = await post(
        head, f"{BASE}/dieu-hanh", {"do": "close_pledge", "confirm": "1", "note": "Đủ để thử mẫu"}
    )
    assert closed.status_code == 303, closed.text

    page = await khdt.get(f"{BASE}/tu-cham-diem")
    assert 'data-download="score_template"' in page.text
    got = await khdt.get(f"{BASE}/tu-cham-diem/mau.xlsx")
    assert got.status_code == 200 and got.headers["content-type"] == XLSX
    template = got.content
    ws = load_workbook(BytesIO(template))["Tự chấm điểm"]
    assert [ws[f"A{r}"].value for r in (6, 7, 8, 9)] == ["c1", "c2", "c3", "Tổng"]
    assert ws["B3"].value == "Sở Kế hoạch và Đầu tư"

    # filled: the form comes back with the scores in its fields; nothing is written
    before = await events(site)
    r = await upload(khdt, filled(template, {"c1": "583,25", "c2": 180.5, "c3": 190}))
    assert r.status_code == 200, r.text
    assert 'data-code="template_filled"' in r.text
    for value in ("583,25", "180,5", "190"):
        assert f'value="{value}"' in r.text, value
    assert await events(site) == before

    # wrong cells: each named, with the rule, never with what it holds
    bad = filled(template, {"c1": 650, "c2": "chín mươi"}, drop="c3")
    r = await upload(khdt, bad)
    assert r.status_code == 422
    assert 'data-code="invalid_template"' in r.text
    assert "Ô D6 (Nội dung 1): vượt quá điểm tối đa 600." in r.text
    assert "Ô D7 (Nội dung 2): phải là một số." in r.text
    assert "Ô A8: mã nội dung không có trong bảng điểm của kỳ thi đua." in r.text
    assert "Thiếu dòng của Nội dung 3" in r.text
    assert "chín mươi" not in r.text and "ma-sai-zz" not in r.text
    r = await upload(khdt, b"PK\x03\x04 not really a workbook")
    assert r.status_code == 422
    assert "Tệp không phải bảng tính Excel (.xlsx) theo mẫu tự chấm điểm." in r.text
    assert await events(site) == before

    # the filled form is sent as any other
    form = {
        "do": "submit_self_score",
        "sections.c1": "583,25",
        "sections.c2": "180,5",
        "sections.c3": "190",
    }
    assert (await post(khdt, f"{BASE}/tu-cham-diem", form)).status_code == 303
    assert await events(site) == before + 1
    # the template then carries the unit's own scores; the secretariat has no template
    again = load_workbook(BytesIO((await khdt.get(f"{BASE}/tu-cham-diem/mau.xlsx")).content))
    assert again["Tự chấm điểm"]["D6"].value == 583.25
    assert (await admin.get(f"{BASE}/tu-cham-diem/mau.xlsx")).status_code == 403
