"""The self-score template read back (app/documents/score_template.py): each wrong cell named
with its rule, a file that is no workbook or too large refused in one sentence."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from app.documents.score_template import (
    MAX_TEMPLATE_BYTES,
    TemplateError,
    read_score_template,
    score_template,
)
from app.runner import reference_scenario

pytestmark = pytest.mark.pure

SHEET = reference_scenario().score_sheet


def filled(values: dict[str, object]) -> bytes:
    wb = load_workbook(
        BytesIO(score_template(SHEET, block="Khối thi đua số 2", year=2018, unit="Sở Nội vụ"))
    )
    ws = wb["Tự chấm điểm"]
    for row in ws.iter_rows(min_row=6, max_row=8):
        row[3].value = values.get(row[0].value)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def sentences(data: bytes) -> list[str]:
    with pytest.raises(TemplateError) as caught:
        read_score_template(data, SHEET)
    return [p.sentence for p in caught.value.problems]


def test_numbers_and_decimal_commas_are_read() -> None:
    got = read_score_template(filled({"c1": "575", "c2": 190.4, "c3": "189,5"}), SHEET)
    assert got == {"c1": Decimal("575"), "c2": Decimal("190.4"), "c3": Decimal("189.5")}


def test_each_wrong_cell_is_named_with_its_rule() -> None:
    assert sentences(filled({"c1": -1, "c2": "12,345", "c3": None})) == [
        "Ô D6 (Nội dung 1): không được nhỏ hơn 0.",
        "Ô D7 (Nội dung 2): tối đa 2 chữ số thập phân.",
        "Ô D8 (Nội dung 3): chưa nhập điểm tự chấm.",
    ]


def test_no_workbook_and_too_large_are_one_sentence() -> None:
    assert sentences(b"not a zip") == [
        "Tệp không phải bảng tính Excel (.xlsx) theo mẫu tự chấm điểm."
    ]
    assert sentences(b"x" * (MAX_TEMPLATE_BYTES + 1)) == [
        "Tệp lớn hơn 256 KB; mẫu tự chấm điểm chỉ vài KB."
    ]
