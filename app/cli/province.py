"""`thidua province …`: a province's blocks from one workbook (template, import)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from domain.province_setup import ProvincePlan

from ..blocks import BlockService
from ..bootstrap import bootstrap
from ..province_setup import BookError, ProvinceSetup, problem_line, write_template
from .common import err, out, run, settings_of

__all__ = ["app"]

app = typer.Typer(
    help="A province's blocks from one workbook: the template, the import.", no_args_is_help=True
)


@app.command("template")
def template(
    path: Annotated[Path, typer.Argument(help="the .xlsx file to write")],
    empty: Annotated[bool, typer.Option("--empty", help="no example rows")] = False,
) -> None:
    """Write the workbook to fill: one row per member (province, block, unit id and full name,
    a Khối trưởng / Khối phó mark)."""
    try:
        write_template(path, example=not empty)
    except OSError as exc:
        err.print(f"[red]error:[/red] cannot write {path}: {exc.strerror}")
        raise typer.Exit(2) from exc
    out.print(f"wrote {path}")


def print_plan(plan: ProvincePlan) -> None:
    out.print(f"{plan.province} — từ năm {plan.year}", highlight=False)
    for b in plan.blocks:
        state = "khối mới" if b.new else ("thay đổi" if b.commands else "không thay đổi")
        out.print(f"  {b.name or b.block_id} ({b.block_id}): {state}", highlight=False)
        for line in b.lines:
            out.print(f"    - {line}", highlight=False, markup=False)
    n = sum(len(b.commands) for b in plan.changes)
    out.print(f"{n} thay đổi" if n else "Không có gì thay đổi so với hồ sơ.")


@app.command("import")
def import_book(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="the filled workbook (.xlsx)")],
    year: Annotated[int, typer.Option(help="the emulation year the list applies from")],
    yes: Annotated[bool, typer.Option("--yes", help="write without asking")] = False,
) -> None:
    """Preview the workbook against the record; write it when confirmed (--yes or the prompt).
    Every wrong cell is named (sheet, row, column, rule) and nothing is written."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        err.print(f"[red]error:[/red] cannot read {path}: {exc.strerror}")
        raise typer.Exit(2) from exc

    async def go() -> Any:
        async with bootstrap(settings_of(ctx), temporal="none") as services:
            setup = ProvinceSetup(BlockService(services.store, services.pool))
            try:
                plan = await setup.preview(data, year)
            except BookError as exc:
                return exc.problems, 0
            if plan.problems:
                return plan.problems, 0
            print_plan(plan)
            if not plan.changes:
                return [], 0
            if not yes and not typer.confirm("Ghi các thay đổi này?", default=False):
                return None, 0
            again = await setup.preview(data, year)  # the record may have moved meanwhile
            if again.digest() != plan.digest():
                err.print("Hồ sơ đã thay đổi trong lúc xem trước; hãy chạy lại lệnh.")
                raise typer.Exit(1)
            return [], await setup.apply(again)

    problems, written = run(go())
    if problems is None:
        err.print("Không ghi gì.")
        raise typer.Exit(1)
    if problems:
        err.print(f"[red]Bảng tính có {len(problems)} lỗi; không ghi gì:[/red]")
        for p in problems:
            err.print(f"  {problem_line(p)}", markup=False, highlight=False)
        raise typer.Exit(1)
    if written:
        out.print(f"Đã ghi {written} thay đổi.")
