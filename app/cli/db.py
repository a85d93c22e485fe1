"""`thidua db …`: the event store's database (roles and backups: app/database.py,
app/backup.py)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from eventstore.connect import embedded_dir, stop_embedded

from .common import err, out, run, settings_of

__all__ = ["app"]

app = typer.Typer(help="The event store's database.", no_args_is_help=True)


@app.command("migrate")
def migrate_command(ctx: typer.Context) -> None:
    """Apply the schema migrations that are not applied yet (safe to run again). The only
    command that migrates: run it with the owner's DATABASE_URL on a real server; the embedded
    one migrates as its superuser and then (re)makes the owner, service and auditor roles."""
    from ..database import migrate_database, then_stop_embedded

    settings = settings_of(ctx)
    applied = run(then_stop_embedded(settings, migrate_database(settings)))
    out.print(f"applied: {', '.join(applied)}" if applied else "schema up to date")


class StdinRole(StrEnum):
    owner = "owner"
    app = "app"
    auditor = "auditor"


_STDIN_ROLE = {"owner": "owner", "app": "service", "auditor": "auditor"}


@app.command("roles")
def roles_command(
    ctx: typer.Context,
    password_stdin: Annotated[
        StdinRole | None,
        typer.Option(
            "--password-stdin",
            help="read this role's password from the first line of standard"
            " input (else DB_OWNER_PASSWORD, DB_APP_PASSWORD, DB_AUDITOR_PASSWORD)",
        ),
    ] = None,
) -> None:
    """Create or update the owner (thidua_owner), service (thidua_app) and read-only auditor
    (thidua_auditor) roles and their grants. Needs a DATABASE_URL that may create roles (the
    embedded default uses its superuser and keeps the passwords in THIDUA_HOME/db-roles.json).
    A role given no password keeps its own; passwords are never printed or logged."""
    from ..database import ROLE_NAMES, make_roles, then_stop_embedded

    overrides = {}
    if password_stdin is not None:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            err.print(
                "[red]error:[/red] --password-stdin: standard input holds no password"
                " (rule: one non-empty line)",
                highlight=False,
            )
            raise typer.Exit(2)
        overrides[_STDIN_ROLE[password_stdin.value]] = line
    settings = settings_of(ctx)
    got = run(then_stop_embedded(settings, make_roles(settings, overrides)))  # type: ignore[arg-type]
    for role, name in ROLE_NAMES.items():
        out.print(f"{name}: {got[role]}", highlight=False)


@app.command("backup")
def backup_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="where to write the backup (pg_dump custom format)")],
) -> None:
    """Back up the whole database (DATABASE_URL, else the embedded one) with the server's own
    pg_dump."""
    from ..backup import backup
    from ..database import then_stop_embedded

    settings = settings_of(ctx)
    counts = run(then_stop_embedded(settings, backup(settings, file)))
    out.print(
        f"backup: {file} ({counts.events} events in {counts.streams} streams)", highlight=False
    )


@app.command("restore")
def restore_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="a backup made by `thidua db backup`")],
) -> None:
    """Restore a backup into an empty database (the embedded one under a new THIDUA_HOME, or
    DATABASE_URL) with the server's own pg_restore, in one transaction that stops at the first
    error; then apply newer migrations and grant the roles. Check it with `thidua audit verify
    --all`."""
    from ..backup import restore
    from ..database import then_stop_embedded

    settings = settings_of(ctx)
    counts = run(then_stop_embedded(settings, restore(settings, file)))
    out.print(f"restored: {counts.events} events in {counts.streams} streams", highlight=False)
    if counts.note:
        err.print(f"note: {counts.note}", highlight=False)


@app.command("stop")
def stop_command(ctx: typer.Context) -> None:
    """Stop the embedded PostgreSQL (no effect with DATABASE_URL)."""
    settings = settings_of(ctx)
    if settings.database_url:
        out.print("DATABASE_URL is set: nothing to stop")
        return
    stopped = stop_embedded(embedded_dir(settings.home))
    out.print("stopped" if stopped else "not running")
