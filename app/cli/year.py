"""`thidua year …`: a province opens its emulation year; its list of proposals."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from ..blocks import load_deadlines, load_ruleset, load_score_sheet
from ..bootstrap import bootstrap
from .block import read_json
from .common import err, out, run, settings_of

__all__ = ["app"]

app = typer.Typer(
    help="A province's year: open every block's cycle, the list of proposals.", no_args_is_help=True
)


@app.command("open")
def open_year(
    ctx: typer.Context,
    province: Annotated[str, typer.Argument(help="the province, e.g. 'Kiên Giang'")],
    year: Annotated[int, typer.Argument(help="the emulation year")],
    ruleset: Annotated[Path, typer.Option(help="ruleset JSON (or a scenario file)")],
    sheet: Annotated[
        Path, typer.Option(help="score sheet JSON (or a scenario file), or a filled .xlsx template")
    ],
    deadlines: Annotated[Path, typer.Option(help="deadlines JSON (or a scenario file)")],
) -> None:
    """Start the cycle of every block of the province for the year (again: only the missing
    ones). When all have closed, the province's list of proposals is compiled."""
    from .sheet import sheet_file

    rules, score_sheet = read_json(ruleset), sheet_file(sheet)
    times = read_json(deadlines)

    async def go() -> Any:
        spec_ruleset, spec_sheet = load_ruleset(rules), load_score_sheet(score_sheet)
        spec_deadlines = load_deadlines(times)
        async with bootstrap(settings_of(ctx), temporal="find") as services:
            blocks = services.blocks
            handle, new = await blocks.open_year(
                province,
                year,
                ruleset=spec_ruleset,
                score_sheet=spec_sheet,
                deadlines=spec_deadlines,
            )
            if not new:
                err.print(f"{province} {year} is already open: nothing new started")
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=err,
                transient=False,
            ) as bar:
                task = bar.add_task(f"Mở năm {year} — {province}", total=None)
                while True:
                    try:
                        p = await blocks.year_progress(province, year)
                    except Exception:  # its first task has not run yet
                        await asyncio.sleep(0.2)
                        continue
                    done = len(p.cycles) - p.count("planned")
                    bar.update(task, total=p.total or None, completed=done)
                    if p.opened:
                        bar.update(task, total=p.total, completed=p.total)
                        return handle.id, p
                    await asyncio.sleep(0.2)

    wid, p = run(go())
    out.print(
        f"{wid}: {p.count('started')} started, {p.count('existing')} already existed, "
        f"{p.count('skipped')} could not start"
    )
    for block, e in p.errors.items():
        field = f" ({e.get('field')})" if e.get("field") else ""
        out.print(f"  {block}: {e['code']}{field}: {e['message']}", highlight=False)


@app.command("show")
def show(
    ctx: typer.Context,
    province: str,
    year: int,
    as_json: Annotated[bool, typer.Option("--json", help="the list as JSON")] = False,
) -> None:
    """The province's compiled list of proposals: a Vietnamese document for the provincial
    emulation council (or JSON)."""

    async def go() -> Any:
        async with bootstrap(settings_of(ctx), temporal="none") as services:
            return await services.blocks.proposals(province, year)

    proposals = run(go())
    if proposals is None:
        err.print(
            f"no list of proposals for {province} {year} yet (every cycle of the year "
            "must have completed or been cancelled)"
        )
        raise typer.Exit(1)
    if as_json:
        sys.stdout.write(proposals.model_dump_json(indent=1) + "\n")
    else:
        from ..documents.proposals import render_document  # the documents' libraries, lazily

        sys.stdout.write(render_document(proposals))
