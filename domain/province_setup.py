"""A province's blocks from one table (the secretariat's workbook), against the record.

The workbook is read in app/province_setup.py, its rows parsed by domain.province_book;
`plan_province` takes those blocks against the province's record from a year on → the block
commands that make the record say what the table says (register a new block; a unit joins
from the year; a unit leaves after the year before; a rename; an appointment of the year's
leaders), each one judged by the block's own rules (domain.block_rules) on the state it will
meet, and the whole result checked for units in two blocks (domain.block_province). Nothing
is written here: the app shows the plan and carries it out only when the secretariat confirms.

Years: a registered member is a member from the beginning (domain.block), so for one command
the rule looks at every year; a table describes the province from its `year` on, so its plan is
checked from that year (a unit that moves from an old block to a new one in that year is not
held against the years before, when the new block had no cycle).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import ValidationError

from .block import BlockCommand, JoinBlock, LeaveBlock, RegisterBlock, RenameBlock, SetLeaders
from .block_province import unit_conflicts
from .block_rules import decide_block
from .block_state import BlockState, fold_block
from .errors import DomainError
from .province import province_slug
from .province_book import SHEET, BookBlock, CellProblem, cell_problem
from .setup import Block, Member
from .values import Actor

__all__ = ["IMPORT_REASON", "BlockPlan", "ProvincePlan", "plan_province"]

IMPORT_REASON = "Theo danh sách khối thi đua của tỉnh (nhập từ bảng tính)"
"""The reason of an appointment a table makes (an appointment always gives one)."""

_problem = cell_problem

# ---- the plan ---------------------------------------------------------------------------------


@dataclass
class BlockPlan:
    """What a table changes in one block: `new` (registered now) or the changes to its record,
    as commands and as Vietnamese lines for the preview."""

    block_id: str
    name: str
    new: bool
    commands: list[BlockCommand] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    members: list[tuple[str, str, str]] = field(default_factory=list)  # (unit, name, role)


@dataclass
class ProvincePlan:
    province: str
    year: int
    blocks: list[BlockPlan]
    problems: list[CellProblem]

    @property
    def changes(self) -> list[BlockPlan]:
        return [b for b in self.blocks if b.commands]

    @property
    def ok(self) -> bool:
        return not self.problems

    def digest(self) -> str:
        """A fingerprint of the commands: a confirmation carries it, so what is written is what
        was shown (the record may have changed in between)."""
        body = [[b.block_id, [c.model_dump(mode="json") for c in b.commands]] for b in self.changes]
        return hashlib.sha256(
            json.dumps(body, ensure_ascii=False, sort_keys=True).encode()
        ).hexdigest()[:32]


_NOW = datetime(2000, 1, 1, tzinfo=UTC)


def _judge(state: BlockState, cmd: BlockCommand) -> BlockState:
    """The state after `cmd`, as the block's rules would decide it (raises DomainError)."""
    counter = iter(range(1, 1 << 30))
    events = decide_block(
        state, cmd, Actor.admin(), now=_NOW, ids=lambda: uuid.UUID(int=next(counter))
    )
    return fold_block(events, state)


def plan_province(
    province: str,
    year: int,
    blocks: Sequence[BookBlock],
    record: Mapping[str, BlockState],
    sheet: str = SHEET,
) -> ProvincePlan:
    """The table's blocks against the record (`record`: every registered block the table names,
    and every block of the province) → the plan, or its problems. Pure."""
    problems: list[CellProblem] = []
    plans: list[BlockPlan] = []
    after: dict[str, BlockState] = {
        bid: s
        for bid, s in record.items()
        if s.registered and province_slug(s.province) == province_slug(province)
    }
    rows_of_unit: dict[str, int] = {}
    book_of_unit: dict[str, str] = {}
    for book in blocks:
        members = [(m.unit, m.name, m.role) for m in book.members]
        plan = BlockPlan(block_id=book.id, name=book.name, new=False, members=members)
        plans.append(plan)
        for m in book.members:
            rows_of_unit[m.unit] = m.row
            book_of_unit[m.unit] = book.id
        state = record.get(book.id)
        try:
            if state is None or not state.registered:
                plan.new = True
                after[book.id] = _register(book, province, year, plan, sheet, problems)
            elif province_slug(state.province) != province_slug(province):
                problems.append(
                    _problem(
                        sheet,
                        book.row,
                        "block_id",
                        "block_in_other_province",
                        block=book.id,
                        province=state.province,
                    )
                )
            else:
                after[book.id] = _change(book, state, year, plan, sheet, problems)
        except DomainError as exc:
            problems.append(
                _problem(sheet, book.row, "block_id", exc.code, block=book.id, detail=exc.message)
            )
        except ValidationError:  # a name left empty or too long: named by parse_rows
            if not problems:
                problems.append(
                    _problem(sheet, book.row, "block_name", "invalid_block", block=book.id)
                )
    seen: set[tuple[str, str, str]] = set()
    for unit, a, b, when in unit_conflicts(after, since=year):
        key = (unit, min(a, b), max(a, b))
        if key in seen:
            continue
        seen.add(key)
        row = rows_of_unit.get(unit)
        problems.append(
            _problem(
                sheet,
                row,
                "unit" if row else None,
                "unit_in_two_blocks",
                unit=unit,
                block=b if book_of_unit.get(unit) == a else a,
                year=when,
            )
        )
    return ProvincePlan(province=province, year=year, blocks=plans, problems=problems)


