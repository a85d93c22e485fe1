"""A score sheet as the secretariat writes it: a table of rows (a section, or a criterion of a
section) under three fields (title, total, decimals), the same on the page's form and in the
.xlsx template (app/sheets.py). Reading the table names each wrong cell (row, column, rule),
and yields the sheet only when no cell is wrong.

Pure: cell values in (text, numbers as the workbook or the form gives them), a ScoreSheet or a
list of CellProblem out.

The layout (rows and columns are those of the workbook; the form uses the same):

    row 1   A "Tên bảng điểm"        B the sheet's title (optional)
    row 2   A "Tổng điểm tối đa"     B the total (the sections' maxima sum to it)
    row 3   A "Số chữ số thập phân"  B 0, 1 or 2 (empty: 2)
    row 5   the headers of the table (HEADERS)
    row 6…  A the section's id, B the criterion's id (empty on the section's own row),
            C the title, D the maximum points
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .setup import SHEET_DECIMALS, Criterion, ScoreSheet, Section
from .values import ID_PATTERN, LIST_MAX, TEXT_MAX, canonical_decimal

__all__ = [
    "FIELD_ROWS",
    "FIRST_ROW",
    "HEADERS",
    "HEADER_ROW",
    "LABELS",
    "MAX_ROWS",
    "SHEET_NAME",
    "CellProblem",
    "SheetRow",
    "read_sheet",
    "rows_of_cells",
    "sheet_rows",
]

SHEET_NAME = "Bảng điểm"
LABELS = {
    "title": "Tên bảng điểm",
    "max_total": "Tổng điểm tối đa",
    "decimals": "Số chữ số thập phân",
}
FIELD_ROWS = {"title": 1, "max_total": 2, "decimals": 3}
"""The row of each field (its label in column A, its value in column B)."""
HEADER_ROW = 5
FIRST_ROW = 6
HEADERS = ("Mã nội dung", "Mã tiêu chí", "Tên nội dung, tiêu chí", "Điểm tối đa")
"""The table's columns A to D."""
COLUMNS = ("A", "B", "C", "D")
MAX_ROWS = LIST_MAX * 4

_ID = re.compile(ID_PATTERN, re.ASCII)
_NUMBER = re.compile(r"-?[0-9]{1,12}(?:[.,][0-9]{1,12})?", re.ASCII)


