"""What every command group shares: the settings built once by the root callback, one way to
run a command's async body, and one error printer (a line, never a traceback)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from temporalio.service import RPCError

from domain.errors import DomainError
from domain.scenario import Scenario, ScenarioError, load_scenario
from eventstore import EventStore, StoreError

from ..discovery import ServiceNotFound
from ..settings import Settings

__all__ = ["err", "fail", "load_file", "out", "run", "settings_of", "write_from_store"]

T = TypeVar("T")

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def settings_of(ctx: typer.Context) -> Settings:
    """The settings the root callback built (once per process)."""
    root = ctx.find_root()
    settings = root.obj
    assert isinstance(settings, Settings), "the root callback builds the settings"
    return settings


def fail(exc: BaseException) -> NoReturn:
    """Print one line for `exc` and exit: 1 for a rule's rejection, 2 for everything else."""
    if isinstance(exc, DomainError):
        where = f" ({exc.field})" if exc.field else ""
        err.print(f"[red]rejected[/red]: {exc.code}{where}: {exc.message}", highlight=False)
        raise typer.Exit(1)
    if isinstance(exc, ServiceNotFound):
        err.print(f"[red]error:[/red] {exc}", highlight=False)
    elif isinstance(exc, StoreError):
        err.print(f"[red]error:[/red] PostgreSQL: {exc}", highlight=False)
    elif isinstance(exc, RPCError):
        err.print(f"[red]error:[/red] Temporal: {exc.message or exc}", highlight=False)
    else:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
    raise typer.Exit(2)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's async body; a rejection or an unreachable service is one line."""
    try:
        return asyncio.run(coro)
    except (DomainError, ServiceNotFound, StoreError, RPCError, RuntimeError, OSError) as exc:
        fail(exc)


def load_file(path: Path) -> Scenario:
    """A scenario file, or exit 2 naming every bad field."""
    try:
        return load_scenario(path.read_bytes())
    except OSError as exc:
        err.print(f"[red]error:[/red] cannot read {path}: {exc.strerror}")
        raise typer.Exit(2) from exc
    except ScenarioError as exc:
        err.print(f"[red]error:[/red] {path} is not a valid scenario:")
        for p in exc.problems:
            err.print(f"  {p}", markup=False, highlight=False)
        raise typer.Exit(2) from exc


def write_from_store(
    ctx: typer.Context,
    name: str,
    out_path: Path,
    what: str,
    make: Callable[[EventStore], Awaitable[bytes]],
) -> None:
    """Make a file from a stream's verified events as the auditor's role reads them (no
    Temporal), write it to `out_path` and say so."""
    from ..bootstrap import bootstrap

    async def go() -> bytes:
        async with bootstrap(
            settings_of(ctx), temporal="none", role="auditor", pool_size=2
        ) as services:
            return await make(services.store)

    out_path.write_bytes(run(go()))
    print(f"{name}: {what} written to {out_path}")
