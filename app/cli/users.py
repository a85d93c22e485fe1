"""`thidua users …`: the people who may act (records of the secretariat). Every change is an
event of the person's stream; a password is read from standard input, never from an argument."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from domain.values import Actor

from ..bootstrap import bootstrap
from ..identity import Identity, Person, ThrottleRow
from .common import err, out, run, settings_of

__all__ = ["app", "create_demo_users", "operator", "read_password"]

app = typer.Typer(help="People: logins, roles, units.", no_args_is_help=True)


def operator() -> Actor:
    """Who runs the command line: an administrator with access to the database (recorded
    with the operating-system user)."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor.admin(name=f"thidua CLI ({who})")


def read_password() -> str:
    """One line of standard input (without its line break)."""
    line = sys.stdin.readline()
    if not line:
        err.print("[red]error:[/red] --password-stdin: nothing on standard input")
        raise typer.Exit(2)
    return line.rstrip("\r\n")


def _row(p: Person) -> dict[str, Any]:
    return {
        "login": p.login,
        "name": p.name,
        "position": p.position,
        "role": p.role,
        "unit": p.unit,
        "affiliation": p.affiliation,
        "email": p.email,
        "active": p.active,
    }


async def create_demo_users(services: Any) -> dict[str, Actor]:
    """An administrator, an auditor and one person per unit of the reference block, each with
    a new random password, printed once (standard error) and stored only as a hash. Returns
    their actors by unit id (`admin`, `auditor` for the others)."""
    from ..runner import reference_scenario

    block = reference_scenario().block
    logins = ["admin", "auditor", *(m.id for m in block.members)]
    existed = [login for login in logins if await services.identity.people.get(login) is not None]
    users = await services.identity.demo_users(
        [(m.id, m.name) for m in block.members], by=operator()
    )
    from rich.table import Table

    if existed:  # a restart: their old passwords stop working now
        err.print(
            f"the demo people's passwords changed ({len(existed)} of {len(logins)} "
            "existed already): their old passwords no longer work",
            highlight=False,
        )
    table = Table(
        "login", "password", "role", "unit", title="demo users — shown once", title_justify="left"
    )
    for u in users:
        table.add_row(u.login, u.password, u.role, u.unit or "")
    err.print(table)
    err.print(
        "  log in: POST /session (login, password, csrf_token from GET /session/csrf),"
        " or `thidua tokens issue LOGIN` for an API token",
        highlight=False,
    )
    actors: dict[str, Actor] = {}
    for u in users:
        person = await services.identity.people.get(u.login)
        if person is not None:
            actors[u.unit or u.role] = person.actor()
    return actors


async def _with_identity(settings: Any, body: Any) -> Any:
    async with bootstrap(settings, temporal="none", pool_size=2) as services:
        return await body(services.identity)


