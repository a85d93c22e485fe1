"""The pure rules of a province's table and of one unit in one block (no database)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.block import JoinBlock, RegisterBlock
from domain.block_province import check_block_command
from domain.block_rules import decide_block
from domain.block_state import BlockState, fold_block
from domain.errors import RuleError
from domain.province_book import COLUMNS, parse_rows, suggest_id
from domain.province_setup import plan_province
from domain.setup import Block, Member
from domain.values import Actor

HEADER = [t for _, t in COLUMNS]
P = "Kiên Giang"


def rows(*data: list[Any]) -> list[tuple[int, list[Any]]]:
    return list(enumerate([HEADER, *data], start=1))


def registered(block_id: str, units: list[str], province: str = P) -> BlockState:
    block = Block(
        id=block_id,
        name=f"Khối {block_id}",
        province=province,
        members=tuple(Member(id=u, name=u.upper()) for u in units),
        head=units[0],
        deputy=units[1],
    )
    events = decide_block(
        BlockState(),
        RegisterBlock(block=block),
        Actor.admin(),
        now=datetime(2018, 1, 1, tzinfo=UTC),
        ids=uuid.uuid4,
    )
    return fold_block(events)


def test_an_id_is_suggested_from_a_vietnamese_name() -> None:
    assert suggest_id("Khối thi đua số 2") == "khoi-thi-dua-so-2"
    assert suggest_id("  Sở Kế hoạch & Đầu tư ") == "so-ke-hoach-dau-tu"


def test_each_wrong_cell_is_named_by_row_column_and_rule() -> None:
    _, _, problems = parse_rows(
        rows(
            [P, "k1", "Khối 1", "a", "Đơn vị A", "Khối trưởng"],
            [P, "", "", "b", "Đơn vị B", ""],
            [P, "k1", "Khối 1", "Không Hợp Lệ!", "X", ""],
            [P, "k1", "Khối 1", "c", "Đơn vị C", "phó chủ tịch"],
            ["Hà Nội", "k1", "Khối 1", "d", "Đơn vị D", ""],
            [P, "k1", "Khối 1", "a", "Đơn vị A", ""],
        )
    )
    found = {(p.row, p.column, p.code) for p in problems}
    assert found == {
        (3, "C", "block_missing"),
        (4, "D", "invalid_id"),
        (5, "F", "invalid_mark"),
        (6, "A", "province_mixed"),
        (7, "D", "duplicate_unit"),
    }


def test_a_wrong_header_is_refused_before_any_row() -> None:
    _, _, problems = parse_rows([(1, ["Tỉnh", "Khối"]), (2, [P, "k1"])])
    assert problems and all(p.row == 1 and p.code == "wrong_header" for p in problems)


def test_a_unit_already_in_another_block_of_the_province_is_refused_at_its_cell() -> None:
    province, books, problems = parse_rows(
        rows(
            [P, "k2", "Khối 2", "x", "X", "Khối trưởng"],
            [P, "k2", "Khối 2", "y", "Y", "Khối phó"],
            [P, "k2", "Khối 2", "a", "A", ""],
        )
    )
    assert not problems
    plan = plan_province(province, 2019, books, {"k1": registered("k1", ["a", "b", "c"])})
    assert [(p.row, p.column, p.code, p.values["block"]) for p in plan.problems] == [
        (4, "D", "unit_in_two_blocks", "k1")
    ]


def test_a_unit_moved_between_two_listed_blocks_leaves_one_and_joins_the_other() -> None:
    record = {"k1": registered("k1", ["a", "b", "c", "d"]), "k2": registered("k2", ["x", "y", "z"])}
    province, books, problems = parse_rows(
        rows(
            *[[P, "k1", "Khối k1", u, u.upper(), ""] for u in ("a", "b", "c")],
            *[[P, "k2", "Khối k2", u, u.upper(), ""] for u in ("x", "y", "z", "d")],
        )
    )
    assert not problems
    plan = plan_province(province, 2020, books, record)
    assert plan.ok, plan.problems
    assert [(b.block_id, [c.do for c in b.commands]) for b in plan.changes] == [
        ("k1", ["leave_block"]),
        ("k2", ["join_block"]),
    ]


def test_the_same_table_against_its_own_result_changes_nothing() -> None:
    record = {"k1": registered("k1", ["a", "b", "c"])}
    province, books, _ = parse_rows(
        rows(
            *[
                [P, "k1", "Khối k1", u, u.upper(), m]
                for u, m in (("a", "Khối trưởng"), ("b", "Khối phó"), ("c", ""))
            ]
        )
    )
    plan = plan_province(province, 2019, books, record)
    assert plan.ok and not plan.changes


def test_a_new_block_needs_its_head_and_deputy_marked() -> None:
    province, books, _ = parse_rows(
        rows(*[[P, "", "Khối mới", u, u.upper(), ""] for u in ("a", "b", "c")])
    )
    plan = plan_province(province, 2019, books, {})
    assert {p.code for p in plan.problems} == {"head_missing", "deputy_missing"}
    assert books[0].id == "khoi-moi"


def test_register_and_join_are_refused_for_a_unit_of_another_block() -> None:
    k1 = registered("k1", ["a", "b", "c"])
    new = Block(
        id="k2",
        name="Khối 2",
        province=P,
        members=tuple(Member(id=u, name=u) for u in ("x", "y", "a")),
        head="x",
        deputy="y",
    )
    with pytest.raises(RuleError) as caught:
        check_block_command("k2", BlockState(), RegisterBlock(block=new), [k1])
    assert caught.value.code == "unit_in_two_blocks"
    assert caught.value.field == "block.members.2.id"
    # in another province the unit may sit in a block of its own
    check_block_command(
        "k2", BlockState(), RegisterBlock(block=new.model_copy(update={"province": "Hà Nội"})), [k1]
    )
    k2 = registered("k2", ["x", "y", "z"])
    with pytest.raises(RuleError) as caught:
        check_block_command("k2", k2, JoinBlock(unit="a", name="A", from_year=2020), [k1])
    assert caught.value.field == "unit"


def test_a_table_that_drops_a_leader_without_marking_new_ones_is_refused() -> None:
    record = {"k1": registered("k1", ["a", "b", "c", "d"])}
    province, books, _ = parse_rows(
        rows(*[[P, "k1", "Khối k1", u, u.upper(), ""] for u in ("b", "c", "d")])
    )
    plan = plan_province(province, 2020, books, record)
    assert [(p.code, p.column) for p in plan.problems] == [("leader_not_member", "F")]
    province, books, _ = parse_rows(
        rows(
            *[
                [P, "k1", "Khối k1", u, u.upper(), m]
                for u, m in (("b", "Khối trưởng"), ("c", "Khối phó"), ("d", ""))
            ]
        )
    )
    plan = plan_province(province, 2020, books, record)
    assert plan.ok, plan.problems
    assert [c.do for c in plan.changes[0].commands] == ["leave_block", "set_leaders"]
