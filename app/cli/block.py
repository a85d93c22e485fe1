"""`thidua block …`: the secretariat keeps each block's record across the years."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from domain.block_rules import parse_block

from ..blocks import show_json
from ..bootstrap import bootstrap
from ..province_setup import ProvinceSetup
from .common import err, out, run, settings_of

__all__ = ["app", "read_json"]

app = typer.Typer(
    help="Blocks across the years: register, show, members joining and leaving.",
    no_args_is_help=True,
)


def read_json(path: Path) -> Any:
    """A JSON file, or exit 2 naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        err.print(f"[red]error:[/red] cannot read {path}: {exc.strerror}")
        raise typer.Exit(2) from exc
    except ValueError as exc:
        err.print(f"[red]error:[/red] {path} is not JSON: {exc}")
        raise typer.Exit(2) from exc


async def _with_service(ctx: typer.Context, body: Any) -> Any:
    async with bootstrap(settings_of(ctx), temporal="none") as services:
        return await body(services.blocks)


def _print(state: Any, as_json: bool) -> None:
    record = show_json(state)
    if as_json:
        sys.stdout.write(json.dumps(record, ensure_ascii=False, indent=1) + "\n")
        return
    out.print(f"{record['name']} ({record['id']}) — {record['province']}", highlight=False)
    for m in record["members"]:
        since = f" từ {m['from_year']}" if m["from_year"] else ""
        until = f" đến hết {m['after_year']}" if m["after_year"] else ""
        out.print(f"  {m['name']} ({m['unit']}){since}{until}", highlight=False)
    out.print(f"  Khối trưởng {record['head']}, Khối phó {record['deputy']} (khi đăng ký)")
    for year, lead in record["leaders"].items():
        how = "bầu" if lead["source"] == "election" else f"chỉ định: {lead['reason']}"
        out.print(
            f"  {year}: Khối trưởng {lead['head']}, Khối phó {lead['deputy']} ({how})",
            highlight=False,
        )


@app.command("register")
def register(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="the scenario format's `block` object, or a scenario file")
    ],
) -> None:
    """Register a block: province, name, members with names, head, deputy."""
    data = read_json(file)
    # through the province: a unit sits in one block of a province for a year
    state = run(_with_service(ctx, lambda s: ProvinceSetup(s).register(parse_block(data))))
    out.print(f"registered {state.block_id} ({len(state.memberships)} members)")


@app.command("show")
def show(
    ctx: typer.Context,
    block: str,
    as_json: Annotated[bool, typer.Option("--json", help="as JSON")] = False,
) -> None:
    """A block's record: members by period, leaders by year."""
    _print(run(_with_service(ctx, lambda s: s.state(block))), as_json)


@app.command("join")
def join(
    ctx: typer.Context,
    block: str,
    unit: str,
    from_year: Annotated[int, typer.Option("--from", help="first emulation year as a member")],
    name: Annotated[str, typer.Option(help="the unit's name, e.g. 'Sở Tài chính'")],
) -> None:
    """A unit joins the block from a year."""
    run(_with_service(ctx, lambda s: ProvinceSetup(s).join(block, unit, name, from_year)))
    out.print(f"{unit} joins {block} from {from_year}")


@app.command("leave")
def leave(
    ctx: typer.Context,
    block: str,
    unit: str,
    after_year: Annotated[int, typer.Option("--after", help="last emulation year as a member")],
) -> None:
    """A unit leaves the block after a year (it is 'not a member next year' in that year)."""
    run(_with_service(ctx, lambda s: s.leave(block, unit, after_year)))
    out.print(f"{unit} leaves {block} after {after_year}")


@app.command("rename")
def rename(ctx: typer.Context, block: str, name: str) -> None:
    """Rename the block (its next cycles carry the new name)."""
    run(_with_service(ctx, lambda s: s.rename(block, name)))
    out.print(f"{block} is now {name!r}")


@app.command("appoint")
def appoint(
    ctx: typer.Context,
    block: str,
    year: Annotated[int, typer.Option(help="the emulation year they lead")],
    head: Annotated[str, typer.Option(help="the head unit")],
    deputy: Annotated[str, typer.Option(help="the deputy unit")],
    reason: Annotated[str, typer.Option(help="why the secretariat appoints them")],
) -> None:
    """The secretariat appoints the leaders of a year (an election failed, a leader left)."""
    run(_with_service(ctx, lambda s: s.appoint_leaders(block, year, head, deputy, reason)))
    out.print(f"{block} {year}: head {head}, deputy {deputy}")
