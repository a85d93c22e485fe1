"""`thidua documents …` and `thidua cycle export` as a user runs them, against the shared
`thidua dev up` stack's started reference cycle (its conference not yet held): the files are
written and read back; a wrong suffix and an unknown cycle are refused, writing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.app.devstack import DevStack, thidua
from tests.documents.test_block_docs import docx_text

pytestmark = pytest.mark.temporal


def test_documents_and_workbook_are_written(started: str, stack: DevStack, tmp_path: Path) -> None:
    report = tmp_path / "bao-cao.docx"
    run = thidua(stack.home, "documents", "report", started, "2018", str(report))
    assert run.returncode == 0, run.stderr
    text = docx_text(report.read_bytes())
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "KHỐI THI ĐUA SỐ 2" in text
    assert "Khối chưa tổ chức hội nghị tổng kết." in text

    news = tmp_path / "tin.pdf"
    run = thidua(stack.home, "documents", "news", started, "2018", str(news))
    assert run.returncode == 0, run.stderr
    assert news.read_bytes().startswith(b"%PDF-")

    book = tmp_path / "ket-qua.xlsx"
    run = thidua(stack.home, "cycle", "export", started, "2018", str(book))
    assert run.returncode == 0, run.stderr
    wb = load_workbook(book)
    assert wb["Nguồn"]["B2"].value == "Khối thi đua số 2"


def test_a_wrong_suffix_or_an_unknown_cycle_writes_nothing(stack: DevStack, tmp_path: Path) -> None:
    out = tmp_path / "bao-cao.odt"
    run = thidua(stack.home, "documents", "proposal", "kg-khoi-2", "2018", str(out))
    assert run.returncode == 2 and "OUT: the file name must end in .docx or .pdf" in run.stderr
    assert not out.exists()
    out = tmp_path / "x.xlsx"
    run = thidua(stack.home, "cycle", "export", "kg-khoi-9", "2018", str(out))
    assert run.returncode == 1
    assert "unknown_stream" in run.stderr and not out.exists()
