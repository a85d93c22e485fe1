"""The secretariat's setup pages on the real stack: the score sheet's .xlsx upload (a preview,
nothing saved until the form is sent; each wrong cell named) and the ruleset's form."""

from __future__ import annotations

import io
import re
from fractions import Fraction

import pytest
from openpyxl import load_workbook

from app.bootstrap import Services
from app.sheets import SetupStore
from domain.setup import Ruleset
from domain.setup_events import rulesets_stream, sheets_stream
from tests.setup.test_sheets import filled_template, reference_json

from .conftest import Browser, csrf_of

pytestmark = pytest.mark.temporal

PROVINCE = "Tỉnh Thử Nghiệm"


def _form_fields(html: str) -> dict[str, str]:
    """The text inputs and selected options of the sheet's form, as a browser would send them."""
    form = html[html.index('aria-label="Bảng điểm"'):]
    form = form[:form.index("</form>")]
    data = {m.group(1): m.group(2) for m in re.finditer(
        r'<input type="(?:text|hidden)"[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"', form)}
    for m in re.finditer(r'name="([^"]+)"[^>]*>(?:<option value="[^"]*">[^<]*</option>)*'
                         r'<option value="([^"]*)" selected', form):
        data[m.group(1)] = m.group(2)
    return data


async def test_upload_previews_then_the_form_saves(browser: Browser, site: Services) -> None:
    admin = await browser("qt-admin")
    stream = sheets_stream(PROVINCE, 2018, site.cycles.prefix)
    page = await admin.get("/quan-ly/bang-diem", params={"tinh": PROVINCE, "nam": "2018"})
    assert page.status_code == 200
    csrf = csrf_of(page.text)

    # a wrong workbook: its cells named, nothing saved
    wb = load_workbook(io.BytesIO(filled_template(reference_json())))
    wb["Bảng điểm"].cell(row=7, column=4, value="hai trăm")
    buf = io.BytesIO()
    wb.save(buf)
    r = await admin.post("/quan-ly/bang-diem/tai-len", data={
        "csrf_token": csrf, "tinh": PROVINCE, "nam": "2018"}, files={"file": (
            "bang-diem.xlsx", buf.getvalue(), "application/octet-stream")})
    assert r.status_code == 422
    assert 'data-cell="D7" data-code="not_a_number"' in r.text
    assert "Trang “Bảng điểm”, dòng 7, cột D (Điểm tối đa)" in r.text
    assert "hai trăm" not in r.text
    assert await site.store.head(stream) == 0

    r = await admin.post("/quan-ly/bang-diem/tai-len", data={
        "csrf_token": csrf, "tinh": PROVINCE, "nam": "2018"}, files={"file": (
            "bang-diem.xlsx", filled_template(reference_json()), "application/octet-stream")})
    assert r.status_code == 200, r.text
    assert "Chưa lưu gì" in r.text
    assert await site.store.head(stream) == 0  # a preview writes nothing
    fields = _form_fields(r.text)
    assert fields["section_0"] == "c1" and fields["max_0"] == "600"
    saved = await admin.post("/quan-ly/bang-diem", data={**fields, "csrf_token": csrf})
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"].endswith("da-luu=1")
    sheet = await SetupStore(site.store, site.cycles.prefix).sheet(PROVINCE, 2018)
    assert sheet is not None and sheet.version == 1
    assert sheet.content().model_dump(mode="json") == reference_json()

    unit = await browser("nv-so-khdt")
    assert (await unit.get("/quan-ly/bang-diem")).status_code == 403


async def test_the_ruleset_in_words_and_its_form(browser: Browser, site: Services) -> None:
    admin = await browser("qt-admin")
    stream = rulesets_stream(PROVINCE, site.cycles.prefix)
    page = await admin.get("/quan-ly/quy-che", params={"tinh": PROVINCE})
    assert page.status_code == 200
    assert "có mặt từ 2/3" in page.text and "Quy chế mặc định" in page.text
    form = {"csrf_token": csrf_of(page.text), "tinh": PROVINCE, "quorum": "3/4",
            "require_pledge": "1", "excluding": ["leader_disciplined", "court_conclusion"],
            "title_0": "Cờ thi đua của UBND tỉnh", "title_1": "Bằng khen của Chủ tịch UBND tỉnh",
            "threshold": "1/2", "compare": "more_than", "base": "voters",
            "written_opinions": "1", "max_rounds": "2", "rotation": "deputy_succeeds",
            "reminder_days": "7, 1", "max_extensions": "5", "area_floor": ""}
    bad = await admin.post("/quan-ly/quy-che", data={**form, "quorum": "ba phần tư"})
    assert bad.status_code == 422
    assert 'data-field="quorum"' in bad.text and "ví dụ 2/3" in bad.text
    assert await site.store.head(stream) == 0
    ok = await admin.post("/quan-ly/quy-che", data=form)
    assert ok.status_code == 303, ok.text
    saved = await SetupStore(site.store, site.cycles.prefix).ruleset(PROVINCE)
    assert saved is not None and saved.version == 1
    assert saved.quorum == Fraction(3, 4)
    assert saved.excluding_findings == ("leader_disciplined", "court_conclusion")
    assert [p.title for p in saved.places] == [
        "Cờ thi đua của UBND tỉnh", "Bằng khen của Chủ tịch UBND tỉnh"]
    assert saved.vote == Ruleset().vote
    again = await admin.post("/quan-ly/quy-che", data=form)  # the same: no new version
    assert again.headers["location"].endswith("da-luu=1")
    assert await site.store.head(stream) == 1
