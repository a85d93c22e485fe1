"""A province's blocks set up by the secretariat: the workbook (template and reading, openpyxl),
its preview against the record and its import, and the block commands that must respect
`unit_in_two_blocks` (register, join), all over the BlockService as it is.

The rules are pure (domain.province_setup); here the workbook is read, the province's record is
loaded, the plan is carried out command by command through BlockService (every change an event
of its block's stream), and problems become Vietnamese lines (app/words.py).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils.exceptions import InvalidFileException

from domain.block import JoinBlock, LeaveBlock, RegisterBlock, RenameBlock, SetLeaders
from domain.block_province import check_block_command
from domain.block_start import command_of
from domain.block_state import BlockState
from domain.errors import AuthorizationError, DomainError
from domain.province_book import COLUMNS, DEPUTY_MARK, HEAD_MARK, SHEET, CellProblem, parse_rows
from domain.province_setup import ProvincePlan, plan_province
from domain.setup import Block
from domain.values import Actor

from . import words
from .blocks import BlockService

__all__ = [
    "MAX_BOOK",
    "BookError",
    "ProvinceSetup",
    "problem_line",
    "read_book",
    "write_template",
]

MAX_BOOK = 2 * 1024 * 1024
"""The largest workbook read (bytes); a province's list of blocks is a few kilobytes."""
MAX_ROWS = 5000


class BookError(Exception):
    """A file that is not a workbook to read (its problems as CellProblems)."""

    def __init__(self, problems: list[CellProblem]) -> None:
        super().__init__(problems[0].code)
        self.problems = problems


def problem_line(p: CellProblem) -> str:
    """`Trang «Khối thi đua», dòng 5, cột C (Tên khối thi đua): <the rule in words>`."""
    return f"{p.where()}: {words.book_sentence(p.code, **p.values)}"


# ---- the workbook -------------------------------------------------------------------------


def write_template(out: Path | io.BytesIO, example: bool = True) -> None:
    """The workbook to fill: one sheet, the Vietnamese headers, and (with `example`) the rows of
    one block as an example to overwrite."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET
    ws.append([title for _, title in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = (18, 14, 28, 20, 44, 22)
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    if example:
        for unit, name, role in (
            ("so-ngoai-vu", "Sở Ngoại vụ", HEAD_MARK),
            ("so-khdt", "Sở Kế hoạch và Đầu tư", DEPUTY_MARK),
            ("so-noi-vu", "Sở Nội vụ", ""),
        ):
            ws.append(["Kiên Giang", "kg-khoi-2", "Khối thi đua số 2", unit, name, role])
    ws.freeze_panes = "A2"
    wb.save(out)


def _rows(ws: Any) -> Iterator[tuple[int, Sequence[Any]]]:
    for n, values in enumerate(ws.iter_rows(max_col=len(COLUMNS), values_only=True), start=1):
        if n > MAX_ROWS:
            raise BookError(
                [CellProblem(ws.title, None, None, None, "too_many_rows", {"max": MAX_ROWS})]
            )
        yield n, values


def read_book(data: bytes) -> tuple[str, list[Any], list[CellProblem]]:
    """A workbook's bytes → (province, blocks, problems) (domain.province_setup.parse_rows);
    BookError when it is no .xlsx workbook or has no sheet named as the template's."""
    if len(data) > MAX_BOOK:
        raise BookError(
            [
                CellProblem(
                    SHEET, None, None, None, "file_too_large", {"max": MAX_BOOK // 1024 // 1024}
                )
            ]
        )
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise BookError([CellProblem(SHEET, None, None, None, "not_a_workbook")]) from None
    try:
        names = wb.sheetnames
        name = SHEET if SHEET in names else (names[0] if len(names) == 1 else None)
        if name is None:
            raise BookError([CellProblem(SHEET, None, None, None, "no_sheet")])
        return parse_rows(_rows(wb[name]), sheet=name)
    finally:
        wb.close()


# ---- the province's record ---------------------------------------------------------------


class ProvinceSetup:
    """The province's blocks over a BlockService."""

    def __init__(self, blocks: BlockService) -> None:
        self.blocks = blocks

    async def _state(self, block_id: str) -> BlockState | None:
        try:
            return await self.blocks.state(block_id)
        except DomainError as exc:
            if exc.code == "unknown_block":
                return None
            raise

    async def record(self, province: str, also: Sequence[str] = ()) -> dict[str, BlockState]:
        """The registered blocks of `province`, and those of `also` (ids) wherever they are."""
        out: dict[str, BlockState] = {}
        for bid in [*await self.blocks.blocks_of(province), *also]:
            if bid not in out and (state := await self._state(bid)) is not None:
                out[bid] = state
        return out

    async def preview(self, data: bytes, year: int) -> ProvincePlan:
        """What the workbook would change from `year` on (nothing is written)."""
        province, books, problems = read_book(data)
        if not books:
            return ProvincePlan(province=province, year=year, blocks=[], problems=problems)
        record = await self.record(province, [b.id for b in books])
        plan = plan_province(province, year, books, record)
        # the table's own problems and those against the record, in the order of the rows
        plan.problems = sorted([*problems, *plan.problems], key=lambda p: p.row or 0)
        return plan

    async def apply(self, plan: ProvincePlan, actor: Actor | None = None) -> int:
        """Carry out a plan without problems, command by command (each one judged again by the
        block's rules as it is written); the number of commands written."""
        assert plan.ok, "a plan with problems is never carried out"
        done = 0
        for block in plan.changes:
            for cmd in block.commands:
                await self._do(block.block_id, cmd, actor)
                done += 1
        return done

    async def _do(self, block_id: str, cmd: Any, actor: Actor | None) -> None:
        b = self.blocks
        match cmd:
            case RegisterBlock(block=block):
                await self.register(block, actor)
            case JoinBlock():
                await self.join(block_id, cmd.unit, cmd.name, cmd.from_year, actor)
            case LeaveBlock():
                await b.leave(block_id, cmd.unit, cmd.after_year, actor)
            case RenameBlock():
                await b.rename(block_id, cmd.name, actor)
            case SetLeaders():
                await b.appoint_leaders(block_id, cmd.year, cmd.head, cmd.deputy, cmd.reason, actor)

    # ---- the block commands that must respect unit_in_two_blocks ------------------------------

    @staticmethod
    def _admin(actor: Actor | None) -> None:
        if actor is not None and actor.kind != "admin":  # before reading the province
            raise AuthorizationError("only the secretariat (admin) may change a block")

    async def _others(self, province: str, block_id: str) -> list[BlockState]:
        record = await self.record(province)
        return [s for bid, s in record.items() if bid != block_id]

    async def register(self, block: Block, actor: Actor | None = None) -> BlockState:
        """Register a block, unless a member already sits in another block of its province
        (`unit_in_two_blocks`) or the id is taken (`block_exists`)."""
        self._admin(actor)
        existing = await self._state(block.id)
        command = RegisterBlock(block=block)
        check_block_command(
            block.id,
            existing or BlockState(),
            command,
            await self._others(block.province, block.id),
        )
        return await self.blocks.register(block, actor)

    async def join(
        self, block_id: str, unit: str, name: str, from_year: int, actor: Actor | None = None
    ) -> BlockState:
        """A unit joins from a year, unless it sits in another block of the province then."""
        self._admin(actor)
        state = await self.blocks.state(block_id)
        command = command_of(JoinBlock, unit=unit, name=name, from_year=from_year)
        check_block_command(block_id, state, command, await self._others(state.province, block_id))
        return await self.blocks.join(block_id, unit, name, from_year, actor)
