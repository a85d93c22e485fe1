"""Recorded histories replay with today's workflow code (re-record with
`python -m tests.workflows.record_history` only when a change is meant to break them)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker

from app.client import CycleClient
from eventstore import EventStore
from workflows.cycle import EmulationCycle
from workflows.messages import CycleInput, CycleResult

from .helpers import discipline_load, history_files, reference, send_steps

pytestmark = pytest.mark.temporal

FILES = history_files()


def test_histories_are_recorded() -> None:
    assert "kg-khoi-2-2018" in {f.stem for f in FILES}


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
async def test_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text("utf-8"))
    replayer = Replayer(workflows=[EmulationCycle], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


@workflow.defn(name="EmulationCycle", sandboxed=False)
class ChangedCycle(EmulationCycle):  # type: ignore[misc, valid-type]
    """A nondeterministic change: it sleeps before its first append."""

    @workflow.init
    def __init__(self, inp: CycleInput) -> None:
        super().__init__(inp)

    @workflow.run
    async def run(self, inp: CycleInput) -> CycleResult:
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(inp)


async def test_a_nondeterministic_change_fails_to_replay() -> None:
    """The guard can fail: changed code no longer matches the recorded history."""
    path = next(f for f in FILES if f.stem == "kg-khoi-2-2018")
    history = WorkflowHistory.from_json(path.stem, path.read_text("utf-8"))
    replayer = Replayer(workflows=[ChangedCycle], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert type(result.replay_failure).__name__ == "NondeterminismError"


async def test_todays_histories_replay_across_runs(
    cycles: CycleClient, store: EventStore, worker: Worker
) -> None:
    """A cycle of today's code (search attributes, group commit, bursts of concurrent updates,
    continue-as-new every 20 updates): every run's history replays."""
    sc = reference()
    handle = await cycles.start(sc.start_command(), updates_per_run=20)
    await send_steps(cycles, sc, sc.steps[:26])
    state = await cycles.state(sc.block.id, sc.year)
    for round_ in range(2):
        burst = discipline_load(sc, state, round_)
        await asyncio.gather(
            *(
                cycles.send(sc.block.id, sc.year, cmd, who, request_id=f"b{round_}-{i}")
                for i, (cmd, who) in enumerate(burst)
            )
        )
    await send_steps(cycles, sc, sc.steps[26:])
    assert (await handle.result()).stage == "completed"

    histories = []
    run_id: str | None = (await handle.describe()).run_id
    while run_id:
        history = await cycles.client.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
        histories.append(history)
        started = history.events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id or None
    assert len(histories) >= 5
    replayer = Replayer(workflows=[EmulationCycle], data_converter=pydantic_data_converter)

    async def each() -> AsyncIterator[WorkflowHistory]:
        for h in histories:
            yield h

    results = await replayer.replay_workflows(each(), raise_on_replay_failure=False)
    assert results.replay_failures == {}
