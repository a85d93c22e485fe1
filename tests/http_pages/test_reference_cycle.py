"""The reference cycle (app/scenarios/kg-khoi-2-2018.json) completed through the pages only:
every step is a form post of the person of the step's unit (or the secretariat), on the page
that carries it; the result page shows the reference outcome."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from app.bootstrap import Services
from app.words import vn_number
from workflows.messages import cycle_key

from .conftest import REFERENCE, Browser, csrf_of
from .test_pages import BASE, start_reference

pytestmark = pytest.mark.temporal

PAGE = {
    "sign_pledge": "giao-uoc",
    "submit_self_score": "tu-cham-diem",
    "cast_ballot": "phieu-binh-xet",
    "cast_election_ballot": "phieu-bau",
    "record_finding": "quan-ly",
}


def form_of(step: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"do": step["do"]}
    for sid, value in step.get("sections", {}).items():
        data[f"sections.{sid}"] = value.replace(".", ",")
    data["confirm"] = "1"  # the page's confirm step (a partial ballot) is answered at once
    if step["do"] == "hold_review":
        data["held_on"] = step["held_on"]
        for u in step["present"]:
            data[f"attendance.{u}"] = "present"
        for a in step["absent"]:
            data[f"attendance.{a['unit']}"] = (
                "written" if a["written_opinion"] else "notice" if a["with_notice"] else "no_notice"
            )
    for key in ("unit", "note", "kind", "reference", "deputy", "head"):
        if key in step and step["do"] not in ("sign_pledge", "submit_self_score"):
            data[key] = step[key]
    if "approve" in step:
        data["approve"] = step["approve"]
    return data


async def refusals(
    site: Services, c: httpx.AsyncClient, path: str, csrf: str, step: dict[str, Any]
) -> None:
    """Before some steps, a wrong form first: the sentence next to its field, what was typed
    kept, nothing written."""
    stream = cycle_key("kg-khoi-2", 2018, site.cycles.prefix)[1]
    wrong: dict[str, Any] | None = None
    if step["do"] == "hold_review":
        wrong = form_of(step)
        for u in ("so-noi-vu", "so-tu-phap", "vp-ubnd"):
            wrong[f"attendance.{u}"] = "notice"
        code, expect = "quorum_not_met", "cần ít nhất 6/8"
    elif step["do"] == "verify_score" and step["unit"] == "so-khdt":
        wrong = {**form_of(step), "sections.c1": "580", "note": ""}
        code, expect = "reason_required", 'value="580"'
    elif step["do"] == "cast_election_ballot" and step["as"] == "so-khdt":
        wrong = {**form_of(step), "deputy": "so-khdt-x"}
        code, expect = "not_a_candidate", "Gửi phiếu bầu"
    if wrong is None:
        return
    before = await site.store.head(stream)
    r = await c.post(path, data={"csrf_token": csrf, **wrong})
    assert r.status_code == 409, r.text[-2000:]
    assert f'data-code="{code}"' in r.text and expect in r.text, r.text[-3000:]
    assert await site.store.head(stream) == before


async def test_the_reference_cycle_through_the_pages(browser: Browser, site: Services) -> None:
    scenario = json.loads(REFERENCE.read_text("utf-8"))
    people: dict[str, httpx.AsyncClient] = {"admin": await browser("qt-admin")}
    await start_reference(people["admin"])
    for step in scenario["steps"]:
        who = step["as"]
        if who not in people:
            people[who] = await browser(f"nv-{who}")
        c = people[who]
        path = f"{BASE}/{PAGE.get(step['do'], 'dieu-hanh')}"
        page = await c.get(path)
        assert page.status_code == 200, (step, page.text[:500])
        await refusals(site, c, path, csrf_of(page.text), step)
        r = await c.post(path, data={"csrf_token": csrf_of(page.text), **form_of(step)})
        assert r.status_code == 303, (step, r.text[-3000:])

    state = await site.cycles.state("kg-khoi-2", 2018)
    assert state.stage == "completed"
    expect = scenario["expect"]
    assert state.outcome is not None
    assert state.outcome.model_dump(mode="json")["nominations"] == expect["nominations"]
    assert state.next_head == expect["next_head"] and state.next_deputy == expect["next_deputy"]

    result = await people["so-khdt"].get(f"{BASE}/ket-qua")
    assert result.status_code == 200
    text = result.text
    assert "<svg" in text and "983,5" in text and "954,4" in text
    assert "Cờ thi đua của UBND tỉnh" in text
    assert "có kết luận của Tòa án" in text and "xếp loại yếu về an ninh trật tự" in text
    assert 'data-role="next_head">Sở Kế hoạch và Đầu tư' in text
    assert 'data-role="next_deputy">Văn phòng Đoàn ĐBQH tỉnh' in text
    await downloads(people, text)

    # the auditor's timeline: every event, the chain intact, every decision rechecked
    auditor = await browser("kiem-toan")
    timeline = await auditor.get(f"{BASE}/nhat-ky")
    assert timeline.status_code == 200
    head = await site.store.head(cycle_key("kg-khoi-2", 2018, site.cycles.prefix)[1])
    assert timeline.text.count("<tr data-type=") == head
    assert 'data-verdict="chain_ok"' in timeline.text
    assert 'data-verdict="recheck_ok"' in timeline.text
    asof = await auditor.get(f"{BASE}/nhat-ky", params={"phien-ban": "9"})
    assert 'data-asof-version="9"' in asof.text
    one = await auditor.get(f"{BASE}/nhat-ky/2.json")
    assert one.json()["type"] == "pledge_signed"
    # a unit's person may not read the timeline
    assert (await people["so-khdt"].get(f"{BASE}/nhat-ky")).status_code == 403

    # next year from a form, no file: the block was registered when its first cycle started,
    # and the 2018 election names the 2019 head and deputy
    admin = people["admin"]
    listing = await admin.get("/quan-ly")
    assert 'aria-label="Khởi tạo kỳ thi đua của khối đã đăng ký"' in listing.text
    assert '<option value="kg-khoi-2"' in listing.text
    # next year's head by name, never by id
    row = listing.text.split('data-cycle="kg-khoi-2/2018"')[1].split("</tr>")[0]
    assert "Sở Kế hoạch và Đầu tư" in row and ">so-khdt<" not in row
    csrf = csrf_of(listing.text)
    before = await site.store.head(cycle_key("kg-khoi-2", 2019, site.cycles.prefix)[1])
    bad = await admin.post(
        "/quan-ly/khoi",
        data={"csrf_token": csrf, "block": "kg-khoi-2", "year": "2O19", "pledge": "31/3/2019"},
    )
    assert bad.status_code == 422 and 'data-code="invalid_year"' in bad.text
    assert 'value="2O19"' in bad.text and 'value="31/3/2019"' in bad.text  # kept as typed
    bad = await admin.post(
        "/quan-ly/khoi",
        data={"csrf_token": csrf, "block": "kg-khoi-2", "year": "2019", "pledge": "31/13/2019"},
    )
    assert bad.status_code == 422 and 'data-code="invalid_date"' in bad.text
    bad = await admin.post(
        "/quan-ly/khoi", data={"csrf_token": csrf, "block": "khong-co", "year": "2019"}
    )
    assert bad.status_code == 409 and 'data-code="unknown_block"' in bad.text
    assert await site.store.head(cycle_key("kg-khoi-2", 2019, site.cycles.prefix)[1]) == before
    r = await admin.post(
        "/quan-ly/khoi",
        data={"csrf_token": csrf, "block": "kg-khoi-2", "year": "2019", "pledge": "2019-03-31"},
    )
    assert r.status_code == 303, r.text[-2000:]
    assert r.headers["location"].startswith("/ky/kg-khoi-2/2019")
    nxt = await site.cycles.state("kg-khoi-2", 2019)
    assert nxt.block is not None
    assert (nxt.block.head, nxt.block.deputy) == (expect["next_head"], expect["next_deputy"])
    assert nxt.deadlines["pledge"] == datetime(2019, 3, 31, 10, tzinfo=UTC)  # 17:00 at +07
    assert nxt.ruleset == state.ruleset and nxt.score_sheet == state.score_sheet
    again = await admin.post(
        "/quan-ly/khoi", data={"csrf_token": csrf, "block": "kg-khoi-2", "year": "2019"}
    )
    assert again.status_code == 409 and 'data-code="cycle_exists"' in again.text


def _href(page: str, name: str) -> str:
    match = re.search(rf'<a href="([^"]+)"[^>]*data-download="{name}"', page)
    assert match is not None, name
    return match.group(1)


async def downloads(people: dict[str, Any], result: str) -> None:
    """The result page's downloads: the workbook holds every unit's total and section scores as
    the page shows them; the block's documents are for its chair (and the secretariat) only."""
    from io import BytesIO

    from openpyxl import load_workbook

    from tests.documents.test_block_docs import docx_text

    shown = {}
    for unit, row in re.findall(r'<tr data-unit="([^"]+)">(.*?)</tr>', result, re.S):
        cells = re.findall(
            r'<td class="num(?: sec)?" data-(?:section="[^"]+"|total)>([^<]*)</td>', row
        )
        shown[unit] = cells
    assert len(shown) == 8 and shown["vp-ubnd"] == ["590", "198,5", "195", "983,5"]

    khdt = people["so-khdt"]
    xlsx = await khdt.get(_href(result, "export_xlsx"))
    assert xlsx.status_code == 200, xlsx.text[:300]
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(xlsx.content))["Điểm theo nội dung"]
    read = {
        r[2]: [vn_number(v) for v in r[3:7]] for r in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert read == shown

    # the deputy unit (this year's chair's partner) drafts the summary report
    report = await khdt.get(_href(result, "report_docx"))
    assert report.status_code == 200, report.text[:300]
    text = docx_text(report.content)
    assert "Dự hội nghị có 7/8 đơn vị thành viên" in text
    assert "Khối trưởng năm 2019: Sở Kế hoạch và Đầu tư" in text
    # a member that does not chair sees no document link and may not fetch one
    noi_vu = people["so-noi-vu"]
    page = (await noi_vu.get(f"{BASE}/ket-qua")).text
    assert 'data-download="export_xlsx"' in page and 'data-download="report_docx"' not in page
    refused = await noi_vu.get(_href(result, "report_docx"))
    assert refused.status_code == 403
