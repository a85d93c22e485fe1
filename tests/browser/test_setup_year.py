"""The secretariat sets up Kiên Giang's 2018 on the pages (issue 21, its first acceptance
point): creates the reference block of 8 members on the block pages (the id suggested from the
name, a wrong id refused next to its field, the record shown), builds the reference score sheet
in the form, looks at the ruleset in words, sees which blocks will start and which are refused
and why, and opens the year; the reference cycle then runs through the workflow's updates (as
the scenario runner sends them) to its known outcome, with the sheet's version pinned in its
first event.

A second block of the province whose members all left after 2017 (registered through
BlockService) is refused for 2018."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from playwright.sync_api import expect

from app.blocks import BlockService
from app.bootstrap import bootstrap
from app.settings import Settings
from domain.errors import DomainError
from domain.scenario import compare_outcome, load_scenario, outcome_json, step_result
from eventstore import EventStore, create_pool

from .conftest import REFERENCE, Login, Shot, Stack, reference, run_async
from .helpers import expect_block_record, go, new_block_form, sent

pytestmark = [pytest.mark.browser, pytest.mark.temporal]

PROVINCE, YEAR = "Kiên Giang", 2018


def _refused_block(stack: Stack) -> None:
    async def empty_block() -> None:
        pool = await create_pool(stack.database_url, min_size=1, max_size=2)
        try:
            blocks = BlockService(EventStore(pool), pool)
            await blocks.register(
                {
                    "id": "kg-khoi-9",
                    "name": "Khối thi đua số 9",
                    "province": PROVINCE,
                    "members": [{"id": f"dv-{i}", "name": f"Đơn vị {i}"} for i in (1, 2, 3)],
                    "head": "dv-1",
                    "deputy": "dv-2",
                }
            )
            for i in (1, 2, 3):
                await blocks.leave("kg-khoi-9", f"dv-{i}", 2017)
        finally:
            await pool.close()

    run_async(empty_block)


def _typed_day(iso: str) -> str:
    """A deadline's day as an official types it: dd/mm/yyyy."""
    y, m, d = iso[:10].split("-")
    return f"{d}/{m}/{y}"


def _run_steps(stack: Stack) -> dict[str, Any]:
    """Every step of the reference scenario after its start, sent as the scenario runner sends
    it (the workflow's update, as the step's actor); the outcome read back from the store."""
    scenario = load_scenario(REFERENCE.read_text("utf-8"))
    settings = Settings(thidua_home=stack.home, database_url=stack.database_url)

    async def go_steps() -> dict[str, Any]:
        async with bootstrap(settings, temporal="find") as services:
            for _ in range(600):  # the year's workflow starts the cycle as a child
                if await services.store.head("cycle-kg-khoi-2-2018") >= 1:
                    break
                await asyncio.sleep(0.2)
            else:
                raise AssertionError("the year's workflow did not start the cycle")
            steps = []
            for step in scenario.steps:
                try:
                    await services.cycles.send(
                        "kg-khoi-2",
                        YEAR,
                        step.command,
                        step.actor,
                        request_id=f"setup-year-{step.index}",
                    )
                except DomainError as err:
                    steps.append(step_result(step, err.code))
                else:
                    steps.append(step_result(step, None))
            replay = await services.store.replay("cycle-kg-khoi-2-2018")
            return {
                "outcome": outcome_json(
                    replay.state, steps, events=len(replay.events), last_hash=None
                ),
                "ok": replay.report.ok,
                "steps": steps,
            }

    return run_async(go_steps)


