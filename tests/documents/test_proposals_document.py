"""The council's list (app/documents/proposals.py): the national header beside the issuing body,
the blocks in natural order, and each unit counted once however many blocks propose it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.documents.proposals import natural_key, render_document
from domain.province import BlockProposals, ProposedUnit, ProvinceProposals

pytestmark = pytest.mark.pure

UNITS = [
    ("vp-ubnd", "Văn phòng UBND tỉnh"),
    ("so-khdt", "Sở Kế hoạch và Đầu tư"),
    ("so-ngoai-vu", "Sở Ngoại vụ"),
]


def block(number: int) -> BlockProposals:
    proposals = tuple(
        ProposedUnit(
            place=i,
            unit=u,
            name=name,
            title="Cờ thi đua của UBND tỉnh" if i == 1 else "Bằng khen của Chủ tịch UBND tỉnh",
            total=Decimal("983.5"),
            approvals=7,
            voters=7,
            round=1,
            decided_by="vote",
        )
        for i, (u, name) in enumerate(UNITS, start=1)
    )
    return BlockProposals(
        block_id=f"khoi-{number}",
        block_name=f"Khối thi đua số {number}",
        cycle_id=f"c{number}",
        status="completed",
        proposals=proposals,
    )


def test_the_list_has_the_header_natural_order_and_distinct_units() -> None:
    # as compile_proposals orders them: by block id, as text
    p = ProvinceProposals(
        province="Kiên Giang", year=2018, blocks=tuple(block(n) for n in (1, 10, 2))
    )
    text = render_document(p)
    head = text.splitlines()[:2]
    assert "UBND TỈNH KIÊN GIANG" in head[0] and head[0].endswith(
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    )
    assert "HỘI ĐỒNG THI ĐUA – KHEN THƯỞNG" in head[1] and head[1].endswith(
        "Độc lập - Tự do - Hạnh phúc"
    )
    order = [line for line in text.splitlines() if line.startswith(("I.", "II.", "III."))]
    assert [line.split(" (")[0] for line in order] == [
        "I. Khối thi đua số 1",
        "II. Khối thi đua số 2",
        "III. Khối thi đua số 10",
    ]
    assert (
        "Tổng cộng: 3 đơn vị được đề nghị (9 lượt đề nghị: 3 Cờ thi đua, 6 Bằng khen), "
        "từ 3 khối đã tổng kết"
    ) in text


def test_one_block_counts_its_units_without_repeats() -> None:
    text = render_document(ProvinceProposals(province="Kiên Giang", year=2018, blocks=(block(2),)))
    assert "Tổng cộng: 3 đơn vị được đề nghị (1 Cờ thi đua, 2 Bằng khen)" in text


def test_natural_key_orders_numbers_by_value() -> None:
    names = ["Khối số 10", "Khối số 2", "khối số 1", "Cụm 3"]
    assert sorted(names, key=natural_key) == ["Cụm 3", "khối số 1", "Khối số 2", "Khối số 10"]
