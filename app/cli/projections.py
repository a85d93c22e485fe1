"""`thidua projections …`: the read models that lists and pages read."""

from __future__ import annotations

from typing import Annotated

import typer

from ..bootstrap import bootstrap
from .common import out, run, settings_of

__all__ = ["app"]

app = typer.Typer(help="Read models (projections of the event log).", no_args_is_help=True)


@app.command("run")
def run_command(ctx: typer.Context) -> None:
    """Bring every read model up to date once (the worker does this continuously)."""

    async def go() -> int:
        async with bootstrap(settings_of(ctx), temporal="none", pool_size=2) as services:
            await services.readmodels.prepare()
            return await services.readmodels.catch_up()

    out.print(f"applied {run(go())} events")


@app.command("rebuild")
def rebuild_command(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="one read model (default: all)")] = None,
) -> None:
    """Empty a read model (or all) and rebuild it from the events; readers see the old rows
    until the new ones are complete."""

    async def go() -> int:
        async with bootstrap(settings_of(ctx), temporal="none", pool_size=2) as services:
            if name is not None and name not in services.readmodels.names:
                raise RuntimeError(
                    f"no read model {name!r} (known: {', '.join(services.readmodels.names)})"
                )
            return await services.readmodels.rebuild(name)

    out.print(f"rebuilt from {run(go())} events")