@app.command("add")
def add(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(help="lower-case letters, digits, '-', '_', '.'")],
    name: Annotated[str, typer.Option("--name", help="full name")],
    role: Annotated[str, typer.Option("--role", help="admin, unit or auditor")],
    unit: Annotated[str | None, typer.Option("--unit", help="the unit's id (role unit)")] = None,
    position: Annotated[str | None, typer.Option("--position", help="chức vụ")] = None,
    email: Annotated[
        str | None, typer.Option("--email", help="where notifications go (e-mail)")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Add a person."""
    password = read_password() if password_stdin else None

    async def body(identity: Identity) -> Person:
        return await identity.add_person(
            login,
            name=name,
            role=role,
            unit=unit,
            position=position,
            password=password,
            email=email,
            by=operator(),
        )

    p = run(_with_identity(settings_of(ctx), body))
    out.print(f"added {p.login} ({p.role}, {p.affiliation})", highlight=False)


@app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
) -> None:
    """Everyone, active or not."""

    async def body(identity: Identity) -> list[Person]:
        return await identity.people.list()

    people = run(_with_identity(settings_of(ctx), body))
    if as_json:
        sys.stdout.write(json.dumps([_row(p) for p in people], ensure_ascii=False) + "\n")
        return
    from rich.table import Table

    table = Table("login", "name", "position", "role", "affiliation", "active")
    for p in people:
        table.add_row(
            p.login,
            p.name,
            p.position or "",
            p.role,
            p.affiliation,
            "yes" if p.active else "disabled",
        )
    out.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    login: str,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object")] = False,
) -> None:
    """One person, with the failed logins the throttle counts per source address and the
    delays running now."""

    async def body(identity: Identity) -> tuple[Person, list[ThrottleRow]]:
        person = await identity.people.require(login)
        return person, await identity.login_failures(login)

    person, rows = run(_with_identity(settings_of(ctx), body))
    now = datetime.now(UTC)
    failures = [
        {
            "address": r.address,
            "failures": r.failures,
            "last_failure": r.last_failure.isoformat(),
            "delayed_until": r.delayed_until.isoformat()
            if r.delayed(now) and r.delayed_until
            else None,
        }
        for r in rows
    ]
    if as_json:
        sys.stdout.write(
            json.dumps({**_row(person), "login_failures": failures}, ensure_ascii=False) + "\n"
        )
        return
    out.print(
        f"{person.login}: {person.name} ({person.position or '-'}), {person.role},"
        f" {person.affiliation}, {'active' if person.active else 'disabled'}",
        highlight=False,
    )
    if not failures:
        out.print("no failed logins", highlight=False)
        return
    from rich.table import Table

    table = Table(
        "address",
        "failures",
        "last failure",
        "delayed until",
        title="failed logins (per source address)",
        title_justify="left",
    )
    for f in failures:
        table.add_row(
            f["address"], str(f["failures"]), f["last_failure"], f["delayed_until"] or "-"
        )
    out.print(table)


@app.command("disable")
def disable(ctx: typer.Context, login: str) -> None:
    """Disable a person: their sessions end at once, their tokens stop working."""

    async def body(identity: Identity) -> Person:
        return await identity.disable(login, by=operator())

    run(_with_identity(settings_of(ctx), body))
    out.print(f"disabled {login}", highlight=False)


@app.command("enable")
def enable(ctx: typer.Context, login: str) -> None:
    """Enable a disabled person again."""

    async def body(identity: Identity) -> Person:
        return await identity.enable(login, by=operator())

    run(_with_identity(settings_of(ctx), body))
    out.print(f"enabled {login}", highlight=False)


@app.command("set")
def set_(
    ctx: typer.Context,
    login: str,
    role: Annotated[str | None, typer.Option("--role")] = None,
    unit: Annotated[str | None, typer.Option("--unit")] = None,
    name: Annotated[str | None, typer.Option("--name")] = None,
    position: Annotated[str | None, typer.Option("--position")] = None,
    email: Annotated[
        str | None, typer.Option("--email", help='where notifications go; "" removes it')
    ] = None,
) -> None:
    """Change a person's role and unit, name, position or e-mail."""

    async def body(identity: Identity) -> Person:
        return await identity.people.change(
            login, role=role, unit=unit, name=name, position=position, email=email, by=operator()
        )

    p = run(_with_identity(settings_of(ctx), body))
    out.print(f"{p.login}: {p.role}, {p.affiliation}", highlight=False)


@app.command("passwd")
def passwd(
    ctx: typer.Context,
    login: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the new password from standard input")
    ] = False,
) -> None:
    """Set a person's password (their sessions end)."""
    if not password_stdin:
        err.print("[red]error:[/red] give the password on standard input with --password-stdin")
        raise typer.Exit(2)
    password = read_password()

    async def body(identity: Identity) -> Person:
        return await identity.set_password(login, password, by=operator())

    run(_with_identity(settings_of(ctx), body))
    out.print(f"password set for {login}", highlight=False)


@app.command("calendar")
def calendar(
    ctx: typer.Context,
    login: str,
    base: Annotated[
        str, typer.Option("--base", help="the site's address, put before the feed's path")
    ] = "",
    revoke: Annotated[
        bool, typer.Option("--revoke", help="end the address; make no new one")
    ] = False,
) -> None:
    """Make (or replace) the secret address of a person's deadlines calendar (iCalendar) and
    print it once; the old address stops working. Only its hash is kept."""

    async def body(identity: Identity) -> str | bool:
        if revoke:
            await identity.people.require(login)
            return await identity.calendar.revoke(login)
        return await identity.calendar.rotate(login)

    got = run(_with_identity(settings_of(ctx), body))
    if revoke:
        out.print(f"calendar of {login}: {'ended' if got else 'there was none'}", highlight=False)
        return
    out.print(f"{base.rstrip('/')}/lich/{got}.ics", highlight=False, soft_wrap=True)