def _register(
    book: BookBlock,
    province: str,
    year: int,
    plan: BlockPlan,
    sheet: str,
    problems: list[CellProblem],
) -> BlockState:
    heads = [m.unit for m in book.members if m.role == "head"]
    deputies = [m.unit for m in book.members if m.role == "deputy"]
    if len(book.members) < 3:
        problems.append(_problem(sheet, book.row, "block_name", "too_few_members", block=book.id))
    if not heads:
        problems.append(_problem(sheet, book.row, "role", "head_missing", block=book.id))
    if not deputies:
        problems.append(_problem(sheet, book.row, "role", "deputy_missing", block=book.id))
    if len(book.members) < 3 or not heads or not deputies:
        return BlockState()
    block = Block(
        id=book.id,
        name=book.name,
        province=province,
        members=tuple(Member(id=m.unit, name=m.name) for m in book.members),
        head=heads[0],
        deputy=deputies[0],
    )
    cmd = RegisterBlock(block=block)
    plan.commands.append(cmd)
    plan.lines.append(
        f"Đăng ký khối mới «{book.name}» ({book.id}), {len(book.members)} đơn "
        f"vị; Khối trưởng {heads[0]}, Khối phó {deputies[0]}"
    )
    return _judge(BlockState(), cmd)


def _change(
    book: BookBlock,
    state: BlockState,
    year: int,
    plan: BlockPlan,
    sheet: str,
    problems: list[CellProblem],
) -> BlockState:
    before = len(problems)
    cmds: list[tuple[BlockCommand, str]] = []
    if book.name and book.name != state.name:
        cmds.append((RenameBlock(name=book.name), f"Đổi tên khối: «{state.name}» → «{book.name}»"))
    now = {m.id: m.name for m in state.members_in(year)}
    listed = {m.unit: m for m in book.members}
    for m in book.members:
        if m.unit not in now:
            cmds.append(
                (
                    JoinBlock(unit=m.unit, name=m.name, from_year=year),
                    f"{m.name} ({m.unit}) vào khối từ năm {year}",
                )
            )
        elif m.name and m.name != now[m.unit]:
            plan.lines.append(
                f"Ghi chú: tên của {m.unit} trong bảng («{m.name}») khác hồ sơ "
                f"(«{now[m.unit]}»); hồ sơ giữ tên cũ"
            )
    for unit, name in now.items():
        if unit not in listed:
            cmds.append(
                (
                    LeaveBlock(unit=unit, after_year=year - 1),
                    f"{name} ({unit}) không còn là thành viên từ năm {year}",
                )
            )
    head, deputy = state.leaders_in(year)
    heads = [m.unit for m in book.members if m.role == "head"]
    deputies = [m.unit for m in book.members if m.role == "deputy"]
    want = (heads[0] if heads else head, deputies[0] if deputies else deputy)
    if (heads or deputies) and want != (head, deputy):
        cmds.append(
            (
                SetLeaders(
                    year=year,
                    head=want[0],
                    deputy=want[1],
                    source="appointment",
                    reason=IMPORT_REASON,
                ),
                f"Năm {year}: Khối trưởng {want[0]}, Khối phó {want[1]} (thay {head}, {deputy})",
            )
        )
    for cmd, line in cmds:
        try:
            state = _judge(state, cmd)
        except DomainError as exc:
            who: str | None = getattr(cmd, "unit", None)
            row = listed[who].row if who in listed else (book.row if who is None else None)
            col = "unit" if who in listed else ("role" if isinstance(cmd, SetLeaders) else None)
            problems.append(
                _problem(
                    sheet,
                    row,
                    col if row else None,
                    exc.code,
                    block=book.id,
                    unit=who or "",
                    detail=exc.message,
                )
            )
            continue
        plan.commands.append(cmd)
        plan.lines.append(line)
    if state.registered and plan.commands and len(problems) == before:
        try:  # the block as its cycle of `year` would start: 3 members, leaders among them
            state.block_for(year)
        except DomainError as exc:
            problems.append(_problem(sheet, book.row, "role", exc.code, block=book.id))
    return state
