"""`thidua dev …` and `thidua cycle …`: run the stack, start cycles, send steps."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from domain.commands import CommandAdapter
from domain.errors import DomainError
from domain.values import Actor

from .settings import Settings

__all__ = ["cycle_app", "dev_app"]

dev_app = typer.Typer(help="The embedded stack for one machine.", no_args_is_help=True)
cycle_app = typer.Typer(help="Start cycles and send their steps.", no_args_is_help=True)
err = Console(stderr=True)
out = Console()


@dev_app.command("up")
def dev_up() -> None:
    """Start PostgreSQL, the Temporal dev server and a worker, and keep them running (Ctrl-C
    stops them). Other commands find them through THIDUA_HOME/dev.json."""
    from .connect import dev_file, write_dev
    from .devstack import Stack
    from .logging import configure_logging
    from .worker import build_worker

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)

    async def serve() -> None:
        async with Stack(settings) as stack:
            address = stack.client.service_client.config.target_host
            write_dev(settings, {
                "temporal_address": address, "task_queue": settings.task_queue,
                "namespace": settings.temporal_namespace,
            })
            err.print(f"[green]ready[/green]: Temporal at {address}, task queue "
                      f"{settings.task_queue}, data in {settings.home} (Ctrl-C to stop)")
            try:
                await build_worker(
                    stack.client, settings.task_queue, stack.store, stack.outbox
                ).run()
            finally:
                dev_file(settings).unlink(missing_ok=True)

    def stop(*_: object) -> None:
        raise KeyboardInterrupt  # SIGTERM stops as Ctrl-C does: the stack shuts down cleanly

    signal.signal(signal.SIGTERM, stop)
    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        err.print("stopped")


def _parse_fields(fields: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for item in fields:
        key, sep, value = item.partition("=")
        if not sep or not key:
            err.print(f"[red]error:[/red] --field {item!r}: expected key=value")
            raise typer.Exit(2)
        try:
            data[key] = json.loads(value)
        except ValueError:
            data[key] = value
    return data


async def _client() -> Any:
    from .client import CycleClient
    from .connect import connect_temporal

    client, queue = await connect_temporal(Settings())
    return CycleClient(client, queue)


def _fail(exc: Exception) -> None:
    if isinstance(exc, DomainError):
        where = f" ({exc.field})" if exc.field else ""
        err.print(f"[red]rejected[/red]: {exc.code}{where}: {exc.message}", highlight=False)
        raise typer.Exit(1) from exc
    err.print(f"[red]error:[/red] {exc}", highlight=False)
    raise typer.Exit(2) from exc


@cycle_app.command("start")
def cycle_start(
    file: Annotated[Path, typer.Argument(help="a scenario file: its block, year, ruleset, "
                                              "score sheet and deadlines (its steps are ignored)")],
) -> None:
    """Administrators: start the yearly cycle of a block."""
    from .cli import _load

    scenario = _load(file)

    async def go() -> str:
        cycles = await _client()
        handle = await cycles.start(scenario.start_command())
        return str(handle.id)

    try:
        wid = asyncio.run(go())
    except (DomainError, RuntimeError) as exc:
        _fail(exc)
    out.print(f"started {wid}")


@cycle_app.command("send")
def cycle_send(
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
    try:
        command = CommandAdapter.validate_python({"do": do, **_parse_fields(field or [])})
    except ValidationError as exc:
        for e in exc.errors():
            loc = ".".join(str(p) for p in e["loc"][1:] or e["loc"])
            err.print(f"[red]invalid:[/red] {loc}: {e['msg']}", highlight=False)
        raise typer.Exit(2) from exc

    async def go() -> Any:
        cycles = await _client()
        return await cycles.send(block, year, command, Actor.parse(who),
                                 request_id=request_id or str(uuid.uuid4()))

    try:
        result = asyncio.run(go())
    except (DomainError, RuntimeError) as exc:
        _fail(exc)
    note = " (repeated request: first answer)" if result.duplicate else ""
    out.print(f"accepted{note}: {', '.join(e.type for e in result.events)} → version "
              f"{result.version}, stage {result.stage}")


@cycle_app.command("state")
def cycle_state(block: str, year: int) -> None:
    """The live state of a cycle, as JSON."""
    async def go() -> Any:
        cycles = await _client()
        return await cycles.state(block, year)

    try:
        state = asyncio.run(go())
    except RuntimeError as exc:
        _fail(exc)
    sys.stdout.write(state.model_dump_json(indent=1) + "\n")


@cycle_app.command("pending")
def cycle_pending(block: str, year: int) -> None:
    """Who still has to act in the current stage."""
    async def go() -> Any:
        cycles = await _client()
        return await cycles.pending(block, year)

    try:
        pending = asyncio.run(go())
    except RuntimeError as exc:
        _fail(exc)
    for who, actions in pending.items():
        out.print(f"{who}: {', '.join(actions)}")
