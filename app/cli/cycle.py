"""`thidua cycle …`: administrators start cycles; approvers send steps; everyone lists them."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError
from rich.table import Table

from domain.commands import CommandAdapter
from domain.pending import pending_actions
from domain.values import Actor

from ..bootstrap import bootstrap
from ..lookups import cycle_state
from .common import err, load_file, out, run, settings_of

__all__ = ["app"]

app = typer.Typer(help="Start cycles, send their steps, list them.", no_args_is_help=True)

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _parse_fields(fields: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for item in fields:
        key, sep, value = item.partition("=")
        if not sep or not key:
            err.print(f"[red]invalid:[/red] --field {item!r}: expected key=value")
            raise typer.Exit(2)
        try:
            data[key] = json.loads(value)
        except ValueError:
            data[key] = value
    return data


@app.command("start")
def cycle_start(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="a scenario file: its block, year, ruleset, "
                                              "score sheet and deadlines (its steps are ignored)")],
) -> None:
    """Administrators: start the yearly cycle of a block."""
    scenario = load_file(file)

    async def go() -> str:
        async with bootstrap(settings_of(ctx), temporal="find") as services:
            handle = await services.cycles.start(scenario.start_command())
            return str(handle.id)

    out.print(f"started {run(go())}")


@app.command("send")
def cycle_send(
    ctx: typer.Context,
    block: Annotated[str, typer.Argument(help="block id, e.g. kg-khoi-2")],
    year: Annotated[int, typer.Argument(help="the emulation year")],
    who: Annotated[str, typer.Option("--as", help="admin, or a member unit's id")],
    do: Annotated[str, typer.Option("--do", help="the command, e.g. sign_pledge")],
    field: Annotated[list[str] | None, typer.Option(
        "--field", "-f", help="key=value (JSON values allowed), repeatable")] = None,
    request_id: Annotated[str | None, typer.Option(
        help="makes a retry safe: the same id again returns the first answer")] = None,
) -> None:
    """Approvers: send one step of a cycle (a Temporal update, judged by the rules)."""
    if do in ("start_cycle", "expire_deadline"):
        err.print(f"[red]invalid:[/red] --do: {do} is not a step (use `cycle start`; "
                  "deadlines expire by themselves)")
        raise typer.Exit(2)
    try:
        command = CommandAdapter.validate_python({"do": do, **_parse_fields(field or [])})
    except ValidationError as exc:
        for e in exc.errors(include_input=False):
            loc = ".".join(str(p) for p in e["loc"][1:] or e["loc"])
            err.print(f"[red]invalid:[/red] {loc}: {e['msg']}", highlight=False)
        raise typer.Exit(2) from exc

    async def go() -> Any:
        async with bootstrap(settings_of(ctx), temporal="find") as services:
            return await services.cycles.send(
                block, year, command, Actor.parse(who), request_id=request_id or str(uuid.uuid4())
            )

    result = run(go())
    note = " (repeated request: first answer)" if result.duplicate else ""
    out.print(f"accepted{note}: {', '.join(e.type for e in result.events)} → version "
              f"{result.version}, stage {result.stage}")


@app.command("state")
def cycle_state_command(ctx: typer.Context, block: str, year: int) -> None:
    """The live state of a cycle, as JSON."""
    async def go() -> Any:
        async with bootstrap(settings_of(ctx), temporal="find") as services:
            return await cycle_state(services.cycles, block, year)

    sys.stdout.write(run(go()).model_dump_json(indent=1) + "\n")


@app.command("pending")
def cycle_pending(
    ctx: typer.Context, block: str, year: int,
    as_json: Annotated[bool, typer.Option("--json", help="as JSON")] = False,
) -> None:
    """Who still has to act in the current stage, with each unit's name and the deadline."""
    async def go() -> Any:
        async with bootstrap(settings_of(ctx), temporal="find") as services:
            return await cycle_state(services.cycles, block, year)

    state = run(go())
    pending = pending_actions(state)
    deadline = state.deadlines.get(state.stage)
    if as_json:
        sys.stdout.write(json.dumps({
            "stage": state.stage, "deadline": deadline.isoformat() if deadline else None,
            "pending": pending}, ensure_ascii=False, indent=1) + "\n")
        return
    name = state.block.name_of if state.block else str
    when = f"hạn {_vn(deadline)}" if deadline else "không có hạn"
    out.print(f"{state.cycle_id} — stage {state.stage} ({when})")
    for who, actions in pending.items():
        label = "Ban Thi đua – Khen thưởng (admin)" if who == "admin" else f"{name(who)} ({who})"
        out.print(f"  {label}: {', '.join(actions)}", highlight=False)
    if not pending:
        out.print("  nobody has to act")


def _vn(at: datetime) -> str:
    local = at.astimezone(VN)
    return f"{local:%H:%M} {local.day:02d}/{local.month}/{local.year}"


@app.command("list")
def cycle_list(
    ctx: typer.Context,
    year: Annotated[int | None, typer.Option(help="only this emulation year")] = None,
    stage: Annotated[str | None, typer.Option(help="only this stage, e.g. completed")] = None,
    block: Annotated[str | None, typer.Option(help="only this block id")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="as JSON")] = False,
) -> None:
    """Cycles from the read model (no Temporal query per cycle), newest year first."""
    from ..readmodels.cycles import list_cycles

    async def go() -> Any:
        async with bootstrap(settings_of(ctx), temporal="none") as services:
            await services.readmodels.catch_up()
            return await list_cycles(services.pool, year=year, stage=stage, block=block)

    rows = run(go())
    if as_json:
        sys.stdout.write(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=1)
                         + "\n")
        return
    table = Table(title="Kỳ thi đua")
    for col in ("year", "block", "province", "stage", "head → next", "deputy → next", "place 1"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r.year), f"{r.block_name} ({r.block_id})", r.province, r.stage,
            f"{r.head} → {r.next_head or '—'}", f"{r.deputy} → {r.next_deputy or '—'}",
            r.leading_unit or "—",
        )
    out.print(table)
