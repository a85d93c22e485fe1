"""Score sheets and rulesets of a province, saved and versioned; the .xlsx template of a score
sheet and its import (openpyxl); the Vietnamese sentences of a wrong cell.

A save is an event of the province's stream (domain/setup_events.py); saving the same content
again writes nothing and returns the saved version. The CLI (`thidua sheet …`) and the pages
(app/http/pages/setup_year.py) call these.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from domain.province import province_slug
from domain.setup import Ruleset, ScoreSheet
from domain.setup_events import (
    RulesetSaved,
    ScoreSheetSaved,
    rulesets_stream,
    sheets_stream,
)
from domain.sheets import (
    FIELD_ROWS,
    FIRST_ROW,
    HEADER_ROW,
    HEADERS,
    LABELS,
    MAX_ROWS,
    SHEET_NAME,
    CellProblem,
    read_sheet,
    rows_of_cells,
    sheet_rows,
)
from domain.values import Actor
from eventstore import EventStore
from eventstore.execute import execute
from eventstore.records import StoredEvent

__all__ = [
    "CELL_RULE",
    "MAX_XLSX",
    "CellError",
    "SetupStore",
    "SheetFileError",
    "cell_errors",
    "read_xlsx",
    "write_template",
]

MAX_XLSX = 2 * 1024 * 1024
"""The largest workbook read (bytes)."""

CELL_RULE = {
    "required": "Ô này không được để trống.",
    "invalid_id": "Mã chỉ gồm chữ thường không dấu, chữ số, dấu '.', '_' hoặc '-', bắt đầu bằng "
    "chữ hoặc số, tối đa 64 ký tự (ví dụ: c1, noi-dung-2).",
    "not_a_number": "Điểm phải là một số (ví dụ 600 hoặc 12,5).",
    "score_not_positive": "Điểm tối đa phải lớn hơn 0.",
    "too_many_decimals": "Điểm có quá {decimals} chữ số thập phân.",
    "invalid_decimals": "Số chữ số thập phân là 0, 1 hoặc {max}.",
    "text_too_long": "Nội dung dài quá {max} ký tự.",
    "invalid_text": "Nội dung có ký tự không hợp lệ.",
    "duplicate_section": "Mã nội dung này đã có ở một dòng trên.",
    "duplicate_criterion": "Mã tiêu chí này đã có trong cùng nội dung ở một dòng trên.",
    "unknown_section": "Tiêu chí thuộc một nội dung chưa có dòng riêng (dòng có mã nội dung và "
    "để trống mã tiêu chí).",
    "criteria_sum": "Điểm tối đa của nội dung phải bằng tổng điểm các tiêu chí của nó ({sum}).",
    "total_mismatch": "Tổng điểm tối đa phải bằng tổng điểm các nội dung ({sum}).",
    "no_sections": "Bảng điểm cần ít nhất một nội dung.",
    "too_many_rows": "Bảng điểm có quá nhiều dòng (tối đa {max}).",
    "too_many_sections": "Bảng điểm có quá nhiều nội dung (tối đa {max}).",
}
"""The rule of a wrong cell, in Vietnamese (domain/sheets.py names the codes)."""

FILE_RULE = {
    "not_xlsx": "Tệp không phải là sổ tính Excel (.xlsx) đọc được.",
    "too_large": "Tệp lớn quá 2 MB.",
    "no_sheet": f'Sổ tính không có trang "{SHEET_NAME}" (hãy dùng tệp mẫu).',
}


@dataclass(frozen=True)
class CellError:
    """A wrong cell named for a person: sheet, row, column (letter and header), the rule's code
    and sentence."""

    sheet: str
    row: int
    column: str
    header: str
    code: str
    sentence: str

    def line(self) -> str:
        return (
            f'Trang "{self.sheet}", dòng {self.row}, cột {self.column} ({self.header}): '
            f"{self.sentence}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "header": self.header,
            "code": self.code,
            "sentence": self.sentence,
        }


class SheetFileError(Exception):
    """A file that is not a workbook of the template."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
        self.sentence = FILE_RULE[code]


def _header(p: CellProblem) -> str:
    if p.row < HEADER_ROW:
        label = next((LABELS[k] for k, r in FIELD_ROWS.items() if r == p.row), "")
        return label
    return HEADERS["ABCD".index(p.column)]


