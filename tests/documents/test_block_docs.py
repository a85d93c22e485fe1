"""The block's documents of the reference cycle (summary report, proposal, news) and its Excel
workbook, made from the pure domain's events and read back as someone holding only the file
would: the .docx with python-docx, the PDF with poppler's pdftotext, the .xlsx with openpyxl.
The files are left in /tmp/thidua-minutes."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from docx import Document as Docx
from openpyxl import load_workbook

from app.documents.block_docs import NATION, build_document
from app.documents.render import document_bytes
from app.documents.workbook import SHEETS, cycle_workbook
from app.words import vn_number

from .conftest import OUT, Record
from .test_minutes_pdf import pdftotext

pytestmark = pytest.mark.pure


def docx_text(data: bytes) -> str:
    """Every paragraph of the body and of its tables' cells, as python-docx reads them."""
    d = Docx(BytesIO(data))
    lines = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            lines += [c.text for c in row.cells]
    return " ".join(" ".join(lines).split())


@pytest.fixture(scope="module")
def report(reference: Record) -> dict[str, str]:
    doc = build_document("report", reference.events, **reference.kw)  # type: ignore[arg-type]
    OUT.mkdir(parents=True, exist_ok=True)
    texts = {}
    for fmt in ("docx", "pdf"):
        path = OUT / f"bao-cao-tong-ket.{fmt}"
        path.write_bytes(document_bytes(doc, fmt))
        texts[fmt] = docx_text(path.read_bytes()) if fmt == "docx" else pdftotext(path)
    return texts


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_the_summary_report_says_what_the_conference_decided(
    report: dict[str, str], fmt: str
) -> None:
    text = report[fmt]
    # the state format: issuing body, national header and motto, number, place and date
    for line in (
        "UBND TỈNH KIÊN GIANG",
        "KHỐI THI ĐUA SỐ 2",
        NATION,
        "Độc lập - Tự do - Hạnh phúc",
        "/BC-KTĐ",
        "Kiên Giang, ngày 08 tháng 3 năm 2019",
        "BÁO CÁO",
        "TM. KHỐI THI ĐUA SỐ 2",
        "KHỐI TRƯỞNG",
        "Nơi nhận:",
    ):
        assert line in text, line
    # participation: 7/8, the absent unit and why
    assert "Dự hội nghị có 7/8 đơn vị thành viên" in text
    assert "Văn phòng Điều phối nông thôn mới (vắng có lý do" in text
    # the ranking, in Vietnamese numbers
    for total in ("983,5", "976", "949", "954,4", "1.000"):
        assert total in text, total
    assert text.index("983,5") < text.index("976") < text.index("949")
    # what the scores show: units under the line in section 3, the unit rated weak
    assert "có 02 đơn vị đạt dưới 100 điểm" in text
    assert "Văn phòng HĐND tỉnh (48 điểm)" in text
    assert "Văn phòng Điều phối nông thôn mới bị xếp loại yếu về an ninh trật tự" in text
    # exclusions with their reasons
    assert "Sở Nội vụ: lãnh đạo bị xử lý kỷ luật" in text
    assert "Sở Tư pháp: có kết luận của Tòa án; lãnh đạo bị xử lý kỷ luật" in text
    # the nominations with their tallies
    assert "Văn phòng UBND tỉnh (983,5 điểm): đề nghị tặng Cờ thi đua của UBND tỉnh; 7/7" in text
    assert (
        "Sở Kế hoạch và Đầu tư (976 điểm): đề nghị tặng Bằng khen của Chủ tịch UBND tỉnh; "
        "7/7" in text
    )
    assert "Sở Ngoại vụ (949 điểm): đề nghị tặng Bằng khen của Chủ tịch UBND tỉnh; 6/7" in text
    # next year's leaders
    assert (
        "Khối trưởng năm 2019: Sở Kế hoạch và Đầu tư; Khối phó năm 2019: Văn phòng Đoàn ĐBQH tỉnh"
    ) in text


