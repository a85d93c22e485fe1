"""Drive a scenario through the real workflow updates, then read the outcome back from the
event store (the system of record), as `thidua scenario run` and the demo do."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import structlog
from temporalio.client import Client

from domain.errors import DomainError
from domain.recheck import recheck
from domain.scenario import (
    Scenario,
    compare_outcome,
    load_scenario,
    outcome_json,
    step_diffs,
    step_result,
)
from domain.values import Actor
from eventstore import EventStore
from eventstore.outbox import Outbox
from eventstore.verify import Replay
from workflows.messages import cycle_key

from .client import CycleClient
from .worker import build_worker

__all__ = ["RunReport", "reference_scenario", "run_scenario"]

log = structlog.get_logger("thidua.runner")

Progress = Callable[[int, int, str], None]


def reference_scenario() -> Scenario:
    """The reference case shipped with the package: Kiên Giang, Khối thi đua số 2, 2018."""
    text = resources.files("app").joinpath("scenarios/kg-khoi-2-2018.json").read_text("utf-8")
    return load_scenario(text)


@dataclass
class RunReport:
    outcome: dict[str, Any]
    diffs: list[str]
    replay: Replay
    scenario: Scenario

    @property
    def ok(self) -> bool:
        return not self.diffs


async def run_scenario(
    scenario: Scenario,
    *,
    client: Client,
    store: EventStore,
    outbox: Outbox,
    task_queue: str,
    isolated: bool = True,
    progress: Progress | None = None,
    people: Mapping[str, Actor] | None = None,
) -> RunReport:
    """Start the cycle, send every step as its update (with the actor's permissions), and build
    the outcome from the events read back and verified. `isolated` gives this run its own
    workflow id and stream (prefix `scn-…:`), so a scenario may be run again and again.
    `people` (a unit's id, or `admin`, to a person's actor) makes each step the act of that
    person, so that its events name them; a step whose actor has no person stays as written."""
    run = uuid.uuid4().hex[:8]
    prefix = f"scn-{run}:" if isolated else ""
    queue = f"{task_queue}-{run}" if isolated else task_queue
    cycles = CycleClient(client, queue, prefix=prefix)
    _, stream = cycle_key(scenario.block.id, scenario.year, prefix)
    total = len(scenario.steps) + 1
    async with build_worker(client, queue, store, outbox):
        handle = await cycles.start(
            scenario.start_command(), (people or {}).get("admin"), request_id=f"{prefix}start"
        )
        if progress:
            progress(1, total, "start_cycle")
        steps: list[dict[str, Any]] = []
        for n, step in enumerate(scenario.steps, start=2):
            try:
                await cycles.send(
                    scenario.block.id,
                    scenario.year,
                    step.command,
                    _person(step.actor, people),
                    request_id=f"{prefix}step-{step.index}",
                )
            except DomainError as err:
                steps.append(step_result(step, err.code))
                if not steps[-1]["ok"]:
                    log.warning("step.rejected", step=step.index, code=err.code, why=err.message)
            else:
                steps.append(step_result(step, None))
                if not steps[-1]["ok"]:
                    log.warning(
                        "step.accepted_unexpectedly", step=step.index, expected=step.expect_error
                    )
            if progress:
                progress(n, total, step.command.do)
        state = await cycles.state(scenario.block.id, scenario.year)
        if state.is_closed:
            await handle.result()
        elif isolated:
            await handle.terminate("scenario run finished with the cycle open")
    replay = await store.replay(stream)
    outcome = outcome_json(
        replay.state, steps, events=len(replay.events), last_hash=replay.report.head_hash.hex()
    )
    diffs = step_diffs(scenario, steps)
    diffs += compare_outcome(outcome, scenario.expect)
    if not replay.report.ok:
        diffs.append(f"verification failed: {replay.report}")
    diffs += [f"audit: {f}" for f in recheck(replay.events)]
    if replay.state.version != state.version:
        diffs.append(f"the store holds {replay.state.version} events, the workflow {state.version}")
    if replay.state.model_dump() != state.model_dump():
        diffs.append("the state folded from the store differs from the workflow's state")
    return RunReport(outcome=outcome, diffs=diffs, replay=replay, scenario=scenario)


def _person(actor: Actor, people: Mapping[str, Actor] | None) -> Actor:
    """The person acting for `actor` (by unit, or by kind for the secretariat), if any."""
    if not people:
        return actor
    person = people.get(actor.unit if actor.kind == "unit" and actor.unit else actor.kind)
    return person if person is not None and person.kind == actor.kind else actor
