"""`thidua audit …`: replay and verify cycles from the event store alone."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console

from .settings import Settings

__all__ = ["audit_app"]

audit_app = typer.Typer(help="Replay and verify cycles from the event store.", no_args_is_help=True)
err = Console(stderr=True)


def _stream(block: str, year: int, stream: str | None) -> str:
    from workflows.messages import cycle_key

    return stream or cycle_key(block, year)[1]


async def _replay(stream: str, to_version: int | None, as_of: datetime | None) -> Any:
    from eventstore import EventStore, create_pool

    pool = await create_pool(Settings(), min_size=1, max_size=2)
    try:
        return await EventStore(pool).replay(stream, to_version=to_version, as_of=as_of)
    finally:
        await pool.close()


StreamOpt = Annotated[str | None, typer.Option(help="a stream name instead of BLOCK YEAR "
                                                    "(e.g. one of a scenario run)")]


@audit_app.command("verify")
def verify(block: str, year: int, stream: StreamOpt = None) -> None:
    """Verify a cycle: hash chain, contiguous versions, every event readable, and every
    decision recomputed by the rules from the events before it. Exit 1 on any finding."""
    from domain.audit import recheck

    name = _stream(block, year, stream)
    replay = asyncio.run(_replay(name, None, None))
    if replay.report.events == 0:
        err.print(f"[red]no events[/red] in stream {name}")
        raise typer.Exit(1)
    findings = [str(p) for p in replay.report.problems]
    findings += [str(f) for f in recheck(replay.events)]
    print(f"{name}: {replay.report.events} events, head version {replay.report.head_version}, "
          f"head hash {replay.report.head_hash.hex()}")
    for f in findings:
        err.print(f"[red]finding[/red]: {f}", highlight=False)
    if findings:
        raise typer.Exit(1)
    print("ok: chain intact, versions contiguous, every decision follows from the rules")


@audit_app.command("replay")
def replay(
    block: str, year: int, stream: StreamOpt = None,
    as_of: Annotated[datetime | None, typer.Option(
        "--as-of", help="the state as recorded by this moment (ISO 8601, with a time zone)")] = None,
    to_version: Annotated[int | None, typer.Option(help="the state after this version")] = None,
) -> None:
    """The state of a cycle folded from the store, as of any moment or version (JSON)."""
    if as_of is not None and as_of.tzinfo is None:
        err.print("[red]invalid:[/red] --as-of: needs a time zone (e.g. +07:00 or Z)")
        raise typer.Exit(2)
    result = asyncio.run(_replay(_stream(block, year, stream), to_version, as_of))
    state = result.state
    body = json.loads(state.model_dump_json())
    body["verified"] = result.report.ok
    sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=1) + "\n")


@audit_app.command("reminders")
def reminders(block: str, year: int, stream: StreamOpt = None) -> None:
    """The reminders the cycle wrote to the outbox and nobody has delivered yet."""
    from eventstore import create_pool
    from eventstore.outbox import Outbox

    async def go() -> list[dict[str, Any]]:
        pool = await create_pool(Settings(), min_size=1, max_size=1)
        try:
            return await Outbox(pool).pending(_stream(block, year, stream))
        finally:
            await pool.close()

    rows = asyncio.run(go())
    for r in rows:
        p = r["payload"]
        print(f"{r['due_at'].isoformat()}  {r['recipient']}: {p['stage']} deadline "
              f"{p['deadline']} ({p['days_before']} days before): {', '.join(p['actions'])}")
    if not rows:
        print("no reminders waiting")
