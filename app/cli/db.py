"""`thidua db …`: the event store's database."""

from __future__ import annotations

import typer

from eventstore.connect import embedded_dir, stop_embedded

from ..bootstrap import bootstrap
from .common import out, run, settings_of

__all__ = ["app"]

app = typer.Typer(help="The event store's database.", no_args_is_help=True)


@app.command("migrate")
def migrate_command(ctx: typer.Context) -> None:
    """Apply the schema migrations that are not applied yet (safe to run again). Run it with
    the owner's DATABASE_URL on a real server; the embedded one migrates as its superuser and
    then (re)makes the owner and service roles."""
    async def go() -> list[str]:
        async with bootstrap(settings_of(ctx), temporal="none", pool_size=1) as services:
            return services.migrated

    applied = run(go())
    out.print(f"applied: {', '.join(applied)}" if applied else "schema up to date")


@app.command("stop")
def stop_command(ctx: typer.Context) -> None:
    """Stop the embedded PostgreSQL (no effect with DATABASE_URL)."""
    settings = settings_of(ctx)
    if settings.database_url:
        out.print("DATABASE_URL is set: nothing to stop")
        return
    stopped = stop_embedded(embedded_dir(settings.home))
    out.print("stopped" if stopped else "not running")
