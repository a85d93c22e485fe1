"""Steps the browser tests share: starting a cycle by uploading a scenario file, signing the
pledge and submitting a self-score through the pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from .conftest import REFERENCE, reference


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
    admin.goto("/quan-ly")
    admin.get_by_label("Tệp kỳ thi đua").set_input_files(str(file))
    admin.get_by_role("button", name="Khởi tạo kỳ thi đua").click()
    base = f"/ky/{data['block']['id']}/{data['year']}"
    admin.wait_for_url(lambda u: base in u)
    return base


def sign(page: Page, base: str) -> None:
    page.goto(f"{base}/giao-uoc")
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
    page.goto(f"{base}/tu-cham-diem")
    fill_sections(page, sections)
    page.get_by_role("button", name="Gửi bản tự chấm điểm").click()
    sent(page, "submit_self_score")


def sent(page: Page, do: str) -> None:
    """The page after a form was accepted says so (`data-sent` names the command)."""
    expect(page.locator(f'[data-sent="{do}"]')).to_be_visible()
