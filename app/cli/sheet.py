"""`thidua sheet …`: a province's score sheet of a year from an .xlsx (template, import)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from domain.values import canonical_decimal

from ..bootstrap import bootstrap
from ..sheets import SetupStore, SheetFileError, read_xlsx_file, write_template
from .block import read_json
from .common import err, out, run, settings_of

__all__ = ["app"]

app = typer.Typer(
    help="Score sheets: the .xlsx template, its import, a province's versions.",
    no_args_is_help=True,
)


@app.command("template")
def template(
    out_file: Annotated[Path, typer.Argument(metavar="OUT.xlsx", help="where to write it")],
    from_json: Annotated[
        Path | None,
        typer.Option(
            "--from", help="a score sheet JSON (or a scenario file) to fill the template with"
        ),
    ] = None,
) -> None:
    """Write the score sheet template (.xlsx, Vietnamese headers), empty or filled."""
    sheet = None
    if from_json is not None:
        from ..blocks import load_score_sheet
        from .common import fail

        try:
            sheet = load_score_sheet(read_json(from_json))
        except Exception as exc:  # a DomainError: one line
            fail(exc)
    out_file.write_bytes(write_template(sheet))
    out.print(f"wrote {out_file}")


@app.command("import")
def import_sheet(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE.xlsx", help="the filled template")],
    province: Annotated[
        str | None,
        typer.Option(
            help="save it as this province's sheet (with --year); without: only check and show"
        ),
    ] = None,
    year: Annotated[int | None, typer.Option(help="the emulation year of the sheet")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="save without asking")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the sheet as JSON")] = False,
) -> None:
    """Read a filled template: each wrong cell named (sheet, row, column, rule) and nothing
    saved; else a preview, and with --province and --year, after confirmation, a new version
    of the province's sheet of the year."""
    if (province is None) != (year is None):
        err.print("[red]invalid:[/red] --province and --year go together")
        raise typer.Exit(2)
    try:
        sheet, errors = read_xlsx_file(file)
    except SheetFileError as exc:
        err.print(f"[red]không đọc được tệp:[/red] {exc.sentence}", highlight=False)
        raise typer.Exit(2) from None
    except OSError as exc:
        err.print(f"[red]error:[/red] {exc.strerror}: {file}", highlight=False)
        raise typer.Exit(2) from None
    if errors or sheet is None:
        err.print(f"[red]Bảng điểm chưa hợp lệ[/red] ({len(errors)} ô sai), không lưu gì:")
        for e in errors:
            err.print(f"  {e.line()}", highlight=False)
        raise typer.Exit(1)
    if as_json:
        sys.stdout.write(
            json.dumps(sheet.model_dump(mode="json"), ensure_ascii=False, indent=1) + "\n"
        )
    else:
        _preview(sheet)
    if province is None or year is None:
        return
    if not yes and not typer.confirm(f"Lưu bảng điểm năm {year} của {province}?", err=True):
        err.print("Không lưu gì.")
        raise typer.Exit(1)

    async def go() -> Any:
        async with bootstrap(settings_of(ctx), temporal="none") as services:
            return await SetupStore(services.store).save_sheet(province, year, sheet)

    _pinned, saved = run(go())
    if saved.new:
        out.print(f"saved: {province} {year}, score sheet version {saved.version}")
    else:
        out.print(f"unchanged: {province} {year} already has this sheet as version {saved.version}")


def sheet_file(path: Path) -> Any:
    """A score sheet from a filled template (.xlsx: wrong cells named, exit 1) or JSON (a sheet
    object or a scenario file, as `read_json`)."""
    if path.suffix.lower() != ".xlsx":
        return read_json(path)
    try:
        sheet, errors = read_xlsx_file(path)
    except SheetFileError as exc:
        err.print(f"[red]không đọc được tệp:[/red] {exc.sentence}", highlight=False)
        raise typer.Exit(2) from None
    except OSError as exc:
        err.print(f"[red]error:[/red] cannot read {path}: {exc.strerror}")
        raise typer.Exit(2) from None
    if sheet is None:
        err.print(f"[red]Bảng điểm chưa hợp lệ[/red] ({len(errors)} ô sai):")
        for e in errors:
            err.print(f"  {e.line()}", highlight=False)
        raise typer.Exit(1)
    return sheet.model_dump(mode="json")


def _preview(sheet: Any) -> None:
    if sheet.title:
        out.print(sheet.title, highlight=False)
    for s in sheet.sections:
        out.print(f"{s.id:<12} {canonical_decimal(s.max):>8}  {s.title}", highlight=False)
        for c in s.criteria:
            out.print(f"  {c.id:<10} {canonical_decimal(c.max):>8}    {c.title}", highlight=False)
    out.print(
        f"{'Tổng':<12} {canonical_decimal(sheet.max_total):>8}  "
        f"({sheet.decimals} chữ số thập phân)",
        highlight=False,
    )


@app.command("show")
def show(
    ctx: typer.Context,
    province: str,
    year: int,
    version: Annotated[int | None, typer.Option(help="that version (default: the latest)")] = None,
) -> None:
    """A saved sheet of the province and year, as JSON."""

    async def go() -> Any:
        async with bootstrap(settings_of(ctx), temporal="none") as services:
            return await SetupStore(services.store).sheet(province, year, version)

    sheet = run(go())
    if sheet is None:
        err.print(f"no saved score sheet for {province} {year}")
        raise typer.Exit(1)
    sys.stdout.write(json.dumps(sheet.model_dump(mode="json"), ensure_ascii=False, indent=1) + "\n")