def test_secretariat_builds_the_sheet_and_opens_2018(
    stack: Stack, login: Login, shot: Shot
) -> None:
    _refused_block(stack)
    ref = reference()
    block = ref["block"]
    admin = login("admin")

    # the reference block, typed on the block pages one member at a time
    form = new_block_form(admin, block)
    expect(form.get_by_label("Mã khối")).to_have_value("khoi-thi-dua-so-2")  # from the name
    shot(admin, "block-new")
    form.get_by_label("Mã khối").fill("kg khoi 2")
    form.get_by_role("button", name="Đăng ký khối thi đua").click()
    expect(admin.locator('[data-code="invalid_id"]')).to_contain_text("Mã chưa hợp lệ")
    last = block["members"][-1]["name"]
    expect(admin.get_by_label("Tên đầy đủ").nth(7)).to_have_value(last)  # the rows are kept
    assert stack.sql("SELECT 1 FROM events WHERE stream = 'block-' || $1", block["id"]) == []
    admin.get_by_label("Mã khối").fill(block["id"])
    admin.get_by_role("button", name="Đăng ký khối thi đua").click()
    sent(admin, "register_block")
    expect(admin.get_by_role("heading", name=block["name"], level=1)).to_be_visible()
    expect(admin.locator('[data-role="block_id"]')).to_have_text(block["id"])
    expect_block_record(admin, block, YEAR)
    shot(admin, "block-record")
    stored = stack.sql("SELECT type, data FROM events WHERE stream = 'block-' || $1", block["id"])
    assert [r["type"] for r in stored] == ["block_registered"]
    data = stored[0]["data"]
    data = json.loads(data) if isinstance(data, str) else data
    # exactly the reference scenario's block, so the cycle below reaches its outcome
    assert {"id": data["block_id"], **{k: data[k] for k in block if k != "id"}} == block

    # the score sheet, typed into the form row by row
    go(admin, f"/quan-ly/bang-diem?tinh={PROVINCE}&nam={YEAR}")
    form = admin.get_by_role("form", name="Bảng điểm", exact=True)
    form.get_by_label("Tổng điểm tối đa").fill("1000")
    # first a wrong cell: named by its row and column, nothing saved
    form.get_by_label("Mã nội dung, dòng 6").fill("Nội dung 1")
    form.get_by_label("Điểm tối đa, dòng 6").fill("600")
    form.get_by_role("button", name="Lưu bảng điểm").click()
    alert = admin.locator("[data-code=invalid_score_sheet]")
    expect(alert).to_contain_text("dòng 6, cột A (Mã nội dung)")
    expect(admin.locator("[data-cell=A6]")).to_have_attribute("data-code", "invalid_id")
    assert stack.sql("SELECT 1 FROM events WHERE stream = 'sheets-kien-giang-2018'") == []
    form = admin.get_by_role("form", name="Bảng điểm", exact=True)
    for n, s in enumerate(ref["score_sheet"]["sections"], start=6):
        form.get_by_label(f"Mã nội dung, dòng {n}").fill(s["id"])
        form.get_by_label(f"Tên nội dung, tiêu chí, dòng {n}").fill(s["title"])
        form.get_by_label(f"Điểm tối đa, dòng {n}").fill(s["max"])
    form.get_by_role("button", name="Lưu bảng điểm").click()
    expect(admin.get_by_role("status")).to_have_text("Đã lưu bảng điểm, phiên bản 1.")
    shot(admin, "setup-sheet")

    # the ruleset in words (the defaults of DOMAIN.md)
    go(admin, f"/quan-ly/quy-che?tinh={PROVINCE}")
    words = admin.get_by_role("region", name="Quy chế bằng lời")
    expect(words).to_contain_text("có mặt từ 2/3")
    expect(words).to_contain_text("hạng 1 – Cờ thi đua của UBND tỉnh")
    shot(admin, "setup-ruleset")

    # the year: preview, then open
    go(admin, f"/quan-ly/mo-nam?tinh={PROVINCE}&nam={YEAR}")
    form = admin.get_by_role("form", name="Mở năm thi đua")
    form.get_by_label("Bảng điểm").select_option("1")
    form.get_by_label("Quy chế").select_option("mac-dinh")
    form.get_by_label("Hạn ký giao ước").fill(_typed_day(ref["deadlines"]["pledge"]))
    form.get_by_label("Hạn chấm điểm").fill(_typed_day(ref["deadlines"]["scoring"]))
    form.get_by_role("button", name="Xem các khối sẽ khởi tạo").click()
    table = admin.get_by_role("table", name="Các khối sẽ khởi tạo")
    expect(table.locator("tr[data-block=kg-khoi-2]")).to_have_attribute("data-ok", "yes")
    expect(table.locator("tr[data-block=kg-khoi-2]")).to_contain_text("Sẽ khởi tạo")
    refused = table.locator("tr[data-block=kg-khoi-9]")
    expect(refused).to_have_attribute("data-ok", "no")
    expect(refused).to_have_attribute("data-code", "no_members")
    expect(refused).to_contain_text("Khối không có thành viên nào trong năm này.")
    assert stack.event_count("kg-khoi-2", YEAR) == 0  # a preview starts nothing
    shot(admin, "setup-open")
    admin.get_by_role("form", name="Mở năm thi đua").get_by_role(
        "button", name=f"Mở năm {YEAR}"
    ).click()
    admin.wait_for_url(lambda u: "/quan-ly?nam=2018" in u)

    result = _run_steps(stack)
    assert result["ok"]
    assert [s for s in result["steps"] if not s["ok"]] == []
    assert compare_outcome(result["outcome"], ref["expect"]) == []
    started = stack.events("kg-khoi-2", YEAR)[0]
    assert started[0] == "cycle_started"
    assert started[1]["score_sheet"] == {**ref["score_sheet"], "version": 1}
    assert started[1]["ruleset"]["version"] == 1
    assert started[1]["deadlines"] == ref["deadlines"]  # 17:00 Vietnam time of the days chosen
    assert stack.event_count("kg-khoi-9", YEAR) == 0
