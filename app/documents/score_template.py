"""The score sheet as an Excel template a unit fills offline, and the filled file read back.

    score_template(sheet, block=…, year=…, unit=…, prefill=None) -> bytes (.xlsx)
    read_score_template(data, sheet) -> {section id: Decimal}   (TemplateError naming each cell)

The template's sheet `Tự chấm điểm` has the cycle on its first rows, then one row per section:
its id (column A, the key read back), title, maximum and the unit's score (column D, with
Excel's own check of the range). Reading it back names every wrong cell in Vietnamese (`Ô D7
(Nội dung 2): vượt quá điểm tối đa 200.`) and never repeats what the cell holds. The rules still
judge the scores when the form is sent.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import Any

from domain.setup import ScoreSheet

from ..words import vn_number

__all__ = [
    "MAX_TEMPLATE_BYTES",
    "SHEET_TITLE",
    "CellProblem",
    "TemplateError",
    "read_score_template",
    "score_template",
]

SHEET_TITLE = "Tự chấm điểm"
HEADER = ("Mã nội dung", "Nội dung", "Điểm tối đa", "Điểm tự chấm")
MAX_TEMPLATE_BYTES = 256 * 1024
"""The largest upload read (a filled template is a few kilobytes)."""
_MAX_UNPACKED = 8 * 1024 * 1024
"""The most the file's members may unpack to together, checked before openpyxl opens it."""
_MAX_ROWS = 200


@dataclass(frozen=True)
class CellProblem:
    cell: str
    """`D7`, or "" for the file as a whole."""
    sentence: str


class TemplateError(ValueError):
    def __init__(self, problems: list[CellProblem]) -> None:
        super().__init__("; ".join(p.sentence for p in problems))
        self.problems = problems


def _short(title: str, sid: str) -> str:
    head, sep, _ = (title or "").partition(":")
    return head.strip() if sep else (title or sid)


