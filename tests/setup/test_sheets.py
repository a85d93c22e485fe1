"""Score sheets: the table the secretariat fills (domain/sheets.py), the .xlsx template and its
import (app/sheets.py), and the saved versions of a province's sheet (real PostgreSQL)."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from app.blocks import load_score_sheet
from app.sheets import SetupStore, SheetFileError, read_xlsx, write_template
from domain.codec import EventRecord
from domain.errors import RuleError
from domain.rules.scoring import check_sections
from domain.setup import ScoreSheet
from domain.setup_events import sheets_stream
from domain.sheets import FIELD_ROWS, FIRST_ROW, read_sheet, rows_of_cells, sheet_rows
from eventstore import EventStore

REFERENCE = Path(__file__).parents[2] / "app" / "scenarios" / "kg-khoi-2-2018.json"


def reference_json() -> dict:
    return json.loads(REFERENCE.read_text("utf-8"))["score_sheet"]


def filled_template(score_sheet: dict, *, criteria: dict | None = None) -> bytes:
    """The empty template written by the app, filled here cell by cell as a person would."""
    wb = load_workbook(io.BytesIO(write_template()))
    ws = wb["Bảng điểm"]
    assert [ws.cell(row=5, column=c).value for c in range(1, 5)] == [
        "Mã nội dung",
        "Mã tiêu chí",
        "Tên nội dung, tiêu chí",
        "Điểm tối đa",
    ]
    assert ws.cell(row=FIELD_ROWS["max_total"], column=1).value == "Tổng điểm tối đa"
    ws.cell(row=FIELD_ROWS["max_total"], column=2, value=int(score_sheet["max_total"]))
    row = FIRST_ROW
    for s in score_sheet["sections"]:
        ws.cell(row=row, column=1, value=s["id"])
        ws.cell(row=row, column=3, value=s["title"])
        ws.cell(row=row, column=4, value=int(s["max"]))
        row += 1
        for cid, title, points in (criteria or {}).get(s["id"], ()):
            for col, v in ((1, s["id"]), (2, cid), (3, title), (4, points)):
                ws.cell(row=row, column=col, value=v)
            row += 1
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_the_reference_sheet_imported_from_xlsx_equals_the_json_one() -> None:
    sheet, errors = read_xlsx(filled_template(reference_json()))
    assert errors == []
    assert sheet == load_score_sheet(reference_json())
    assert sheet.model_dump(mode="json") == reference_json()


def test_a_sheet_written_to_the_template_reads_back_the_same() -> None:
    sheet = ScoreSheet.model_validate(
        {
            "max_total": "100",
            "decimals": 1,
            "title": "Bảng điểm năm 2019",
            "sections": [
                {
                    "id": "a",
                    "title": "Nội dung A",
                    "max": "60",
                    "criteria": [
                        {"id": "a1", "title": "Tiêu chí 1", "max": "40.5"},
                        {"id": "a2", "title": "Tiêu chí 2", "max": "19.5"},
                    ],
                },
                {"id": "b", "title": "Nội dung B", "max": "40"},
            ],
        }
    )
    back, errors = read_xlsx(write_template(sheet))
    assert errors == [] and back == sheet


def test_each_wrong_cell_is_named_and_nothing_is_read() -> None:
    data = reference_json()
    data["sections"][1]["max"] = "150"  # the total no longer adds up, but cells come first
    raw = filled_template(data, criteria={"c1": [("c1.1", "Tiêu chí", 500), ("c1.2", "", 100)]})
    wb = load_workbook(io.BytesIO(raw))
    ws = wb["Bảng điểm"]
    ws.cell(row=FIRST_ROW + 3, column=1, value="C 2")  # an id with a space and a capital
    ws.cell(row=FIRST_ROW + 4, column=4, value="nhiều")  # not a number
    buf = io.BytesIO()
    wb.save(buf)
    sheet, errors = read_xlsx(buf.getvalue())
    assert sheet is None
    got = [(e.sheet, e.row, e.column, e.code) for e in errors]
    assert got == [
        ("Bảng điểm", FIRST_ROW + 3, "A", "invalid_id"),
        ("Bảng điểm", FIRST_ROW + 4, "D", "not_a_number"),
    ]
    assert errors[0].line().startswith('Trang "Bảng điểm", dòng 9, cột A (Mã nội dung): Mã chỉ')
    assert "C 2" not in errors[0].line()  # the rule, not the cell's content


def test_sums_are_checked_against_the_section_and_the_total() -> None:
    fields = {"max_total": "1000"}
    rows = rows_of_cells(
        [
            ["c1", None, "A", 600],
            ["c1", "x", "", "500"],
            ["c1", "y", "", 90],
            ["c2", None, "B", "400,5"],
        ]
    )
    sheet, problems = read_sheet(fields, rows)
    assert sheet is None
    assert [(p.row, p.column, p.code) for p in problems] == [(FIRST_ROW, "D", "criteria_sum")]
    assert dict(problems[0].values) == {"sum": "590"}
    fields["decimals"] = "1"
    rows = rows_of_cells([["c1", None, "A", 600], ["c2", None, "B", "400,5"]])
    _, problems = read_sheet(fields, rows)
    assert [(p.row, p.column, p.code) for p in problems] == [(2, "B", "total_mismatch")]
    fields["decimals"] = "0"
    _, problems = read_sheet(fields, rows)
    assert [(p.row, p.column, p.code) for p in problems] == [
        (FIRST_ROW + 1, "D", "too_many_decimals")
    ]


def test_a_criterion_under_no_section_and_duplicates() -> None:
    rows = rows_of_cells([["c1", None, "A", 1000], ["c9", "x", "", 5], ["c1", None, "B", 1]])
    _, problems = read_sheet({"max_total": 1000}, rows)
    assert [(p.row, p.column, p.code) for p in problems] == [
        (FIRST_ROW + 1, "A", "unknown_section"),
        (FIRST_ROW + 2, "A", "duplicate_section"),
    ]
    _, problems = read_sheet({"max_total": 1000}, [])
    assert [(p.row, p.code) for p in problems] == [(FIRST_ROW, "no_sections")]


def test_not_a_workbook() -> None:
    with pytest.raises(SheetFileError) as caught:
        read_xlsx(b"PK\x03\x04 not really")
    assert caught.value.code == "not_xlsx"


def test_old_sheets_keep_their_bytes_and_decimals_bind_the_scores() -> None:
    sheet = load_score_sheet(reference_json())
    assert sheet.model_dump(mode="json") == reference_json()  # no decimals/title/version keys
    fields, rows = sheet_rows(sheet)
    assert fields["max_total"] == "1000" and len(rows) == 3
    whole = sheet.model_copy(update={"decimals": 0})
    check_sections(sheet, {"c1": Decimal("500.5"), "c2": Decimal(1), "c3": Decimal(1)})
    with pytest.raises(RuleError) as caught:
        check_sections(whole, {"c1": Decimal("500.5"), "c2": Decimal(1), "c3": Decimal(1)})
    assert caught.value.code == "too_many_decimals"


async def test_saved_versions_of_a_province_sheet(store: EventStore) -> None:
    prefix = f"t{uuid.uuid4().hex[:6]}:"
    setup = SetupStore(store, prefix)
    sheet = load_score_sheet(reference_json())
    first, saved = await setup.save_sheet("Kiên Giang", 2018, sheet)
    assert saved.new and saved.version == 1 and first.version == 1
    again, saved = await setup.save_sheet("Kiên Giang", 2018, sheet)
    assert not saved.new and again == first  # the same content: nothing written
    changed = sheet.model_copy(update={"title": "Bảng điểm sửa"})
    second, saved = await setup.save_sheet("Kiên Giang", 2018, changed)
    assert saved.new and second.version == 2
    assert await setup.sheet("Kiên Giang", 2018, 1) == first
    assert await setup.sheet("Kiên Giang", 2018) == second
    assert await store.head(sheets_stream("Kiên Giang", 2018, prefix)) == 2
    assert await setup.sheet("Kiên Giang", 2019) is None


def test_a_workbook_with_too_many_rows_is_refused_at_the_bound() -> None:
    from domain.sheets import MAX_ROWS

    wb = load_workbook(io.BytesIO(write_template()))
    ws = wb["Bảng điểm"]
    for i in range(MAX_ROWS + 50):
        ws.cell(row=FIRST_ROW + i, column=1, value=f"s{i}")
        ws.cell(row=FIRST_ROW + i, column=4, value=1)
    buf = io.BytesIO()
    wb.save(buf)
    sheet, errors = read_xlsx(buf.getvalue())
    assert sheet is None
    assert [(e.row, e.code) for e in errors if e.code.startswith("too_many")] == [
        (FIRST_ROW, "too_many_sections"),
        (FIRST_ROW + MAX_ROWS, "too_many_rows"),
    ]


async def test_saved_sheets_and_rulesets_verify_as_setup_streams(store: EventStore) -> None:
    from app.audit import verify_all
    from domain.setup import Ruleset
    from domain.setup_events import rulesets_stream

    province = f"Tỉnh {uuid.uuid4().hex[:6]}"
    setup = SetupStore(store)
    await setup.save_sheet(province, 2041, load_score_sheet(reference_json()))
    await setup.save_ruleset(province, Ruleset(quorum="3/4"))
    mine = {sheets_stream(province, 2041), rulesets_stream(province)}
    failures = await verify_all(store, parse=True)
    assert [f.stream for f in failures if f.stream in mine] == []
    # an event of a setup stream that does not read as its kind is named when parsing
    bad = sheets_stream(province, 2042)
    record = EventRecord(
        event_id=uuid.uuid4(),
        type="score_sheet_saved",
        data={"province": province, "year": 2042, "sheet": {"max_total": "x"}},
        actor={"kind": "admin"},
        effective_at=datetime.now(UTC),
    )
    await store.append(bad, 0, [record])
    assert [f.stream for f in await verify_all(store, year=2042) if f.stream == bad] == []
    failures = await verify_all(store, year=2042, parse=True)
    assert [
        (f.stream, f.report.first.kind) for f in failures if f.stream == bad and f.report.first
    ] == [(bad, "unreadable")]