def test_the_proposal_lists_the_nominations_for_the_council(reference: Record) -> None:
    doc = build_document("proposal", reference.events, **reference.kw)  # type: ignore[arg-type]
    data = document_bytes(doc, "docx")
    (OUT / "to-trinh.docx").write_bytes(data)
    text = docx_text(data)
    for line in (
        NATION,
        "TỜ TRÌNH",
        "/TTr-KTĐ",
        "Kính gửi: Hội đồng Thi đua – Khen thưởng tỉnh Kiên Giang",
        "Văn phòng UBND tỉnh 983,5 7/7 Cờ thi đua của UBND tỉnh",
        "Sở Ngoại vụ 949 6/7 Bằng khen của Chủ tịch UBND tỉnh",
    ):
        assert line in text, line
    assert "Sở Tư pháp" not in text  # excluded units are not proposed


def test_the_news_item_has_no_state_header(reference: Record, tmp_path: Path) -> None:
    doc = build_document("news", reference.events, **reference.kw)  # type: ignore[arg-type]
    path = OUT / "tin-bai.pdf"
    path.write_bytes(document_bytes(doc, "pdf"))
    text = pdftotext(path)
    assert text.startswith("Khối thi đua số 2 tổng kết công tác thi đua, khen thưởng năm 2018")
    assert NATION not in text
    assert "7/8 đơn vị thành viên" in text and "Văn phòng Đoàn ĐBQH tỉnh" in text


def test_an_unknown_document_is_refused(reference: Record) -> None:
    with pytest.raises(ValueError, match="unknown document 'memo'"):
        build_document("memo", reference.events, **reference.kw)  # type: ignore[arg-type]


def test_the_workbook_holds_every_units_scores(reference: Record) -> None:
    data = cycle_workbook(reference.events, **reference.kw)  # type: ignore[arg-type]
    (OUT / "ket-qua.xlsx").write_bytes(data)
    wb = load_workbook(BytesIO(data))
    assert tuple(wb.sheetnames) == SHEETS
    rows = list(wb["Điểm theo nội dung"].iter_rows(min_row=2, values_only=True))
    got = {r[2]: [vn_number(v) for v in r[3:7]] for r in rows}
    assert got["vp-ubnd"] == ["590", "198,5", "195", "983,5"]
    assert got["vp-hdnd"] == ["566", "187,5", "48", "801,5"]
    assert len(got) == 8
    nominations = [
        r
        for r in wb["Bình xét"].iter_rows(values_only=True)
        if r[0] in (1, 2, 3) and isinstance(r[3], str)
    ]
    assert [(r[2], r[4], r[5]) for r in nominations] == [
        ("vp-ubnd", 7, 7),
        ("so-khdt", 7, 7),
        ("so-ngoai-vu", 6, 7),
    ]


@pytest.mark.parametrize(
    "name",
    ["cancelled", "elect_both", "excluded_deputy", "leaders_decide", "runoff_failed", "ties"],
)
def test_every_scenario_and_every_prefix_of_it_gives_documents(name: str) -> None:
    """A document may be asked for at any point of any cycle: each one is made (in words) and
    the .docx and the workbook are laid out, from the start event to the last."""
    from .conftest import record_of, scenario

    full = record_of(scenario(name))
    for upto in range(1, full.head_version + 1, 3):
        r = Record(full.events[:upto], full.stream, upto, full.head_hash)
        for kind in ("report", "proposal", "news"):
            doc = build_document(kind, r.events, **r.kw)  # type: ignore[arg-type]
            assert doc.text()
        assert cycle_workbook(r.events, **r.kw)  # type: ignore[arg-type]
    docx = document_bytes(build_document("report", full.events, **full.kw), "docx")  # type: ignore[arg-type]
    assert "KHỐI" in docx_text(docx)