def score_template(
    sheet: ScoreSheet,
    *,
    block: str,
    year: int,
    unit: str,
    prefill: dict[str, Decimal] | None = None,
) -> bytes:
    """The template of `sheet` for `unit`, its score column filled with `prefill` when given."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_TITLE
    ws.append(["Khối", block])
    ws.append(["Năm", year])
    ws.append(["Đơn vị", unit])
    ws.append(
        [
            "Hướng dẫn",
            "Nhập điểm tự chấm ở cột D (số, tối đa 2 chữ số thập phân; dấu "
            "phẩy hoặc dấu chấm thập phân); không sửa cột A.",
        ]
    )
    ws.append(list(HEADER))
    header_row = ws.max_row
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
    first = header_row + 1
    for sec in sheet.sections:
        value = (prefill or {}).get(sec.id)
        ws.append([sec.id, sec.title or sec.id, sec.max, value])
        row = ws.max_row
        check = DataValidation(
            type="decimal",
            operator="between",
            formula1="0",
            formula2=str(sec.max),
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Điểm không hợp lệ",
            error=f"Điểm từ 0 đến {vn_number(sec.max)}.",
        )
        ws.add_data_validation(check)
        check.add(f"D{row}")
        ws[f"D{row}"].protection = Protection(locked=False)
    last = ws.max_row
    ws.append(["Tổng", None, sheet.max_total, f"=SUM(D{first}:D{last})"])
    ws[f"A{ws.max_row}"].font = Font(bold=True)
    for col, width in zip("ABCD", (16, 70, 12, 14), strict=True):
        ws.column_dimensions[col].width = width
    wb.properties.title = f"Mẫu tự chấm điểm – {block} – năm {year}"
    wb.properties.creator = "thidua"
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _not_a_workbook() -> TemplateError:
    return TemplateError(
        [CellProblem("", "Tệp không phải bảng tính Excel (.xlsx) theo mẫu tự chấm điểm.")]
    )


def _open(data: bytes) -> Any:
    from openpyxl import load_workbook

    if len(data) > MAX_TEMPLATE_BYTES:
        raise TemplateError(
            [
                CellProblem(
                    "", f"Tệp lớn hơn {MAX_TEMPLATE_BYTES // 1024} KB; mẫu tự chấm điểm chỉ vài KB."
                )
            ]
        )
    try:
        with zipfile.ZipFile(BytesIO(data)) as z:
            if sum(i.file_size for i in z.infolist()) > _MAX_UNPACKED:
                raise _not_a_workbook()
        return load_workbook(BytesIO(data), read_only=True, data_only=True)
    except TemplateError:
        raise
    except Exception:  # not a zip, not a workbook, a broken part: one sentence, no internals
        raise _not_a_workbook() from None


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip().replace(" ", "").replace(",", ".")
        if not text or len(text) > 20 or not text.isascii():
            return None
        try:
            d = Decimal(text)
        except InvalidOperation:
            return None
        return d if d.is_finite() else None
    return None


def read_score_template(data: bytes, sheet: ScoreSheet) -> dict[str, Decimal]:
    """The scores of a filled template, by section id; TemplateError naming every wrong cell
    (and every missing section) otherwise."""
    wb = _open(data)
    try:
        if SHEET_TITLE not in wb.sheetnames:
            raise TemplateError(
                [CellProblem("", f"Tệp không có trang tính “{SHEET_TITLE}” của mẫu tự chấm điểm.")]
            )
        rows = list(
            wb[SHEET_TITLE].iter_rows(min_row=1, max_row=_MAX_ROWS, max_col=4, values_only=True)
        )
    finally:
        wb.close()
    header = next(
        (
            i
            for i, r in enumerate(rows, start=1)
            if r and isinstance(r[0], str) and r[0].strip() == HEADER[0]
        ),
        None,
    )
    if header is None:
        raise TemplateError(
            [
                CellProblem(
                    "", f"Không tìm thấy dòng tiêu đề “{HEADER[0]}” ở cột A của mẫu tự chấm điểm."
                )
            ]
        )
    by_id = {sec.id: sec for sec in sheet.sections}
    problems: list[CellProblem] = []
    scores: dict[str, Decimal] = {}
    seen: set[str] = set()
    for n, row in enumerate(rows[header:], start=header + 1):
        key = row[0] if row else None
        if key is None or (isinstance(key, str) and not key.strip()):
            if row and any(v is not None for v in row[1:]):
                problems.append(CellProblem(f"A{n}", f"Ô A{n}: thiếu mã nội dung."))
            continue
        if isinstance(key, str) and key.strip() == "Tổng":
            break
        sid = key.strip() if isinstance(key, str) else None
        sec = by_id.get(sid) if sid else None
        if sec is None or sid is None:
            problems.append(
                CellProblem(
                    f"A{n}", f"Ô A{n}: mã nội dung không có trong bảng điểm của kỳ thi đua."
                )
            )
            continue
        name = _short(sec.title, sec.id)
        if sid in seen:
            problems.append(CellProblem(f"A{n}", f"Ô A{n}: {name} có hơn một dòng."))
            continue
        seen.add(sid)
        raw = row[3] if len(row) > 3 else None
        where = f"Ô D{n} ({name})"
        value = _number(raw)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            problems.append(CellProblem(f"D{n}", f"{where}: chưa nhập điểm tự chấm."))
        elif value is None:
            problems.append(CellProblem(f"D{n}", f"{where}: phải là một số."))
        elif value < 0:
            problems.append(CellProblem(f"D{n}", f"{where}: không được nhỏ hơn 0."))
        elif value > sec.max:
            problems.append(
                CellProblem(f"D{n}", f"{where}: vượt quá điểm tối đa {vn_number(sec.max)}.")
            )
        elif value != value.quantize(Decimal("0.01")):
            problems.append(CellProblem(f"D{n}", f"{where}: tối đa 2 chữ số thập phân."))
        else:
            scores[sid] = value
    for sec in sheet.sections:
        if sec.id not in seen:
            problems.append(
                CellProblem(
                    "", f"Thiếu dòng của {_short(sec.title, sec.id)} (cột A ghi mã “{sec.id}”)."
                )
            )
    if problems:
        raise TemplateError(problems)
    return scores
