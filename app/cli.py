"""`thidua`: the command line of administrators, approvers and auditors."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from domain.scenario import Scenario, ScenarioError, load_scenario

from .cli_audit import audit_app
from .cli_cycle import cycle_app, dev_app
from .db import db_app
from .process import exit_now
from .settings import Settings

app = typer.Typer(
    name="thidua",
    help="Durable, auditable emulation cycles (thi đua – khen thưởng) of emulation blocks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
scenario_app = typer.Typer(help="Run scenario files (thidua.scenario/1).", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")
app.add_typer(db_app, name="db")
app.add_typer(dev_app, name="dev")
app.add_typer(cycle_app, name="cycle")
app.add_typer(audit_app, name="audit")

err = Console(stderr=True)


def _load(path: Path) -> Scenario:
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


async def _run(scenario: Scenario, settings: Settings, *, show_progress: bool) -> Any:
    from .devstack import Stack
    from .runner import run_scenario

    with Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(),
        MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True,
        disable=not show_progress,
    ) as bar:
        task = bar.add_task("khởi động PostgreSQL và Temporal…", total=len(scenario.steps) + 1)
        async with Stack(settings) as stack:
            def step(n: int, total: int, what: str) -> None:
                bar.update(task, completed=n, description=f"bước {n}/{total}: {what}")

            return await run_scenario(
                scenario, client=stack.client, store=stack.store, outbox=stack.outbox,
                task_queue=settings.task_queue, progress=step,
            )


def _show(report: Any, *, as_json: bool) -> None:
    """Print a run's outcome (a table, or JSON on standard output), what differed on standard
    error, and exit 0 when it matched, 1 otherwise."""
    if as_json:
        sys.stdout.write(json.dumps(report.outcome, ensure_ascii=False, indent=1) + "\n")
    else:
        from .report import render_outcome

        render_outcome(Console(), report.scenario, report.outcome)
    for d in report.diffs:
        err.print(f"[red]differs:[/red] {d}", highlight=False)
    raise typer.Exit(0 if report.ok else 1)


def _setup() -> Settings:
    from .logging import configure_logging

    settings = Settings()
    configure_logging(settings.log_level if settings.log_level != "INFO" else "WARNING",
                      settings.log_format)
    return settings


@scenario_app.command("run")
def scenario_run(
    file: Annotated[Path, typer.Argument(help="a scenario file (thidua.scenario/1, JSON)")],
    as_json: Annotated[bool, typer.Option("--json", help="print the outcome as JSON")] = False,
) -> None:
    """Run every step of FILE through the workflow's updates, on the configured (or embedded)
    Temporal and PostgreSQL, and print the outcome.

    Exit 0 when every step did what it meant to and the outcome matches `expect`, 1 otherwise
    (what differed on standard error), 2 for a file that is not a valid scenario."""
    scenario = _load(file)
    settings = _setup()
    report = asyncio.run(_run(scenario, settings, show_progress=not as_json and err.is_terminal))
    _show(report, as_json=as_json)


@scenario_app.command("check")
def scenario_check(
    file: Annotated[Path, typer.Argument(help="a scenario file")],
) -> None:
    """Run FILE through the pure rules only (no Temporal, no PostgreSQL) and compare with its
    `expect` block."""
    import itertools
    import uuid
    from datetime import UTC, datetime, timedelta

    from domain.scenario import compare_outcome, outcome_json, run_pure, step_diffs

    scenario = _load(file)
    tick = itertools.count()
    t0 = datetime.now(UTC)
    state, log, steps = run_pure(
        scenario, now=lambda: t0 + timedelta(seconds=next(tick)), ids=uuid.uuid4
    )
    outcome = outcome_json(state, steps, events=len(log), last_hash=None)
    sys.stdout.write(json.dumps(outcome, ensure_ascii=False, indent=1) + "\n")
    diffs = step_diffs(scenario, steps)
    diffs += compare_outcome(outcome, scenario.expect)
    for d in diffs:
        err.print(f"[red]differs:[/red] {d}", highlight=False)
    raise typer.Exit(0 if not diffs else 1)


@app.command("demo")
def demo(
    as_json: Annotated[bool, typer.Option("--json", help="print the outcome as JSON")] = False,
) -> None:
    """The main job: bring up the embedded stack, run the reference cycle of Khối thi đua số 2
    (Kiên Giang, 2018) through the workflow, and print its outcome."""
    from .runner import reference_scenario

    scenario = reference_scenario()
    settings = _setup()
    err.print(f"[bold]{scenario.title}[/bold] — dữ liệu: {settings.thidua_home}")
    _show(asyncio.run(_run(scenario, settings, show_progress=True)), as_json=as_json)


@app.command("api")
def api(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="port (default API_PORT, 8000)")] = None,
) -> None:
    """Serve the HTTP API (bearer tokens from THIDUA_API_TOKENS) on the configured Temporal
    (or the `thidua dev up` stack) and PostgreSQL."""
    import uvicorn

    from .api import create_app

    settings = Settings()
    uvicorn.run(create_app(), host=host, port=port or settings.api_port)


@app.command("worker")
def worker() -> None:
    """Run a worker for the cycle workflows (on the configured or embedded stack)."""
    from .worker import main as worker_main

    worker_main()


def main() -> None:
    code = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            err.print(exc.code)
    exit_now(code)


if __name__ == "__main__":
    main()
