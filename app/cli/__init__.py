"""`thidua`: the command line of administrators, approvers and auditors.

One module per command group; the root callback builds the settings once and configures the
logs; every command runs its body through `common.run`, so a rejection or an unreachable
service is one line on standard error and a non-zero exit, never a traceback."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..process import exit_now
from ..settings import Settings
from . import audit, block, cycle, db, dev, projections, scenario, tokens, users, year
from .common import err, run, settings_of

__all__ = ["app", "main"]

app = typer.Typer(
    name="thidua",
    help="Durable, auditable emulation cycles (thi đua – khen thưởng) of emulation blocks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(scenario.app, name="scenario")
app.add_typer(cycle.app, name="cycle")
app.add_typer(block.app, name="block")
app.add_typer(year.app, name="year")
app.add_typer(audit.app, name="audit")
app.add_typer(dev.app, name="dev")
app.add_typer(db.app, name="db")
app.add_typer(projections.app, name="projections")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")

# Commands that print a report of their own: their logs stay quiet unless LOG_LEVEL says.
_QUIET = {"demo", "scenario", "cycle", "audit", "db", "projections", "users", "tokens", "block",
          "year"}


@app.callback()
def root(ctx: typer.Context) -> None:
    """Durable, auditable emulation cycles (thi đua – khen thưởng) of emulation blocks.

    Settings come from the environment or a .env file: DATABASE_URL (the URL of the role a
    command needs), TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TASK_QUEUE, THIDUA_HOME, API_PORT,
    LOG_FORMAT, LOG_LEVEL; DB_OWNER_PASSWORD, DB_APP_PASSWORD, DB_AUDITOR_PASSWORD for
    `thidua db roles`."""
    from ..logging import configure_logging

    settings = Settings()
    ctx.obj = settings
    level = settings.log_level
    if ctx.invoked_subcommand in _QUIET and level.upper() == "INFO":
        level = "WARNING"
    configure_logging(level, settings.log_format)


@app.command("demo")
def demo(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="print the outcome as JSON")] = False,
    demo_users: Annotated[bool, typer.Option(
        "--demo-users", help="also create (or reset) an administrator, an auditor and one "
        "person per unit, and print their logins and passwords once (standard error)")] = False,
) -> None:
    """The main job: bring up the embedded stack, run the reference cycle of Khối thi đua số 2
    (Kiên Giang, 2018) through the workflow, and print its outcome."""
    from ..runner import reference_scenario

    scenario_ = reference_scenario()
    settings = settings_of(ctx)
    actors = None
    if demo_users:  # the steps are then the acts of these people: the events name them
        from ..bootstrap import bootstrap
        from .users import create_demo_users

        async def people() -> Any:
            async with bootstrap(settings, temporal="none", setup=True, pool_size=2) as services:
                return await create_demo_users(services)

        actors = run(people())
    err.print(f"[bold]{scenario_.title}[/bold] — dữ liệu: {settings.thidua_home}")
    report = run(scenario.run_report(scenario_, settings, show_progress=True, people=actors))
    scenario.show(report, as_json=as_json)


@app.command("api")
def api(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="port (default API_PORT, 8000)")] = None,
) -> None:
    """Serve the HTTP API on the configured Temporal (or the `thidua dev up` stack) and
    PostgreSQL."""
    from ..http.serve import serve

    settings = settings_of(ctx)
    run(serve(settings, host=host, port=port or settings.api_port))


@app.command("worker")
def worker(ctx: typer.Context) -> None:
    """Run a worker for the cycle workflows and keep the read models current, on the
    configured Temporal (or the `thidua dev up` stack). SIGTERM stops it gracefully."""
    from ..worker import serve

    code = run(serve(settings_of(ctx)))
    raise typer.Exit(code)


def main() -> None:
    code = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            err.print(exc.code)
    except KeyboardInterrupt:
        code = 130
    exit_now(code)


if __name__ == "__main__":
    main()