@dataclass(frozen=True)
class CellProblem:
    """A wrong cell: its row and column (A to D), the rule it breaks, and what the rule needs
    (`values` fills the rule's sentence; never the cell's content)."""

    row: int
    column: str
    code: str
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SheetRow:
    """One row of the table as typed: section id, criterion id, title, maximum."""

    row: int
    section: Any = None
    criterion: Any = None
    title: Any = None
    max: Any = None

    @property
    def empty(self) -> bool:
        return all(_blank(v) for v in (self.section, self.criterion, self.title, self.max))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _number(value: Any) -> Decimal | None:
    """A cell's number: an integer, a float as the workbook stores it (its shortest repr),
    a Decimal, or text with '.' or ',' before the decimals. None when it is not one (a negative
    one is a number: its rule is that points are above 0)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value) if abs(value) < 10**12 else None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")) or abs(value) >= 1e12:
            return None
        try:
            return Decimal(repr(value))
        except InvalidOperation:
            return None
    if isinstance(value, Decimal):
        return value if value.is_finite() and abs(value) < 10**12 else None
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        if _NUMBER.fullmatch(text):
            return Decimal(text.replace(",", "."))
    return None


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _points(
    value: Any, row: int, column: str, decimals: int, problems: list[CellProblem]
) -> Decimal | None:
    if _blank(value):
        problems.append(CellProblem(row, column, "required"))
        return None
    number = _number(value)
    if number is None:
        problems.append(CellProblem(row, column, "not_a_number"))
        return None
    if number <= 0:
        problems.append(CellProblem(row, column, "score_not_positive"))
        return None
    if _places(number) > decimals:
        problems.append(
            CellProblem(row, column, "too_many_decimals", (("decimals", str(decimals)),))
        )
        return None
    return number


def _id(value: Any, row: int, column: str, problems: list[CellProblem]) -> str | None:
    text = _text(value)
    if not text:
        problems.append(CellProblem(row, column, "required"))
        return None
    if not _ID.fullmatch(text):
        problems.append(CellProblem(row, column, "invalid_id"))
        return None
    return text


def _title(value: Any, row: int, column: str, problems: list[CellProblem]) -> str:
    text = _text(value)
    if len(text) > TEXT_MAX:
        problems.append(CellProblem(row, column, "text_too_long", (("max", str(TEXT_MAX)),)))
        return ""
    if "\x00" in text:
        problems.append(CellProblem(row, column, "invalid_text"))
        return ""
    return text


def read_sheet(
    fields: dict[str, Any], rows: Iterable[SheetRow]
) -> tuple[ScoreSheet | None, list[CellProblem]]:
    """The sheet of a table, or every wrong cell (in row and column order) and None."""
    problems: list[CellProblem] = []
    title = _title(fields.get("title"), FIELD_ROWS["title"], "B", problems)
    decimals = SHEET_DECIMALS
    raw_decimals = fields.get("decimals")
    if not _blank(raw_decimals):
        d = _number(raw_decimals)
        if d is None or d != d.to_integral_value() or not 0 <= d <= SHEET_DECIMALS:
            problems.append(
                CellProblem(
                    FIELD_ROWS["decimals"], "B", "invalid_decimals", (("max", str(SHEET_DECIMALS)),)
                )
            )
        else:
            decimals = int(d)
    max_total = _points(fields.get("max_total"), FIELD_ROWS["max_total"], "B", decimals, problems)

    sections: dict[str, dict[str, Any]] = {}
    criteria: list[tuple[int, str, Criterion]] = []
    seen_criteria: set[tuple[str, str]] = set()
    incomplete: set[str] = set()
    """Sections with a criterion whose points are wrong: their sum is not judged."""
    count = 0
    for r in rows:
        if r.empty:
            continue
        count += 1
        if count > MAX_ROWS:
            problems.append(CellProblem(r.row, "A", "too_many_rows", (("max", str(MAX_ROWS)),)))
            break
        sid = _id(r.section, r.row, "A", problems)
        is_criterion = not _blank(r.criterion)
        cid = _id(r.criterion, r.row, "B", problems) if is_criterion else None
        text = _title(r.title, r.row, "C", problems)
        points = _points(r.max, r.row, "D", decimals, problems)
        if sid is None or (is_criterion and cid is None):
            continue
        if not is_criterion:
            if sid in sections:
                problems.append(CellProblem(r.row, "A", "duplicate_section"))
                continue
            sections[sid] = {"row": r.row, "title": text, "max": points}
            continue
        assert cid is not None
        if (sid, cid) in seen_criteria:
            problems.append(CellProblem(r.row, "B", "duplicate_criterion"))
            continue
        seen_criteria.add((sid, cid))
        if points is None:
            incomplete.add(sid)
        else:
            criteria.append((r.row, sid, Criterion(id=cid, title=text, max=points)))

    for row, sid, _ in criteria:
        if sid not in sections:
            problems.append(CellProblem(row, "A", "unknown_section"))
    if not sections and not any(p.row >= FIRST_ROW for p in problems):
        problems.append(CellProblem(FIRST_ROW, "A", "no_sections"))
    if len(sections) > LIST_MAX:
        problems.append(CellProblem(FIRST_ROW, "A", "too_many_sections", (("max", str(LIST_MAX)),)))

    built: list[Section] = []
    for sid, s in sections.items():
        own = tuple(c for _, cs, c in criteria if cs == sid)
        if s["max"] is None or sid in incomplete:
            continue
        if own:
            part = sum((c.max for c in own), Decimal(0))
            if part != s["max"]:
                problems.append(
                    CellProblem(s["row"], "D", "criteria_sum", (("sum", canonical_decimal(part)),))
                )
                continue
        built.append(Section(id=sid, title=s["title"], max=s["max"], criteria=own))
    if max_total is not None and not problems:
        total = sum((s.max for s in built), Decimal(0))
        if total != max_total:
            problems.append(
                CellProblem(
                    FIELD_ROWS["max_total"],
                    "B",
                    "total_mismatch",
                    (("sum", canonical_decimal(total)),),
                )
            )
    if problems:
        return None, sorted(problems, key=lambda p: (p.row, p.column))
    assert max_total is not None
    return ScoreSheet(
        max_total=max_total, sections=tuple(built), decimals=decimals, title=title
    ), []


def sheet_rows(sheet: ScoreSheet) -> tuple[dict[str, str], list[SheetRow]]:
    """The fields and table of a sheet (the template filled, or the page's form)."""
    fields = {
        "title": sheet.title,
        "max_total": canonical_decimal(sheet.max_total),
        "decimals": str(sheet.decimals),
    }
    rows: list[SheetRow] = []
    n = FIRST_ROW
    for s in sheet.sections:
        rows.append(SheetRow(n, s.id, None, s.title, canonical_decimal(s.max)))
        n += 1
        for c in s.criteria:
            rows.append(SheetRow(n, s.id, c.id, c.title, canonical_decimal(c.max)))
            n += 1
    return fields, rows


def rows_of_cells(cells: Sequence[Sequence[Any]], first: int = FIRST_ROW) -> list[SheetRow]:
    """Rows of the table from lists of cell values (columns A to D), numbered from `first`."""
    out = []
    for i, values in enumerate(cells):
        v = list(values[:4]) + [None] * (4 - len(values[:4]))
        out.append(SheetRow(first + i, *v))
    return out
