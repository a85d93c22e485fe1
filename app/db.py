"""`thidua db …`: the database commands (mounted by app/cli.py)."""

from __future__ import annotations

import asyncio

import typer

from app.settings import Settings
from eventstore import StoreError, create_pool, migrate
from eventstore.connect import embedded_dir, stop_embedded

__all__ = ["db_app"]

db_app = typer.Typer(help="The event store's database.", no_args_is_help=True)


async def _migrate(settings: Settings) -> list[str]:
    pool = await create_pool(settings, min_size=1, max_size=1)
    try:
        return await migrate(pool)
    finally:
        await pool.close()


@db_app.command("migrate")
def migrate_command() -> None:
    """Apply the schema migrations that are not applied yet (safe to run again)."""
    settings = Settings()
    try:
        applied = asyncio.run(_migrate(settings))
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"applied: {', '.join(applied)}" if applied else "schema up to date")


@db_app.command("stop")
def stop_command() -> None:
    """Stop the embedded PostgreSQL (no effect with DATABASE_URL)."""
    settings = Settings()
    if settings.database_url:
        typer.echo("DATABASE_URL is set: nothing to stop")
        return
    stopped = stop_embedded(embedded_dir(settings))
    typer.echo("stopped" if stopped else "not running")
