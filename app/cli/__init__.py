"""`thidua`: the command line of administrators, approvers and auditors.

One module per command group; the root callback builds the settings once and configures the
logs; every command runs its body through `common.run`, so a rejection or an unreachable
service is one line on standard error and a non-zero exit, never a traceback."""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from ..process import exit_now

__all__ = ["GROUPS", "app", "main"]

GROUPS: dict[str, str] = {
    "scenario": "Run scenario files (thidua.scenario/1).",
    "cycle": "Start cycles, send their steps, list them.",
    "block": "Blocks across the years: register, show, members joining and leaving.",
    "year": "A province's year: open every block's cycle, the list of proposals.",
    "province": "A province's blocks from one workbook: the template, the import.",
    "sheet": "Score sheets: the .xlsx template, its import, a province's versions.",
    "audit": "Replay and verify cycles from the event store.",
    "documents": "The block's documents: summary report, proposal to the council, news.",
    "dev": "The embedded stack for one machine.",
    "db": "The event store's database.",
    "projections": "Read models (projections of the event log).",
    "users": "People: logins, roles, units.",
    "tokens": "API tokens of people.",
}
"""The command groups, each a module of app/cli with a `typer.Typer` named `app`, and its
one-line help. A group's module is imported only when the group runs (or shows its own help):
`thidua --help` and `thidua --version` import none of them, nor the services behind them
(tests/app/test_cli_startup.py checks the lines agree with the modules)."""


class LazyGroups(TyperGroup):
    """The root command: the groups of GROUPS are listed from their one line and loaded on use."""

    # click's own types, not the copy typer vendors: Any suits both
    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *GROUPS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in GROUPS and ctx.meta.get(_LISTING):
            return click.Group(cmd_name, help=GROUPS[cmd_name])  # a line of the root's help
        if cmd_name in GROUPS:
            return load_group(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        ctx.meta[_LISTING] = True  # the groups' lines, without importing them
        try:
            super().format_help(ctx, formatter)
        finally:
            ctx.meta.pop(_LISTING, None)


_LISTING = "thidua.listing"


def load_group(name: str) -> Any:
    module = importlib.import_module(f"{__name__}.{name}")
    holder = typer.Typer()  # as a group of a root, so without the root's own options
    holder.add_typer(module.app, name=name)
    return typer.main.get_group(holder).commands[name]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"thidua {version('thidua')}")
        raise typer.Exit()


app = typer.Typer(
    name="thidua",
    help="Durable, auditable emulation cycles (thi đua – khen thưởng) of emulation blocks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=LazyGroups,
)

# Commands that print a report of their own: their logs stay quiet unless LOG_LEVEL says.
_QUIET = {
    "demo",
    "scenario",
    "cycle",
    "audit",
    "db",
    "projections",
    "users",
    "tokens",
    "block",
    "year",
}


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """Durable, auditable emulation cycles (thi đua – khen thưởng) of emulation blocks.

    Settings come from the environment or a .env file: DATABASE_URL (the URL of the role a
    command needs), TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TASK_QUEUE, THIDUA_HOME, API_PORT,
    LOG_FORMAT, LOG_LEVEL; DB_OWNER_PASSWORD, DB_APP_PASSWORD, DB_AUDITOR_PASSWORD for
    `thidua db roles`."""
    from ..logging import configure_logging
    from ..settings import Settings

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
    demo_users: Annotated[
        bool,
        typer.Option(
            "--demo-users",
            help="also create (or reset) an administrator, an auditor and one "
            "person per unit, and print their logins and passwords once (standard error)",
        ),
    ] = False,
) -> None:
    """The main job: bring up the embedded stack, run the reference cycle of Khối thi đua số 2
    (Kiên Giang, 2018) through the workflow, and print its outcome."""
    from ..runner import reference_scenario
    from . import scenario
    from .common import err, run, settings_of

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
    from .common import run, settings_of

    settings = settings_of(ctx)
    run(serve(settings, host=host, port=port or settings.api_port))


@app.command("worker")
def worker(ctx: typer.Context) -> None:
    """Run a worker for the cycle workflows and keep the read models current, on the
    configured Temporal (or the `thidua dev up` stack). SIGTERM stops it gracefully."""
    from ..worker import serve
    from .common import run, settings_of

    code = run(serve(settings_of(ctx)))
    raise typer.Exit(code)


def main() -> None:
    code = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            from .common import err

            err.print(exc.code)
    except KeyboardInterrupt:
        code = 130
    exit_now(code)


if __name__ == "__main__":
    main()
