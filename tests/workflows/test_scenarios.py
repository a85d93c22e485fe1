"""Whole cycles from scenario files, through the workflow's updates and the real store.

Each file's `expect` block was checked against the pure rules first (`thidua scenario check`),
so these tests judge the workflow, not the arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from app.runner import run_scenario
from domain.values import Actor
from eventstore import EventStore
from eventstore.outbox import Outbox

from .helpers import SCENARIOS, reference, scenario

pytestmark = pytest.mark.temporal

FILES = sorted(SCENARIOS.glob("*.json"))


def test_every_behaviour_has_a_scenario() -> None:
    names = {f.stem for f in FILES}
    assert {
        "ties",
        "quorum",
        "revote",
        "leaders_decide",
        "runoff",
        "runoff_failed",
        "excluded_deputy",
        "elect_both",
        "cancelled",
    } <= names


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
async def test_scenario_runs_as_expected(
    path: Path, env: WorkflowEnvironment, store: EventStore, outbox: Outbox, task_queue: str
) -> None:
    """Every step does what it says, the outcome matches `expect`, the stream verifies and
    rechecks, and the state folded from the store equals the workflow's."""
    sc = scenario(path)
    report = await run_scenario(
        sc, client=env.client, store=store, outbox=outbox, task_queue=task_queue
    )
    assert report.ok, report.diffs
    assert report.outcome["events"] == sc.expect["events"]  # type: ignore[index]
    if path.stem == "excluded_deputy":
        opened = [e for e in report.replay.events if e.type == "election_opened"]
        assert [e.mode for e in opened] == ["both"]  # type: ignore[attr-defined]
    if path.stem == "runoff_failed":
        assert [e.type for e in report.replay.events][-2:] == [
            "leaders_appointed",
            "cycle_completed",
        ]


async def test_reference_case(
    env: WorkflowEnvironment, store: EventStore, outbox: Outbox, task_queue: str
) -> None:
    sc = reference()
    # each step the act of a person (as `thidua demo --demo-users` runs it): events name them
    people = {
        m.id: Actor.of_person(
            role="unit",
            login=f"nv-{m.id}",
            name=f"Cán bộ {m.name}",
            unit=m.id,
            position="Chánh Văn phòng",
        )
        for m in sc.block.members
    }
    people["admin"] = Actor.of_person(role="admin", login="qt-admin", name="Quản trị")
    report = await run_scenario(
        sc, client=env.client, store=store, outbox=outbox, task_queue=task_queue, people=people
    )
    assert report.ok, report.diffs
    assert report.outcome["events"] == 52
    acts = [e.actor for e in report.replay.events if e.actor.kind in ("unit", "admin")]
    assert len(acts) > 40
    assert all(a == people[a.unit if a.kind == "unit" else "admin"] for a in acts), acts
