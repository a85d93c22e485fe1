"""`thidua tokens …`: API tokens of people (shown once, stored as a hash)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from ..identity import Identity, IssuedToken, TokenInfo, parse_expiry
from .common import err, out, run, settings_of
from .users import _with_identity, operator

__all__ = ["app"]

app = typer.Typer(help="API tokens of people.", no_args_is_help=True)


@app.command("issue")
def issue(
    ctx: typer.Context,
    login: str,
    name: Annotated[str | None, typer.Option("--name", help="what the token is for")] = None,
    expires: Annotated[str, typer.Option("--expires", help="e.g. 90d or 12h")] = "90d",
) -> None:
    """Issue a token for a person and print it once (standard output: the token alone)."""

    async def body(identity: Identity) -> IssuedToken:
        return await identity.issue_token(
            login, name=name, expires=parse_expiry(expires), by=operator()
        )

    issued = run(_with_identity(settings_of(ctx), body))
    err.print(
        f"token {issued.id} for {issued.login}, expires {issued.expires_at:%Y-%m-%d %H:%M}"
        " UTC — shown once, keep it secret",
        highlight=False,
    )
    sys.stdout.write(issued.token + "\n")


@app.command("list")
def list_(ctx: typer.Context, login: str) -> None:
    """A person's tokens (never the tokens themselves)."""

    async def body(identity: Identity) -> list[TokenInfo]:
        await identity.people.require(login)
        return await identity.tokens.list(login)

    tokens = run(_with_identity(settings_of(ctx), body))
    from rich.table import Table

    now = datetime.now(UTC)
    table = Table("id", "name", "created", "expires", "last used", "status")
    table.columns[0].no_wrap = True
    fmt = "%Y-%m-%d %H:%M"
    for t in tokens:
        table.add_row(
            str(t.id),
            t.name,
            t.created_at.strftime(fmt),
            t.expires_at.strftime(fmt) if t.expires_at else "",
            t.last_used_at.strftime(fmt) if t.last_used_at else "",
            t.status(now),
        )
    out.print(table)


@app.command("revoke")
def revoke(ctx: typer.Context, token_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Revoke a token at once."""

    async def body(identity: Identity) -> TokenInfo:
        return await identity.revoke_token(token_id, by=operator())

    info = run(_with_identity(settings_of(ctx), body))
    out.print(f"revoked {info.id} ({info.login})", highlight=False)
