"""Recorded histories replay with today's workflow code (re-record with
`python -m tests.workflows.record_history` only when a change is meant to break them)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.cycle import EmulationCycle
from workflows.messages import CycleInput, CycleResult

from .helpers import history_files

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
