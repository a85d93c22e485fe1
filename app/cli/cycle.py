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
from domain.errors import DomainError
from domain.pending import pending_actions
from domain.values import Actor

from ..bootstrap import bootstrap
from ..lookups import cycle_state
from .common import err, load_file, out, run, settings_of, write_from_store

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


async def _actor(services: Any, who: str) -> Actor:
    """A person's login acts as that person; admin, auditor or a unit id as the bare role."""
    person = await services.identity.people.get(who)
    if person is None:
        return Actor.parse(who)
    if not person.active:
        raise DomainError("person_disabled", f"{who!r} is disabled", "--as")
    return person.actor()  # type: ignore[no-any-return]


@app.command("start")
def cycle_start(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(
            help="a scenario file: its block, year, ruleset, score sheet and deadlines (its steps "
            "are ignored); its block is registered when its id is new"
        ),
    ] = None,
    block: Annotated[
        str | None, typer.Option(help="a registered block's id (instead of FILE)")
    ] = None,
    year: Annotated[int | None, typer.Option(help="with --block: the emulation year")] = None,
    ruleset: Annotated[
        Path | None,
        typer.Option(help="with --block: ruleset JSON (default: the block's previous cycle's)"),
    ] = None,
    sheet: Annotated[
        Path | None,
        typer.Option(help="with --block: score sheet JSON (default: the previous cycle's)"),
    ] = None,
    deadlines: Annotated[Path | None, typer.Option(help="with --block: deadlines JSON")] = None,
    who: Annotated[
        str,
        typer.Option(
            "--as", help="the administrator's login (the event names the person), or admin"
        ),
    ] = "admin",
) -> None:
    """Administrators: start the yearly cycle of a block — from a scenario file, or from a
    registered block's members and leaders of that year (`--block ID --year Y`)."""
    from ..blocks import load_deadlines, load_ruleset, load_score_sheet
    from .block import read_json

    if (file is None) == (block is None) or (block is not None and year is None):
        err.print("[red]invalid:[/red] give a scenario FILE, or --block ID --year YEAR")
        raise typer.Exit(2)
    scenario = load_file(file) if file is not None else None
    files = {
        k: read_json(v) if v else None
        for k, v in (("ruleset", ruleset), ("sheet", sheet), ("deadlines", deadlines))
    }

    async def go() -> str:
        # a file that breaks a rule is a rejection naming the field (inside run: one line)
        rules = load_ruleset(files["ruleset"]) if files["ruleset"] is not None else None
        score_sheet = load_score_sheet(files["sheet"]) if files["sheet"] is not None else None
        times = load_deadlines(files["deadlines"]) if files["deadlines"] is not None else None
        async with bootstrap(settings_of(ctx), temporal="find") as services:
            actor = await _actor(services, who)
            blocks = services.blocks
            if scenario is not None:
                if await blocks.ensure_registered(scenario.block, actor):
                    err.print(f"registered block {scenario.block.id}")
                handle = await services.cycles.start(scenario.start_command(), actor)
            else:
                assert block is not None and year is not None
                handle = await blocks.start_cycle(
                    block,
                    year,
                    ruleset=rules,
                    score_sheet=score_sheet,
                    deadlines=times,
                    actor=actor,
                )
            return str(handle.id)

    out.print(f"started {run(go())}")


@app.command("send")
def cycle_send(
    ctx: typer.Context,
    block: Annotated[str, typer.Argument(help="block id, e.g. kg-khoi-2")],
    year: Annotated[int, typer.Argument(help="the emulation year")],
    who: Annotated[
        str,
        typer.Option(
            "--as",
            help="a person's login (the events name the person), or the shorthand admin, "
            "auditor or a member unit's id",
        ),
    ],
    do: Annotated[str, typer.Option("--do", help="the command, e.g. sign_pledge")],
    field: Annotated[
        list[str] | None,
        typer.Option("--field", "-f", help="key=value (JSON values allowed), repeatable"),
    ] = None,
    request_id: Annotated[
        str | None,
        typer.Option(help="makes a retry safe: the same id again returns the first answer"),
    ] = None,
) -> None:
    """Approvers: send one step of a cycle (a Temporal update, judged by the rules)."""
    if do in ("start_cycle", "expire_deadline"):
        err.print(
            f"[red]invalid:[/red] --do: {do} is not a step (use `cycle start`; "
            "deadlines expire by themselves)"
        )
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
            actor = await _actor(services, who)
            from ..evidence import check_attached

            check_attached(services.evidence, command)  # the files it names are stored
            return await services.cycles.send(
                block, year, command, actor, request_id=request_id or str(uuid.uuid4())
            )

    result = run(go())
    note = " (repeated request: first answer)" if result.duplicate else ""
    out.print(
        f"accepted{note}: {', '.join(e.type for e in result.events)} → version "
        f"{result.version}, stage {result.stage}"
    )


