"""A province's blocks from one table (the secretariat's workbook), and the rule that a unit sits
in only one block of a province for a year (`unit_in_two_blocks`).

The workbook is read in app/ (app/province_book.py); here are the pure parts:
- `parse_rows`: the cells of the one sheet (a header row, then one row per member: province,
  block id, block name, unit id, unit full name, a Khối trưởng / Khối phó mark) → members by
  block, every wrong cell named by sheet, row, column and rule code;
- `plan_province`: those blocks against the province's record from a year on → the block
  commands that make the record say what the table says (register a new block; a unit joins
  from the year; a unit leaves after the year before; a rename; an appointment of the year's
  leaders), each one judged by the block's own rules (domain.block_rules) on the state it will
  meet, and the whole result checked for units in two blocks. Nothing is written here: the app
  shows the plan and carries it out only when the secretariat confirms it;
- `check_block_command`: the same rule for a single RegisterBlock or JoinBlock (pages, CLI).

Years: a registered member is a member from the beginning (domain.block), so for one command
the rule looks at every year; a table describes the province from its `year` on, so its plan is
checked from that year (a unit that moves from an old block to a new one in that year is not
held against the years before, when the new block had no cycle).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from .block import BlockCommand, JoinBlock, LeaveBlock, RegisterBlock, RenameBlock, SetLeaders
from .block_rules import decide_block
from .block_state import BlockState, Membership, fold_block
from .errors import DomainError, RuleError
from .province import province_slug
from .setup import Block, Member
from .values import ID_PATTERN, TEXT_MAX, Actor

__all__ = [
    "COLUMNS",
    "DEPUTY_MARK",
    "HEAD_MARK",
    "IMPORT_REASON",
    "SHEET",
    "BlockPlan",
    "BookBlock",
    "BookMember",
    "CellProblem",
    "ProvincePlan",
    "check_block_command",
    "parse_rows",
    "plan_province",
    "suggest_id",
    "unit_conflicts",
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
IMPORT_REASON = "Theo danh sách khối thi đua của tỉnh (nhập từ bảng tính)"
"""The reason of an appointment a table makes (an appointment always gives one)."""

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


def _problem(
    sheet: str, row: int | None, col: str | None, code: str, /, **values: Any
) -> CellProblem:
    return CellProblem(sheet, row, _LETTER.get(col or ""), _HEADER.get(col or ""), code, values)


def suggest_id(name: str) -> str:
    """An id from a name: "Khối thi đua số 2" → "khoi-thi-dua-so-2" (at most 64 characters)."""
    text = unicodedata.normalize("NFKD", name.strip().lower().replace("đ", "d"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    out, dash = [], False
    for c in text:
        if c.isascii() and c.isalnum():
            out.append(c)
            dash = False
        elif not dash and out:
            out.append("-")
            dash = True
    return "".join(out)[:64].strip("-")


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
        return "", [], [_problem(sheet, None, None, "empty_book")]
    hrow, hvalues = header
    for i, (f, title) in enumerate(COLUMNS):
        got = _cell(hvalues[i]) if i < len(hvalues) else ""
        if suggest_id(got) != suggest_id(title):
            problems.append(_problem(sheet, hrow, f, "wrong_header", expected=title))
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
                problems.append(_problem(sheet, n, f, "text_too_long"))
                cells[f] = ""
        if not cells["province"]:
            problems.append(_problem(sheet, n, "province", "required"))
        elif not province:
            province, province_row = cells["province"], n
        elif province_slug(cells["province"]) != province_slug(province):
            problems.append(
                _problem(
                    sheet,
                    n,
                    "province",
                    "province_mixed",
                    province=province,
                    first_row=province_row,
                )
            )
        if cells["block_id"] and not _ID.fullmatch(cells["block_id"]):
            problems.append(_problem(sheet, n, "block_id", "invalid_id"))
            cells["block_id"] = ""
        elif cells["block_id"] and cells["block_name"]:
            ids_of_names.setdefault(cells["block_name"], cells["block_id"])
        if not cells["block_id"] and not cells["block_name"]:
            problems.append(_problem(sheet, n, "block_name", "block_missing"))
            continue
        pending.append((n, cells))
    for n, cells in pending:
        bid = (
            cells["block_id"]
            or ids_of_names.get(cells["block_name"])
            or suggest_id(cells["block_name"])
        )
        if not bid:
            problems.append(_problem(sheet, n, "block_name", "invalid_name"))
            continue
        block = blocks.get(bid)
        if block is None:
            block = blocks[bid] = BookBlock(id=bid, name=cells["block_name"], row=n)
        elif cells["block_name"] and not block.name:
            block.name = cells["block_name"]
        elif cells["block_name"] and cells["block_name"] != block.name:
            problems.append(
                _problem(
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
            problems.append(_problem(sheet, n, "unit", "required"))
            continue
        if not _ID.fullmatch(unit):
            problems.append(_problem(sheet, n, "unit", "invalid_id"))
            continue
        if not cells["name"]:
            problems.append(_problem(sheet, n, "name", "required"))
        role = _role(cells["role"])
        if role is None:
            problems.append(_problem(sheet, n, "role", "invalid_mark"))
            role = ""
        if unit in seen_units:
            other, row = seen_units[unit]
            code = "duplicate_unit" if other == bid else "unit_in_two_blocks"
            problems.append(_problem(sheet, n, "unit", code, unit=unit, block=other, row=row))
            continue
        seen_units[unit] = (bid, n)
        block.members.append(BookMember(row=n, unit=unit, name=cells["name"], role=role))
    for block in blocks.values():
        if not block.name:
            problems.append(_problem(sheet, block.row, "block_name", "required"))
        for role in ("head", "deputy"):
            marked = [m for m in block.members if m.role == role]
            for extra in marked[1:]:
                problems.append(
                    _problem(
                        sheet,
                        extra.row,
                        "role",
                        "two_heads" if role == "head" else "two_deputies",
                        block=block.id,
                        row=marked[0].row,
                    )
                )
    if not blocks and not problems:
        problems.append(_problem(sheet, None, None, "empty_book"))
    return province, list(blocks.values()), problems


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
        key = (unit, *sorted((a, b)))
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
            unit = getattr(cmd, "unit", None)
            row = listed[unit].row if unit in listed else (book.row if unit is None else None)
            col = "unit" if unit in listed else ("role" if isinstance(cmd, SetLeaders) else None)
            problems.append(
                _problem(
                    sheet,
                    row,
                    col if row else None,
                    exc.code,
                    block=book.id,
                    unit=unit or "",
                    detail=exc.message,
                )
            )
            continue
        plan.commands.append(cmd)
        plan.lines.append(line)
    if state.registered and not (plan.commands or problems):
        try:
            state.block_for(year)
        except DomainError as exc:
            problems.append(_problem(sheet, book.row, "role", exc.code, block=book.id))
    return state


# ---- one unit, one block ------------------------------------------------------------------


def _overlap(a: Membership, b: Membership, since: int | None) -> int | None:
    """The first year (≥ since) both periods cover, else None (None bounds: open)."""
    lo = max(x for x in (a.from_year, b.from_year, since, -(10**6)) if x is not None)
    his = [x for x in (a.after_year, b.after_year) if x is not None]
    if his and lo > min(his):
        return None
    return lo


def unit_conflicts(
    states: Mapping[str, BlockState], since: int | None = None
) -> list[tuple[str, str, str, int | None]]:
    """(unit, block, other block, first year) for each unit that two blocks count as a member
    in the same year (from `since` on; None: any year). The year is None when both periods are
    open at the start (registered members)."""
    periods: dict[str, list[tuple[str, Membership]]] = {}
    for bid, s in states.items():
        for m in s.memberships:
            periods.setdefault(m.unit, []).append((bid, m))
    out = []
    for unit, ps in periods.items():
        for i, (a, ma) in enumerate(ps):
            for b, mb in ps[i + 1 :]:
                if a == b:
                    continue
                year = _overlap(ma, mb, since)
                if year is not None:
                    out.append((unit, a, b, None if year == -(10**6) else year))
    return out


def check_block_command(
    block_id: str, state: BlockState, command: BlockCommand, others: Iterable[BlockState]
) -> None:
    """Refuse a RegisterBlock or a JoinBlock that would put a unit in two blocks of the
    province in one year (`others`: the province's other registered blocks). RuleError
    `unit_in_two_blocks` naming the unit's field."""
    if isinstance(command, RegisterBlock):
        b = command.block
        province = b.province
        mine = BlockState(
            block_id=b.id,
            province=b.province,
            memberships=[Membership(unit=m.id, name=m.name) for m in b.members],
        )
        fields = {m.id: f"block.members.{i}.id" for i, m in enumerate(b.members)}
    elif isinstance(command, JoinBlock):
        province = state.province
        mine = BlockState(
            block_id=block_id,
            province=province,
            memberships=[
                Membership(unit=command.unit, name=command.name, from_year=command.from_year)
            ],
        )
        fields = {command.unit: "unit"}
    else:
        return
    states = {
        o.block_id or "": o
        for o in others
        if o.registered
        and o.block_id != block_id
        and province_slug(o.province) == province_slug(province)
    }
    states[block_id] = mine
    for unit, a, b, year in unit_conflicts(states):
        if block_id in (a, b):
            other = b if a == block_id else a
            when = f" in {year}" if year is not None else ""
            raise RuleError(
                "unit_in_two_blocks",
                f"{unit!r} is a member of the block {other!r}{when}; a unit sits in "
                "only one block of a province for a year",
                fields.get(unit, "unit"),
            )