def cell_errors(problems: list[CellProblem], sheet: str = SHEET_NAME) -> list[CellError]:
    out = []
    for p in problems:
        text = CELL_RULE.get(p.code, "Ô này chưa hợp lệ.").format(**dict(p.values))
        out.append(CellError(sheet, p.row, p.column, _header(p), p.code, text))
    return out


def write_template(sheet: ScoreSheet | None = None) -> bytes:
    """The .xlsx to fill: the three fields, the table's headers (and the rows of `sheet`, when
    given: a saved sheet to edit in Excel)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_NAME
    fields, rows = (
        sheet_rows(sheet)
        if sheet is not None
        else ({"title": "", "max_total": "1000", "decimals": "2"}, [])
    )
    for key, row in FIELD_ROWS.items():
        ws.cell(row=row, column=1, value=LABELS[key]).font = Font(bold=True)
        value: Any = fields.get(key) or None
        if key in ("max_total", "decimals") and value is not None:
            value = _cell_number(value)
        ws.cell(row=row, column=2, value=value)
    for i, h in enumerate(HEADERS, start=1):
        ws.cell(row=HEADER_ROW, column=i, value=h).font = Font(bold=True)
    for r in rows:
        ws.cell(row=r.row, column=1, value=r.section)
        ws.cell(row=r.row, column=2, value=r.criterion)
        ws.cell(row=r.row, column=3, value=r.title)
        ws.cell(row=r.row, column=4, value=_cell_number(r.max))
    ws.cell(
        row=4,
        column=1,
        value=(
            "Mỗi nội dung một dòng (để trống mã tiêu chí); mỗi tiêu chí một dòng dưới nội dung của "
            "nó (ghi mã nội dung và mã tiêu chí). Điểm tối đa của nội dung bằng tổng điểm các tiêu "
            "chí; tổng điểm tối đa bằng tổng điểm các nội dung."
        ),
    ).font = Font(italic=True)
    decimals = DataValidation(
        type="whole", operator="between", formula1="0", formula2="2", allow_blank=True
    )
    ws.add_data_validation(decimals)
    decimals.add(f"B{FIELD_ROWS['decimals']}")
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 16
    ws.column_dimensions["C"].width = 70
    ws.column_dimensions["D"].width = 14
    ws.freeze_panes = f"A{FIRST_ROW}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell_number(text: Any) -> Any:
    """A canonical decimal as the number the workbook shows (an int when whole)."""
    if text is None:
        return None
    s = str(text)
    return int(s) if s.isdigit() else float(s)


def read_xlsx(data: bytes) -> tuple[ScoreSheet | None, list[CellError]]:
    """The sheet of a filled template, or its wrong cells (SheetFileError: not a workbook)."""
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if len(data) > MAX_XLSX:
        raise SheetFileError("too_large")
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, ValueError, OSError, TypeError, InvalidFileException):
        raise SheetFileError("not_xlsx") from None
    try:
        if SHEET_NAME not in wb.sheetnames:
            raise SheetFileError("no_sheet")
        ws = wb[SHEET_NAME]
        fields = {key: ws.cell(row=row, column=2).value for key, row in FIELD_ROWS.items()}
        # bounded: a workbook may claim a million rows; past MAX_ROWS the sheet is refused
        cells = [
            list(r)
            for r in ws.iter_rows(
                min_row=FIRST_ROW, max_row=FIRST_ROW + MAX_ROWS, max_col=4, values_only=True
            )
        ]
    except SheetFileError:
        raise
    except Exception:  # the sheet's XML is read lazily: whatever breaks there is a bad file
        raise SheetFileError("not_xlsx") from None
    finally:
        wb.close()
    sheet, problems = read_sheet(fields, rows_of_cells(cells))
    return sheet, cell_errors(problems)


def read_xlsx_file(path: Path) -> tuple[ScoreSheet | None, list[CellError]]:
    data = path.read_bytes()[: MAX_XLSX + 1]
    return read_xlsx(data)


@dataclass(frozen=True)
class Saved:
    """A saved sheet or ruleset, and whether this save wrote it (False: the same content was
    already the latest version)."""

    version: int
    new: bool


class SetupStore:
    """The province's score sheets (by year) and rulesets, over the event store."""

    def __init__(self, store: EventStore, prefix: str = "") -> None:
        self.store, self.prefix = store, prefix

    # ---- score sheets ---------------------------------------------------------------------

    async def sheets(self, province: str, year: int) -> list[ScoreSheet]:
        """Every saved version of the province's sheet of `year`, oldest first."""
        rows = await self.store.read_stream(sheets_stream(province, year, self.prefix))
        return _saved_sheets(rows)[0]

    async def sheet(
        self, province: str, year: int, version: int | None = None
    ) -> ScoreSheet | None:
        """The sheet of that version (the latest when None), or None."""
        saved = await self.sheets(province, year)
        if version is None:
            return saved[-1] if saved else None
        return next((s for s in saved if s.version == version), None)

    async def save_sheet(
        self, province: str, year: int, sheet: ScoreSheet, actor: Actor | None = None
    ) -> tuple[ScoreSheet, Saved]:
        """Save `sheet` as the next version (nothing when it equals the latest), through the one
        command loop (eventstore.execute): a save that meets another judges again."""

        def decide(state: tuple[list[ScoreSheet], int]) -> list[ScoreSheetSaved]:
            saved, head = state
            if saved and saved[-1].content() == sheet.content():
                return []
            pinned = sheet.model_copy(update={"version": head + 1})
            return [
                ScoreSheetSaved(
                    event_id=uuid.uuid4(),
                    at=datetime.now(UTC),
                    actor=actor or Actor.admin(),
                    province=province,
                    year=year,
                    sheet=pinned,
                )
            ]

        stream = sheets_stream(province, year, self.prefix)
        done = await execute(self.store, stream, _saved_sheets, decide)
        saved, head = done.state
        if not done.events:
            return saved[-1], Saved(saved[-1].version or len(saved), False)
        return done.events[0].sheet, Saved(head + 1, True)

    # ---- rulesets -------------------------------------------------------------------------

    async def rulesets(self, province: str) -> list[Ruleset]:
        rows = await self.store.read_stream(rulesets_stream(province, self.prefix))
        return _saved_rulesets(rows)[0]

    async def ruleset(self, province: str, version: int | None = None) -> Ruleset | None:
        saved = await self.rulesets(province)
        if version is None:
            return saved[-1] if saved else None
        return next((r for r in saved if r.version == version), None)

    async def save_ruleset(
        self, province: str, ruleset: Ruleset, actor: Actor | None = None
    ) -> tuple[Ruleset, Saved]:
        """Save `ruleset` as the province's next version (nothing when it equals the latest),
        through the one command loop (eventstore.execute)."""
        # named after its province: the cycle that pins it says whose rules, which version
        same = {"id": province_slug(province), "version": 1}

        def decide(state: tuple[list[Ruleset], int]) -> list[RulesetSaved]:
            saved, head = state
            if saved and saved[-1].model_copy(update=same) == ruleset.model_copy(update=same):
                return []
            pinned = ruleset.model_copy(update={"id": same["id"], "version": head + 1})
            return [
                RulesetSaved(
                    event_id=uuid.uuid4(),
                    at=datetime.now(UTC),
                    actor=actor or Actor.admin(),
                    province=province,
                    ruleset=pinned,
                )
            ]

        stream = rulesets_stream(province, self.prefix)
        done = await execute(self.store, stream, _saved_rulesets, decide)
        saved, head = done.state
        if not done.events:
            return saved[-1], Saved(saved[-1].version, False)
        return done.events[0].ruleset, Saved(head + 1, True)


def _saved_sheets(rows: Sequence[StoredEvent]) -> tuple[list[ScoreSheet], int]:
    """The saved sheets of a stream, oldest first, and the stream's version."""
    sheets = [
        ScoreSheet.model_validate(r.data["sheet"]) for r in rows if r.type == "score_sheet_saved"
    ]
    return sheets, rows[-1].version if rows else 0


def _saved_rulesets(rows: Sequence[StoredEvent]) -> tuple[list[Ruleset], int]:
    """The saved rulesets of a stream, oldest first, and the stream's version."""
    rulesets = [
        Ruleset.model_validate(r.data["ruleset"]) for r in rows if r.type == "ruleset_saved"
    ]
    return rulesets, rows[-1].version if rows else 0
