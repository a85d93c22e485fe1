"""Recorded histories of the blocks' workflows replay with today's code (re-record with
`python -m tests.blocks.record_history` only when a change is meant to break them); the
cycle's recorded histories from before the rotation replay too (tests/workflows)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.cycle import EmulationCycle
from workflows.rotation import PATCH
from workflows.year import ProvinceYear

pytestmark = pytest.mark.temporal

FILES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_the_rotation_and_a_provinces_year_are_recorded() -> None:
    assert {f.stem for f in FILES} == {"rotation", "year"}
    history = json.loads(next(f for f in FILES if f.stem == "rotation").read_text("utf-8"))
    patches = [
        json.loads(base64.b64decode(p["data"]))["id"]
        for e in history["events"]
        if "markerRecordedEventAttributes" in e
        for p in e["markerRecordedEventAttributes"]["details"]["patch-data"]["payloads"]
    ]
    assert patches == [PATCH]
    assert "set_block_leaders" in json.dumps(history)


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
async def test_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text("utf-8"))
    replayer = Replayer(
        workflows=[EmulationCycle, ProvinceYear], data_converter=pydantic_data_converter
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
