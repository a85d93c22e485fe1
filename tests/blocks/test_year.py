"""A province opens its year: every block's cycle starts as a child of the year's workflow;
when all have completed or been cancelled, the province's list of proposals is compiled."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from temporalio.worker import Worker

from app.blocks import BlockService
from app.client import CycleClient
from app.documents.proposals import render_document
from domain.commands import CancelCycle
from domain.errors import DomainError
from domain.values import Actor
from eventstore import EventStore
from tests.workflows.helpers import reference
from workflows.messages import cycle_key

from .helpers import block_object, run_reference_steps

pytestmark = pytest.mark.temporal


async def wait_opened(blocks: BlockService, province: str, year: int) -> None:
    for _ in range(600):
        try:
            if (await blocks.year_progress(province, year)).opened:
                return
        except Exception:  # the workflow's first task has not run yet
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("the year was not opened")


async def test_three_blocks_two_complete_one_cancelled_the_list_holds_the_two_blocks_nominations(
    year_worker: Worker, blocks: BlockService, cycles: CycleClient, store: EventStore
) -> None:
    sc = reference()
    province = f"Tỉnh Thử {uuid.uuid4().hex[:6]}"
    ids = ["khoi-a", "khoi-b", "khoi-c"]
    for block_id in ids:
        await blocks.register(block_object(block_id, province))
    assert await blocks.blocks_of(province) == ids

    handle, new = await blocks.open_year(
        province,
        2018,
        ruleset=sc.ruleset,
        score_sheet=sc.score_sheet,
        deadlines=sc.deadlines,
    )
    assert new
    await wait_opened(blocks, province, 2018)
    # opening again while it is open starts nothing new
    _, again = await blocks.open_year(
        province,
        2018,
        ruleset=sc.ruleset,
        score_sheet=sc.score_sheet,
        deadlines=sc.deadlines,
    )
    assert not again
    progress = await blocks.year_progress(province, 2018)
    assert progress.cycles == dict.fromkeys(ids, "started")

    await run_reference_steps(cycles, "khoi-a", 2018)
    await run_reference_steps(cycles, "khoi-b", 2018)
    await cycles.send("khoi-c", 2018, CancelCycle(reason="khối giải thể"), Actor.admin())
    result = await asyncio.wait_for(handle.result(), 60)

    assert result.started == ids and result.existing == []
    nominations = [
        (n.place, n.unit, n.title, n.approvals, n.voters)
        for n in (await cycles.state("khoi-a", 2018)).outcome.nominations
    ]  # type: ignore[union-attr]
    assert len(nominations) == 3
    by_block = {b.block_id: b for b in result.proposals.blocks}
    for block_id in ("khoi-a", "khoi-b"):
        got = [
            (p.place, p.unit, p.title, p.approvals, p.voters) for p in by_block[block_id].proposals
        ]
        assert got == nominations
    assert by_block["khoi-a"].proposals[0].total == Decimal("983.5")
    assert by_block["khoi-c"].status == "cancelled" and by_block["khoi-c"].proposals == ()
    assert [p.unit for p in result.proposals.proposed] == [u for _, u, *_ in nominations] * 2

    # recorded once in the province's stream, and readable as the council's document
    assert await blocks.proposals(province, 2018) == result.proposals
    document = await blocks.proposals_document(province, 2018)
    assert document is not None and document == render_document(result.proposals)
    assert "Cờ thi đua của UBND tỉnh" in document and "983,5" in document
    assert "khối giải thể" in document

    # opening the closed year again starts nothing: every cycle already exists
    handle2, new2 = await blocks.open_year(
        province,
        2018,
        ruleset=sc.ruleset,
        score_sheet=sc.score_sheet,
        deadlines=sc.deadlines,
    )
    assert new2
    result2 = await asyncio.wait_for(handle2.result(), 60)
    assert result2.started == [] and result2.existing == ids
    assert result2.proposals == result.proposals
    for block_id in ids:
        rows = await store.read_stream(cycle_key(block_id, 2018, cycles.prefix)[1])
        assert [r.type for r in rows].count("cycle_started") == 1


async def test_a_block_whose_cycle_cannot_start_is_named_with_its_rule_and_the_others_start(
    year_worker: Worker, blocks: BlockService, cycles: CycleClient
) -> None:
    sc = reference()
    province = f"Tỉnh Thử {uuid.uuid4().hex[:6]}"
    await blocks.register(block_object("khoi-x", province))
    await blocks.register(block_object("khoi-y", province))
    await blocks.leave("khoi-y", "so-ngoai-vu", after_year=2017)  # its head left
    handle, _ = await blocks.open_year(
        province,
        2018,
        ruleset=sc.ruleset,
        score_sheet=sc.score_sheet,
        deadlines=sc.deadlines,
    )
    await wait_opened(blocks, province, 2018)
    progress = await blocks.year_progress(province, 2018)
    assert progress.cycles == {"khoi-x": "started", "khoi-y": "skipped"}
    assert progress.errors["khoi-y"]["code"] == "leader_not_member"
    await cycles.send("khoi-x", 2018, CancelCycle(reason="thử"), Actor.admin())
    result = await asyncio.wait_for(handle.result(), 60)
    assert result.skipped["khoi-y"]["field"] == "head"
    assert result.proposals.proposed == []


async def test_a_block_whose_previous_cycle_is_still_open_is_refused_as_for_a_single_block(
    year_worker: Worker, blocks: BlockService, cycles: CycleClient
) -> None:
    sc = reference()
    province = f"Tỉnh Thử {uuid.uuid4().hex[:6]}"
    await blocks.register(block_object("khoi-cu", province))
    await blocks.register(block_object("khoi-moi", province))
    await blocks.start_cycle("khoi-cu", 2018, ruleset=sc.ruleset, score_sheet=sc.score_sheet)
    # khoi-cu's 2018 cycle still runs (its election names the leaders of 2019)
    with pytest.raises(DomainError) as single:
        await blocks.start_command("khoi-cu", 2019)
    assert (single.value.code, single.value.field) == ("previous_cycle_open", "year")

    handle, _ = await blocks.open_year(
        province, 2019, ruleset=sc.ruleset, score_sheet=sc.score_sheet
    )
    await wait_opened(blocks, province, 2019)
    progress = await blocks.year_progress(province, 2019)
    assert progress.cycles == {"khoi-cu": "skipped", "khoi-moi": "started"}
    refused = progress.errors["khoi-cu"]
    assert (refused["code"], refused["field"]) == ("previous_cycle_open", "year")
    await cycles.send("khoi-moi", 2019, CancelCycle(reason="thử"), Actor.admin())
    await cycles.send("khoi-cu", 2018, CancelCycle(reason="thử"), Actor.admin())
    result = await asyncio.wait_for(handle.result(), 60)
    assert result.started == ["khoi-moi"]
    assert result.skipped["khoi-cu"]["code"] == "previous_cycle_open"
