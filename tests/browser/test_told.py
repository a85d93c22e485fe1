"""Being told, in chromium on the whole stack (`thidua dev up`): each role lands on its own
page after login (never an empty unit inbox for the secretariat or the auditor), and the
header's task count follows the tasks while the page stays open — without a reload on a page
that is not the task list, and the task list itself refreshed."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import Login, Shot, Stack
from .helpers import go, scenario_for, sign, start_cycle

YEAR = 2021


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scenarios")


def test_each_role_lands_on_its_own_page(login: Login, shot: Shot) -> None:
    admin = login("admin")
    admin.wait_for_url(lambda u: u.endswith("/quan-ly"))
    expect(admin.get_by_role("heading", name="Việc của Thường trực")).to_be_visible()
    expect(admin.get_by_text("Đơn vị không có việc nào đang chờ.")).to_have_count(0)
    shot(admin, "landing-admin")
    auditor = login("auditor")
    auditor.wait_for_url(lambda u: u.endswith("/kiem-tra"))
    expect(auditor.get_by_role("heading", name="Các kỳ thi đua")).to_be_visible()
    expect(auditor.locator("[data-inbox-count]")).to_have_count(0)
    expect(auditor.get_by_text("Đơn vị không có việc nào đang chờ.")).to_have_count(0)
    unit = login("so-khdt")
    unit.wait_for_url(lambda u: u.endswith("/viec-can-lam"))
    expect(unit.get_by_role("heading", name="Việc cần làm")).to_be_visible()


def test_the_task_count_follows_the_tasks_while_the_page_is_open(
    stack: Stack, login: Login, folder: Path, shot: Shot
) -> None:
    khdt = login("so-khdt")
    go(khdt, "/viec-da-lam")  # a page with no cycle: the count is polled alone
    badge = khdt.locator("header [data-inbox-count]")
    expect(badge).to_be_hidden()
    khdt.evaluate("() => { window.thiduaMark = 1; }")
    base = start_cycle(login("admin"), scenario_for(YEAR, folder))
    expect(badge).to_have_attribute("data-inbox-count", "1", timeout=60_000)
    expect(badge).to_be_visible()
    expect(badge).to_contain_text("1")
    assert khdt.evaluate("() => window.thiduaMark") == 1  # updated in place, no reload

    # the task list refreshes itself when a task is done elsewhere (another tab)
    go(khdt, "/viec-can-lam")
    expect(khdt.locator('li[data-action="sign_pledge"]')).to_have_count(1)
    shot(khdt, "tasks-count")
    other = login("so-khdt")
    sign(other, base)
    expect(khdt.locator('li[data-action="sign_pledge"]')).to_have_count(0, timeout=60_000)
    expect(khdt.locator("header [data-inbox-count]")).to_have_attribute("data-inbox-count", "0")
    assert stack.event_count("kg-khoi-2", YEAR) >= 2
