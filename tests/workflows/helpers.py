"""Driving scenario steps through the client and checking what the store holds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from app.client import CycleClient
from domain.commands import Command, CorrectScore, RecordFinding, WithdrawFinding
from domain.errors import DomainError
from domain.scenario import Scenario, Step, compare_outcome, load_scenario, outcome_json
from domain.state import CycleState
from domain.values import Actor
from eventstore import EventStore, Replay
from workflows.messages import cycle_key

SCENARIOS = Path(__file__).parent / "scenarios"
HISTORIES = Path(__file__).parent / "histories"
REFERENCE = Path(__file__).parents[2] / "app" / "scenarios" / "kg-khoi-2-2018.json"

T = TypeVar("T")


def scenario(path: Path | str) -> Scenario:
    p = Path(path)
    if not p.is_absolute() and not p.exists():
        p = SCENARIOS / p
    return load_scenario(p.read_bytes())


def reference() -> Scenario:
    return load_scenario(REFERENCE.read_bytes())


def stream_of(cycles: CycleClient, sc: Scenario) -> str:
    return cycle_key(sc.block.id, sc.year, cycles.prefix)[1]


async def send_steps(cycles: CycleClient, sc: Scenario, steps: Iterable[Step]) -> None:
    """Send steps with their own request ids; each must do what the scenario says."""
    for step in steps:
        try:
            await cycles.send(
                sc.block.id, sc.year, step.command, step.actor, request_id=f"step-{step.index}"
            )
        except DomainError as err:
            assert err.code == step.expect_error, f"step {step.index}: {err.code}: {err.message}"
        else:
            assert step.expect_error is None, f"step {step.index} was accepted"


async def check_store(store: EventStore, stream: str, sc: Scenario, *, events: int) -> Replay:
    """The stream verifies, holds `events` events once each at contiguous versions, and its
    outcome matches the scenario's expect block."""
    replay = await store.replay(stream)
    assert replay.report.ok, str(replay.report)
    assert len(replay.events) == events
    assert [e.event_id for e in replay.events] == list(
        dict.fromkeys(e.event_id for e in replay.events)
    ), "an event id appears twice"
    assert [s.version for s in await store.read_stream(stream)] == list(range(1, events + 1))
    outcome = outcome_json(replay.state, [], events=len(replay.events), last_hash=None)
    assert compare_outcome(outcome, sc.expect) == []
    return replay


async def eventually(
    check: Callable[[], Awaitable[T]], *, timeout: float = 60.0, interval: float = 0.1
) -> T:
    """Await `check` until it stops raising AssertionError (or time runs out)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(interval)


def history_files() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


FINDING_KINDS = (
    "leader_disciplined",
    "court_conclusion",
    "party_org_not_clean",
    "security_order_weak",
    "legal_violation",
    "other",
)


def discipline_load(sc: Scenario, state: CycleState, round_: int) -> list[tuple[Command, Actor]]:
    """50 commands valid in any order in the discipline stage of `sc`: every (unit, kind)
    finding recorded (even rounds) or withdrawn (odd rounds) by the admin, and two score
    corrections by the chair."""
    admin, chair = Actor.admin(), Actor.of_unit(sc.block.head)
    members = [m.id for m in sc.block.members]
    out: list[tuple[Command, Actor]] = []
    for unit in members:
        for kind in FINDING_KINDS:
            if round_ % 2 == 0:
                out.append((RecordFinding(unit=unit, kind=kind, reference=f"qd-{round_}"), admin))
            else:
                out.append((WithdrawFinding(unit=unit, kind=kind), admin))
    for unit in (members[(2 * round_) % len(members)], members[(2 * round_ + 1) % len(members)]):
        sections = state.adopted[unit].sections
        out.append((CorrectScore(unit=unit, sections=sections, note=f"round {round_}"), chair))
    return out


async def settled(handle: WorkflowHandle[Any, Any]) -> None:
    """Wait until a workflow has nothing in progress (no activity and no workflow task pending,
    its last history event written by a completed workflow task), so its history length is
    stable."""

    async def quiet() -> None:
        desc = await handle.describe()
        assert not desc.raw_description.pending_activities
        assert not desc.raw_description.HasField("pending_workflow_task")
        last = (await handle.fetch_history()).events[-1]
        assert last.event_type in (
            EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,  # an update answered
            EventType.EVENT_TYPE_MARKER_RECORDED,  # in the task that ran its local append
        )

    await eventually(quiet)
