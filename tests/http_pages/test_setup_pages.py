"""The secretariat's setup pages on the real stack: the score sheet's .xlsx upload (a preview,
nothing saved until the form is sent; each wrong cell named) and the ruleset's form."""

from __future__ import annotations

import asyncio
import io
import re
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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
    form = html[html.index('aria-label="Bảng điểm"') :]
    form = form[: form.index("</form>")]
    data = {
        m.group(1): m.group(2)
        for m in re.finditer(
            r'<input type="(?:text|hidden)"[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"', form
        )
    }
    for m in re.finditer(
        r'name="([^"]+)"[^>]*>(?:<option value="[^"]*">[^<]*</option>)*'
        r'<option value="([^"]*)" selected',
        form,
    ):
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
    r = await admin.post(
        "/quan-ly/bang-diem/tai-len",
        data={"csrf_token": csrf, "tinh": PROVINCE, "nam": "2018"},
        files={"file": ("bang-diem.xlsx", buf.getvalue(), "application/octet-stream")},
    )
    assert r.status_code == 422
    assert 'data-cell="D7" data-code="not_a_number"' in r.text
    assert "Trang “Bảng điểm”, dòng 7, cột D (Điểm tối đa)" in r.text
    assert "hai trăm" not in r.text
    assert await site.store.head(stream) == 0

    r = await admin.post(
        "/quan-ly/bang-diem/tai-len",
        data={"csrf_token": csrf, "tinh": PROVINCE, "nam": "2018"},
        files={
            "file": (
                "bang-diem.xlsx",
                filled_template(reference_json()),
                "application/octet-stream",
            )
        },
    )
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

    template = await admin.get(
        "/quan-ly/bang-diem/mau.xlsx", params={"tinh": PROVINCE, "nam": "2018"}
    )
    assert template.status_code == 200
    ws = load_workbook(io.BytesIO(template.content))["Bảng điểm"]
    assert (ws["A6"].value, ws["D6"].value) == ("c1", 600)  # the saved sheet, to edit in Excel

    unit = await browser("nv-so-khdt")
    assert (await unit.get("/quan-ly/bang-diem")).status_code == 403


async def test_the_ruleset_in_words_and_its_form(browser: Browser, site: Services) -> None:
    admin = await browser("qt-admin")
    stream = rulesets_stream(PROVINCE, site.cycles.prefix)
    page = await admin.get("/quan-ly/quy-che", params={"tinh": PROVINCE})
    assert page.status_code == 200
    assert "có mặt từ 2/3" in page.text and "Quy chế mặc định" in page.text
    form = {
        "csrf_token": csrf_of(page.text),
        "tinh": PROVINCE,
        "quorum": "3/4",
        "require_pledge": "1",
        "excluding": ["leader_disciplined", "court_conclusion"],
        "title_0": "Cờ thi đua của UBND tỉnh",
        "title_1": "Bằng khen của Chủ tịch UBND tỉnh",
        "threshold": "1/2",
        "compare": "more_than",
        "base": "voters",
        "written_opinions": "1",
        "max_rounds": "2",
        "rotation": "deputy_succeeds",
        "reminder_days": "7, 1",
        "max_extensions": "5",
        "area_floor": "",
    }
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
        "Cờ thi đua của UBND tỉnh",
        "Bằng khen của Chủ tịch UBND tỉnh",
    ]
    assert saved.vote == Ruleset().vote
    again = await admin.post("/quan-ly/quy-che", data=form)  # the same: no new version
    assert again.headers["location"].endswith("da-luu=1")
    assert await site.store.head(stream) == 1


ODD = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "<b>x</b>",
        "99999999999999999999999",
        "-1",
        "0",
        "1e400",
        "NaN",
        "583,5",
        "9" * 3000,
        "٦",
        "²⁰¹⁸",
        "2018",
        "2019-03-08",
        "c1",
        "mac-dinh",
        "1",
        "Tỉnh Thử Nghiệm",
        "more_than",
        "elect_both",
    ]
)
TEXT = st.one_of(ODD, st.text(max_size=30))
SETUP_FIELDS = st.sampled_from(
    [
        "tinh",
        "nam",
        "title",
        "max_total",
        "decimals",
        "section_0",
        "criterion_0",
        "title_0",
        "max_0",
        "section_1",
        "criterion_1",
        "max_1",
        "quorum",
        "threshold",
        "base",
        "compare",
        "max_rounds",
        "rotation",
        "reminder_days",
        "max_extensions",
        "area_floor",
        "excluding",
        "require_pledge",
        "written_opinions",
        "sheet",
        "ruleset",
        "pledge",
        "scoring",
        "action",
    ]
)
SETUP_FORM = st.dictionaries(
    st.one_of(SETUP_FIELDS, st.text(max_size=8)),
    st.one_of(TEXT, st.lists(TEXT, max_size=3)),
    max_size=8,
)
PATHS = (
    "/quan-ly/bang-diem",
    "/quan-ly/quy-che",
    "/quan-ly/mo-nam",
    "/quan-ly/bang-diem/tai-len",
    "/quan-ly/bang-diem/mau.xlsx",
)