@app.command("state")
def cycle_state_command(
    ctx: typer.Context,
    block: str,
    year: int,
    auditor: Annotated[
        bool, typer.Option("--auditor", help="everything, ballots of an open round included")
    ] = False,
) -> None:
    """The live state of a cycle, as JSON. While a round is open it shows who has voted, not
    how (as the pages and the API do), unless --auditor."""
    from domain.views import state_for

    async def go() -> Any:
        async with bootstrap(settings_of(ctx), temporal="find", role="auditor") as services:
            return await cycle_state(services.cycles, block, year)

    body = state_for(run(go()), auditor=auditor)
    sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=1) + "\n")


@app.command("pending")
def cycle_pending(
    ctx: typer.Context,
    block: str,
    year: int,
    as_json: Annotated[bool, typer.Option("--json", help="as JSON")] = False,
) -> None:
    """Who still has to act in the current stage, with each unit's name and the deadline."""

    async def go() -> Any:
        async with bootstrap(settings_of(ctx), temporal="find", role="auditor") as services:
            return await cycle_state(services.cycles, block, year)

    state = run(go())
    pending = pending_actions(state)
    deadline = state.deadlines.get(state.stage)
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "stage": state.stage,
                    "deadline": deadline.isoformat() if deadline else None,
                    "pending": pending,
                },
                ensure_ascii=False,
                indent=1,
            )
            + "\n"
        )
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
    from readmodels.cycles import list_cycles

    from ..database import may_write

    async def go() -> Any:
        async with bootstrap(settings_of(ctx), temporal="none", role="auditor") as services:
            if await may_write(services.pool):
                await services.readmodels.catch_up()
            elif await services.readmodels.behind():  # the auditor reads it as it is
                err.print(
                    "note: the read model is behind the event log; a running worker (or"
                    " `thidua projections run`) brings it up to date",
                    highlight=False,
                )
            return await list_cycles(services.pool, year=year, stage=stage, block=block)

    rows = run(go())
    if as_json:
        sys.stdout.write(
            json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=1) + "\n"
        )
        return
    table = Table(title="Kỳ thi đua")
    for col in ("year", "block", "province", "stage", "head → next", "deputy → next", "place 1"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r.year),
            f"{r.block_name} ({r.block_id})",
            r.province,
            r.stage,
            f"{r.head} → {r.next_head or '—'}",
            f"{r.deputy} → {r.next_deputy or '—'}",
            r.leading_unit or "—",
        )
    out.print(table)


@app.command("export")
def cycle_export(
    ctx: typer.Context,
    block: str,
    year: int,
    out_path: Annotated[Path, typer.Argument(metavar="OUT.xlsx", help="the workbook to write")],
    stream: Annotated[str | None, typer.Option(help="a stream name instead of BLOCK YEAR")] = None,
) -> None:
    """A cycle's ranking, scores by section, exclusions, votes and election as an Excel
    workbook, made from its verified events."""
    from workflows.messages import cycle_key

    from ..documents.record import stored_workbook

    if out_path.suffix.lower() != ".xlsx":
        err.print("[red]invalid:[/red] OUT.xlsx: the file name must end in .xlsx", highlight=False)
        raise typer.Exit(2)
    name = stream or cycle_key(block, year)[1]
    write_from_store(ctx, name, out_path, "workbook", lambda store: stored_workbook(store, name))
