"""`thidua documents report|proposal|news BLOCK YEAR OUT`: the block's documents after its
conference, drafted from the cycle's verified events (app/documents/block_docs.py); OUT's suffix
(.docx or .pdf) picks the format."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import err, write_from_store

__all__ = ["app"]

app = typer.Typer(
    help="The block's documents: summary report, proposal to the council, news.",
    no_args_is_help=True,
)

OutArg = Annotated[Path, typer.Argument(metavar="OUT", help="the file to write: .docx or .pdf")]
StreamOpt = Annotated[str | None, typer.Option(help="a stream name instead of BLOCK YEAR")]


def _write(
    ctx: typer.Context, kind: str, block: str, year: int, out: Path, stream: str | None
) -> None:
    from workflows.messages import cycle_key

    from ..documents.record import stored_document

    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("docx", "pdf"):
        err.print(
            "[red]invalid:[/red] OUT: the file name must end in .docx or .pdf", highlight=False
        )
        raise typer.Exit(2)
    name = stream or cycle_key(block, year)[1]
    write_from_store(ctx, name, out, kind, lambda store: stored_document(store, name, kind, fmt))


@app.command("report")
def report(
    ctx: typer.Context, block: str, year: int, out: OutArg, stream: StreamOpt = None
) -> None:
    """The summary report of the conference (báo cáo tổng kết), in the state format."""
    _write(ctx, "report", block, year, out, stream)


@app.command("proposal")
def proposal(
    ctx: typer.Context, block: str, year: int, out: OutArg, stream: StreamOpt = None
) -> None:
    """The proposal to the provincial council (tờ trình) for the block's nominations."""
    _write(ctx, "proposal", block, year, out, stream)


@app.command("news")
def news(ctx: typer.Context, block: str, year: int, out: OutArg, stream: StreamOpt = None) -> None:
    """A news item on the conference for the province's or district's portal."""
    _write(ctx, "news", block, year, out, stream)
