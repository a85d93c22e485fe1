"""Recorded histories replay with today's workflow code (re-record with
`python -m tests.workflows.record_history` only when a change is meant to break them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.cycle import EmulationCycle

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
