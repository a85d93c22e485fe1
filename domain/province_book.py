"""A province's blocks as one table (the secretariat's workbook, read in app/province_setup.py):
its columns, and its rows parsed into blocks with every wrong cell named by sheet, row, column
and rule code. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .province import province_slug, slug
from .values import ID_PATTERN, TEXT_MAX

__all__ = [
    "COLUMNS",
    "DEPUTY_MARK",
    "HEAD_MARK",
    "SHEET",
    "BookBlock",
    "BookMember",
    "CellProblem",
    "cell_problem",
    "parse_rows",
    "suggest_id",
]

SHEET = "Khối thi đua"
"""The name of the workbook's one sheet."""

COLUMNS: tuple[tuple[str, str], ...] = (
    ("province", "Tỉnh, thành phố"),
    ("block_id", "Mã khối"),
    ("block_name", "Tên khối thi đua"),
    ("unit", "Mã đơn vị"),
    ("name", "Tên đầy đủ của đơn vị"),
    ("role", "Khối trưởng / Khối phó"),
)
"""The columns, in order (A to F): the field and its Vietnamese header."""

HEAD_MARK, DEPUTY_MARK = "Khối trưởng", "Khối phó"

_LETTER = {f: chr(ord("A") + i) for i, (f, _) in enumerate(COLUMNS)}
_HEADER = dict(COLUMNS)
_ID = re.compile(ID_PATTERN)


@dataclass(frozen=True)
class CellProblem:
    """A wrong cell (or, with row None, a problem of the table as a whole): the rule code and
    the values its sentence needs."""

    sheet: str
    row: int | None
    column: str | None  # the letter
    header: str | None
    code: str
    values: dict[str, Any] = field(default_factory=dict)

    def where(self) -> str:
        if self.row is None:
            return f"Trang «{self.sheet}»"
        col = f", cột {self.column} ({self.header})" if self.column else ""
        return f"Trang «{self.sheet}», dòng {self.row}{col}"


@dataclass(frozen=True)
class BookMember:
    row: int
    unit: str
    name: str
    role: str  # "", "head", "deputy"


@dataclass
class BookBlock:
    """A block as the table lists it (its first row, to name it in problems)."""

    id: str
    name: str
    row: int
    members: list[BookMember] = field(default_factory=list)


def cell_problem(
    sheet: str, row: int | None, col: str | None, code: str, /, **values: Any
) -> CellProblem:
    return CellProblem(sheet, row, _LETTER.get(col or ""), _HEADER.get(col or ""), code, values)


def suggest_id(name: str) -> str:
    """An id from a name: "Khối thi đua số 2" → "khoi-thi-dua-so-2" (at most 64 characters)."""
    return slug(name)[:64].strip("-")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _role(text: str) -> str | None:
    folded = suggest_id(text)
    if not folded:
        return ""
    if folded in ("khoi-truong", "kt", "truong-khoi"):
        return "head"
    if folded in ("khoi-pho", "kp", "pho-khoi"):
        return "deputy"
    return None


def parse_rows(
    rows: Iterable[tuple[int, Sequence[Any]]], sheet: str = SHEET
) -> tuple[str, list[BookBlock], list[CellProblem]]:
    """The sheet's rows (row number, cell values), the first being the header → (the province,
    its blocks in the order they first appear, the problems). Empty rows are skipped."""
    problems: list[CellProblem] = []
    it = iter(rows)
    header = next(it, None)
    if header is None:
        return "", [], [cell_problem(sheet, None, None, "empty_book")]
    hrow, hvalues = header
    for i, (f, title) in enumerate(COLUMNS):
        got = _cell(hvalues[i]) if i < len(hvalues) else ""
        if suggest_id(got) != suggest_id(title):
            problems.append(cell_problem(sheet, hrow, f, "wrong_header", expected=title))
    if problems:
        return "", [], problems
    province = ""
    province_row = 0
    blocks: dict[str, BookBlock] = {}
    ids_of_names: dict[str, str] = {}
    seen_units: dict[str, tuple[str, int]] = {}
    pending: list[tuple[int, dict[str, str]]] = []
    for n, values in it:
        cells = {f: _cell(values[i]) if i < len(values) else "" for i, (f, _) in enumerate(COLUMNS)}
        if not any(cells.values()):
            continue
        for f, text in cells.items():
            if len(text) > TEXT_MAX:
                problems.append(cell_problem(sheet, n, f, "text_too_long"))
                cells[f] = ""
        if not cells["province"]:
            problems.append(cell_problem(sheet, n, "province", "required"))
        elif not province:
            province, province_row = cells["province"], n
        elif province_slug(cells["province"]) != province_slug(province):
            problems.append(
                cell_problem(
                    sheet,
                    n,
                    "province",
                    "province_mixed",
                    province=province,
                    first_row=province_row,
                )
            )
        if cells["block_id"] and not _ID.fullmatch(cells["block_id"]):
            problems.append(cell_problem(sheet, n, "block_id", "invalid_id"))
            cells["block_id"] = ""
        elif cells["block_id"] and cells["block_name"]:
            ids_of_names.setdefault(cells["block_name"], cells["block_id"])
        if not cells["block_id"] and not cells["block_name"]:
            problems.append(cell_problem(sheet, n, "block_name", "block_missing"))
            continue
        pending.append((n, cells))
    for n, cells in pending:
        bid = (
            cells["block_id"]
            or ids_of_names.get(cells["block_name"])
            or suggest_id(cells["block_name"])
        )
        if not bid:
            problems.append(cell_problem(sheet, n, "block_name", "invalid_name"))
            continue
        block = blocks.get(bid)
        if block is None:
            block = blocks[bid] = BookBlock(id=bid, name=cells["block_name"], row=n)
        elif cells["block_name"] and not block.name:
            block.name = cells["block_name"]
        elif cells["block_name"] and cells["block_name"] != block.name:
            problems.append(
                cell_problem(
                    sheet,
                    n,
                    "block_name",
                    "block_name_mismatch",
                    name=block.name,
                    first_row=block.row,
                )
            )
        unit = cells["unit"] or suggest_id(cells["name"])
        if not unit:
            problems.append(cell_problem(sheet, n, "unit", "required"))
            continue
        if not _ID.fullmatch(unit):
            problems.append(cell_problem(sheet, n, "unit", "invalid_id"))
            continue
        if not cells["name"]:
            problems.append(cell_problem(sheet, n, "name", "required"))
        role = _role(cells["role"])
        if role is None:
            problems.append(cell_problem(sheet, n, "role", "invalid_mark"))
            role = ""
        if unit in seen_units:
            other, row = seen_units[unit]
            code = "duplicate_unit" if other == bid else "unit_in_two_blocks"
            problems.append(cell_problem(sheet, n, "unit", code, unit=unit, block=other, row=row))
            continue
        seen_units[unit] = (bid, n)
        block.members.append(BookMember(row=n, unit=unit, name=cells["name"], role=role))
    for block in blocks.values():
        if not block.name:
            problems.append(cell_problem(sheet, block.row, "block_name", "required"))
        for role in ("head", "deputy"):
            marked = [m for m in block.members if m.role == role]
            for extra in marked[1:]:
                problems.append(
                    cell_problem(
                        sheet,
                        extra.row,
                        "role",
                        "two_heads" if role == "head" else "two_deputies",
                        block=block.id,
                        row=marked[0].row,
                    )
                )
    if not blocks and not problems:
        problems.append(cell_problem(sheet, None, None, "empty_book"))
    return province, list(blocks.values()), problems