@st.composite
def setup_requests(draw: st.DrawFn) -> dict[str, Any]:
    path = draw(st.sampled_from(PATHS))
    if draw(st.booleans()) or path.endswith(".xlsx"):
        return {
            "method": "GET",
            "path": path,
            "params": draw(
                st.dictionaries(
                    st.sampled_from(["tinh", "nam", "da-luu", "sheet", "ruleset"]), TEXT, max_size=3
                )
            ),
        }
    files = None
    if path.endswith("tai-len"):
        files = {
            "file": (
                "x.xlsx",
                draw(
                    st.one_of(
                        st.binary(max_size=200), st.just(filled_template(reference_json())[:2000])
                    )
                ),
                "application/octet-stream",
            )
        }
    return {"method": "POST", "path": path, "data": draw(SETUP_FORM), "files": files}


def _clean(v: Any) -> Any:
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return str(v).encode("utf-8", "replace").decode("utf-8")


async def test_fuzzed_setup_pages_get_no_5xx_and_refusals_write_nothing(
    browser: Browser, site: Services
) -> None:
    admin = await browser("qt-admin")
    csrf = csrf_of((await admin.get("/quan-ly/bang-diem")).text)
    loop = asyncio.get_running_loop()

    async def one(req: dict[str, Any]) -> tuple[int, int, int]:
        before = int(await site.pool.fetchval("SELECT count(*) FROM events"))
        if req["method"] == "GET":
            r = await admin.get(req["path"], params=_clean(req["params"]))
        else:
            data = {_clean(k): _clean(v) for k, v in req["data"].items()}
            r = await admin.post(req["path"], data={**data, "csrf_token": csrf}, files=req["files"])
        after = int(await site.pool.fetchval("SELECT count(*) FROM events"))
        return r.status_code, before, after

    @settings(
        max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(req=setup_requests())
    def fuzz(req: dict[str, Any]) -> None:
        status, before, after = asyncio.run_coroutine_threadsafe(one(req), loop).result(120)
        assert status < 500, (req, status)
        if req["method"] == "GET" or status >= 400:
            assert after == before, (req, status)

    await loop.run_in_executor(None, fuzz)


async def test_more_rows_and_a_new_year_from_the_last(browser: Browser, site: Services) -> None:
    admin = await browser("qt-admin")
    province = "Tỉnh Năm Mới"
    setup = SetupStore(site.store, site.cycles.prefix)
    page = await admin.get("/quan-ly/bang-diem", params={"tinh": province, "nam": "2030"})
    fields = _form_fields(page.text)
    assert "section_3" in fields and "section_4" not in fields  # 4 empty rows
    more = await admin.post(
        "/quan-ly/bang-diem",
        data={
            **fields,
            "csrf_token": csrf_of(page.text),
            "section_0": "a",
            "max_0": "10",
            "action": "them-dong",
        },
    )
    assert more.status_code == 200
    fields = _form_fields(more.text)
    assert fields["section_0"] == "a" and "section_7" in fields  # kept, and 4 more rows
    assert await setup.sheets(province, 2030) == []  # nothing saved
    saved = await admin.post(
        "/quan-ly/bang-diem",
        data={**fields, "csrf_token": csrf_of(more.text), "max_total": "10", "action": "luu"},
    )
    assert saved.status_code == 303, saved.text

    # 2031 has no sheet: the form starts from 2030's, saved only when sent
    page = await admin.get("/quan-ly/bang-diem", params={"tinh": province, "nam": "2031"})
    assert "lấy bảng điểm năm 2030 (phiên bản 1)" in page.text
    assert _form_fields(page.text)["section_0"] == "a"
    assert await setup.sheets(province, 2031) == []

    # a saved ruleset is named after its province, so a cycle that pins it says whose it is
    ruleset, _ = await setup.save_ruleset(province, Ruleset())
    assert (ruleset.id, ruleset.version) == ("tinh-nam-moi", 1)
