"""The rotation takes effect: a completed cycle's elected head and deputy become the block's
leaders for the next year, once, and the next year's cycle starts with them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.block import BlockActivities
from activities.cycle import CycleActivities
from app.blocks import BlockService
from app.client import CycleClient
from domain.block import leaders_set_id
from domain.codec import EventRecord
from domain.commands import CastElectionBallot, CloseElection
from domain.errors import DomainError
from domain.values import Actor
from eventstore import EventStore
from eventstore.outbox import Outbox
from tests.audit.test_cli import thidua
from tests.workflows.helpers import reference
from workflows.cycle import EmulationCycle
from workflows.messages import cycle_key
from workflows.year_messages import BlockLeadersInput

from .helpers import block_object, reference_file, run_reference_steps

pytestmark = pytest.mark.temporal


async def test_after_the_reference_2018_cycle_the_2019_cycle_starts_with_the_elected_leaders(
    year_worker: Worker, blocks: BlockService, cycles: CycleClient, store: EventStore
) -> None:
    sc = reference()
    await blocks.register(reference_file())  # a whole scenario file: its block is registered
    handle = await cycles.start(sc.start_command())
    await run_reference_steps(cycles, "kg-khoi-2", 2018)
    result = await asyncio.wait_for(handle.result(), 60)
    assert (result.outcome.next_head, result.outcome.next_deputy) == (  # type: ignore[union-attr]
        "so-khdt",
        "vp-doan-dbqh",
    )

    record = await blocks.show("kg-khoi-2")
    assert record["leaders"]["2019"] == {
        "head": "so-khdt",
        "deputy": "vp-doan-dbqh",
        "source": "election",
        "cycle": cycle_key("kg-khoi-2", 2018, cycles.prefix)[1],
        "reason": "",
    }

    await blocks.start_cycle("kg-khoi-2", 2019)
    state = await cycles.state("kg-khoi-2", 2019)
    assert state.block is not None
    assert (state.block.head, state.block.deputy) == ("so-khdt", "vp-doan-dbqh")
    assert state.block.name_of(state.block.head) == "Sở Kế hoạch và Đầu tư"
    assert state.block.name_of(state.block.deputy) == "Văn phòng Đoàn ĐBQH tỉnh"
    # ruleset and sheet default to the previous cycle's
    assert state.score_sheet == sc.score_sheet and state.ruleset == sc.ruleset

    with pytest.raises(DomainError) as info:
        await blocks.start_cycle("kg-khoi-2", 2020)
    assert (info.value.code, info.value.field) == ("previous_cycle_open", "year")
    with pytest.raises(DomainError) as again:
        await blocks.start_cycle("kg-khoi-2", 2019)
    assert again.value.code == "cycle_exists"


class LosesTheFirstAnswer:
    """A store whose first append of a LeadersSet commits and then fails, as a connection lost
    after the commit would: the activity is retried."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.failed = 0

    async def read_stream(self, stream: str) -> Any:
        return await self._store.read_stream(stream)

    async def append(self, stream: str, expected: int, records: Sequence[EventRecord]) -> Any:
        positions = await self._store.append(stream, expected, records)
        if not self.failed and any(r.type == "leaders_set" for r in records):
            self.failed += 1
            raise ConnectionResetError("the answer of the commit was lost")
        return positions


async def test_the_next_years_leaders_are_set_once_when_the_activity_is_retried(
    env: WorkflowEnvironment,
    task_queue: str,
    store: EventStore,
    outbox: Outbox,
    blocks: BlockService,
    cycles: CycleClient,
) -> None:
    sc = reference()
    await blocks.register(sc.block)
    flaky = LosesTheFirstAnswer(store)
    acts = CycleActivities(store, outbox)
    rotation = BlockActivities(flaky)  # type: ignore[arg-type]
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[EmulationCycle],
        activities=[
            acts.append,
            acts.write_reminders,
            acts.write_tasks,
            rotation.set_block_leaders,
        ],
    ):
        handle = await cycles.start(sc.start_command())
        await run_reference_steps(cycles, "kg-khoi-2", 2018)
        await asyncio.wait_for(handle.result(), 60)
    assert flaky.failed == 1
    rows = [
        r for r in await store.read_stream(blocks.stream("kg-khoi-2")) if r.type == "leaders_set"
    ]
    cycle_stream = cycle_key("kg-khoi-2", 2018, cycles.prefix)[1]
    assert [r.event_id for r in rows] == [leaders_set_id(cycle_stream)]
    assert rows[0].data["year"] == 2019

    # the same step once more (a second worker, a replay): nothing new
    again = BlockActivities(store)
    await again.set_block_leaders(
        BlockLeadersInput(
            block_stream=blocks.stream("kg-khoi-2"),
            cycle_stream=cycle_stream,
            year=2019,
            head="so-khdt",
            deputy="vp-doan-dbqh",
            at=rows[0].effective_at,
        )
    )
    assert len(await store.read_stream(blocks.stream("kg-khoi-2"))) == 2


