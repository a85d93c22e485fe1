"""`thidua scenario …`: run scenario files (thidua.scenario/1) through the workflow or the
pure rules."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from domain.scenario import Scenario

from ..settings import Settings
from .common import err, load_file, run, settings_of

__all__ = ["app", "run_report", "show"]

app = typer.Typer(help="Run scenario files (thidua.scenario/1).", no_args_is_help=True)


async def run_report(
    scenario: Scenario, settings: Settings, *, show_progress: bool, people: Any = None
) -> Any:
    """Run `scenario` through the workflow on the found (or a run's own) stack (`people`: see
    app.runner.run_scenario)."""
    from ..bootstrap import bootstrap
    from ..runner import run_scenario

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not show_progress,
    ) as bar:
        task = bar.add_task("khởi động PostgreSQL và Temporal…", total=len(scenario.steps) + 1)
        async with bootstrap(settings, temporal="run", setup=True) as services:

            def step(n: int, total: int, what: str) -> None:
                bar.update(task, completed=n, description=f"bước {n}/{total}: {what}")

            assert services.temporal is not None
            report = await run_scenario(
                scenario,
                client=services.temporal,
                store=services.store,
                outbox=services.outbox,
                task_queue=services.task_queue,
                progress=step,
                people=people,
            )
            # `cycle list` (as the read-only auditor) then shows the run's cycle
            await services.readmodels.catch_up()
            return report


def show(report: Any, *, as_json: bool) -> None:
    """Print a run's outcome (a table, or JSON on standard output), what differed on standard
    error, and exit 0 when it matched, 1 otherwise."""
    if as_json:
        sys.stdout.write(json.dumps(report.outcome, ensure_ascii=False, indent=1) + "\n")
    else:
        from ..report import render_outcome

        render_outcome(Console(), report.scenario, report.outcome)
    for d in report.diffs:
        err.print(f"[red]differs:[/red] {d}", highlight=False)
    raise typer.Exit(0 if report.ok else 1)


@app.command("run")
def scenario_run(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="a scenario file (thidua.scenario/1, JSON)")],
    as_json: Annotated[bool, typer.Option("--json", help="print the outcome as JSON")] = False,
) -> None:
    """Run every step of FILE through the workflow's updates, on the configured (or embedded)
    Temporal and PostgreSQL, and print the outcome.

    Exit 0 when every step did what it meant to and the outcome matches `expect`, 1 otherwise
    (what differed on standard error), 2 for a file that is not a valid scenario."""
    scenario = load_file(file)
    settings = settings_of(ctx)
    report = run(run_report(scenario, settings, show_progress=not as_json and err.is_terminal))
    show(report, as_json=as_json)


@app.command("check")
def scenario_check(
    file: Annotated[Path, typer.Argument(help="a scenario file")],
) -> None:
    """Run FILE through the pure rules only (no Temporal, no PostgreSQL) and compare with its
    `expect` block."""
    import itertools
    import uuid
    from datetime import UTC, datetime, timedelta

    from domain.scenario import compare_outcome, outcome_json, run_pure, step_diffs

    scenario = load_file(file)
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