async def test_a_deputy_that_leaves_after_2019_is_not_made_head_of_2020_by_deputy_succeeds(
    year_worker: Worker, blocks: BlockService, cycles: CycleClient
) -> None:
    sc = reference()
    await blocks.register(block_object("kg-roi"))
    await blocks.leave("kg-roi", "so-khdt", after_year=2019)  # the 2019 deputy
    await blocks.start_cycle("kg-roi", 2019, ruleset=sc.ruleset, score_sheet=sc.score_sheet)
    state = await cycles.state("kg-roi", 2019)
    assert state.block is not None and state.block.deputy == "so-khdt"
    assert state.leaving == ["so-khdt"]

    until = next(s.index for s in sc.steps if s.command.do == "open_election")
    for step in sc.steps[: until + 1]:
        try:
            await cycles.send(
                "kg-roi", 2019, step.command, step.actor, request_id=f"step-{step.index}"
            )
        except DomainError as err:
            assert err.code == step.expect_error, f"step {step.index}: {err}"
    state = await cycles.state("kg-roi", 2019)
    assert state.election is not None and state.election.mode == "both"
    assert state.election.head is None and "so-khdt" not in state.election.head_candidates
    with pytest.raises(DomainError) as info:
        await cycles.send(
            "kg-roi",
            2019,
            CastElectionBallot(head="so-khdt", deputy="vp-ubnd"),
            Actor.of_unit(state.election.voters[0]),
        )
    assert info.value.code == "not_a_candidate"
    for voter in state.election.voters:
        await cycles.send(
            "kg-roi",
            2019,
            CastElectionBallot(head="vp-ubnd", deputy="vp-doan-dbqh"),
            Actor.of_unit(voter),
        )
    chair = state.chair
    assert chair is not None
    await cycles.send("kg-roi", 2019, CloseElection(), Actor.of_unit(chair))
    result = await asyncio.wait_for(cycles.handle("kg-roi", 2019).result(), 60)
    assert result.stage == "completed"

    assert (await blocks.show("kg-roi"))["leaders"]["2020"]["head"] == "vp-ubnd"
    await blocks.start_cycle("kg-roi", 2020)
    next_year = await cycles.state("kg-roi", 2020)
    assert next_year.block is not None
    assert (next_year.block.head, next_year.block.deputy) == ("vp-ubnd", "vp-doan-dbqh")
    assert "so-khdt" not in next_year.block.member_ids


async def test_a_cycle_started_with_a_leaving_deputy_passes_audit_verify(
    year_worker: Worker,
    blocks: BlockService,
    cycles: CycleClient,
    store: EventStore,
    db_url: str,
    tmp_path: Path,
) -> None:
    # the 2018 election names the 2019 leaders; the 2019 deputy leaves after 2019
    sc = reference()
    await blocks.register(reference_file())
    handle = await cycles.start(sc.start_command())
    await run_reference_steps(cycles, "kg-khoi-2", 2018)
    await asyncio.wait_for(handle.result(), 60)
    await blocks.leave("kg-khoi-2", "vp-doan-dbqh", after_year=2019)
    await blocks.start_cycle("kg-khoi-2", 2019)
    state = await cycles.state("kg-khoi-2", 2019)
    assert state.block is not None and state.block.deputy == "vp-doan-dbqh"
    assert state.leaving == ["vp-doan-dbqh"]
    for step in sc.steps[:3]:  # a few acts after the start: pledges
        await cycles.send(
            "kg-khoi-2", 2019, step.command, step.actor, request_id=f"step-{step.index}"
        )
    stream = cycle_key("kg-khoi-2", 2019, cycles.prefix)[1]
    rows = await store.read_stream(stream)
    assert rows[0].data["leaving_after_year"] == ["vp-doan-dbqh"] and len(rows) == 4

    done = thidua(db_url, tmp_path, "audit", "verify", "--stream", stream)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "finding" not in done.stderr and "every decision follows from the rules" in done.stdout
