"""Operators find cycles by block, year, stage and province: typed search attributes, upserted at
start and on every stage change (registered on the test server by tests/conftest.py)."""

from __future__ import annotations

import pytest
from temporalio.worker import Worker

from app.client import CycleClient
from eventstore import EventStore
from workflows.search import (
    SA_BLOCK,
    SA_PROVINCE,
    SA_STAGE,
    SA_YEAR,
    SEARCH_ATTRIBUTE_KEYS,
    SEARCH_ATTRIBUTES,
)

from .helpers import eventually, reference, send_steps

pytestmark = pytest.mark.temporal


def test_the_list_names_four_typed_attributes() -> None:
    assert SEARCH_ATTRIBUTES == (
        ("ThiduaBlock", "Keyword"),
        ("ThiduaYear", "Int"),
        ("ThiduaStage", "Keyword"),
        ("ThiduaProvince", "Keyword"),
    )
    assert [(k.name, k.indexed_value_type.name) for k in SEARCH_ATTRIBUTE_KEYS] == [
        ("ThiduaBlock", "KEYWORD"),
        ("ThiduaYear", "INT"),
        ("ThiduaStage", "KEYWORD"),
        ("ThiduaProvince", "KEYWORD"),
    ]


async def test_a_cycle_is_found_by_block_year_and_stage(
    cycles: CycleClient, store: EventStore, worker: Worker
) -> None:
    sc = reference()
    handle = await cycles.start(sc.start_command())
    assert cycles.search_attributes is True  # the client found them registered

    async def stage_is(stage: str) -> None:
        sa = (await handle.describe()).typed_search_attributes
        assert sa.get(SA_STAGE) == stage
        assert (sa.get(SA_BLOCK), sa.get(SA_YEAR)) == (sc.block.id, sc.year)
        if sc.block.province:
            assert sa.get(SA_PROVINCE) == sc.block.province

    await eventually(lambda: stage_is("pledge"))
    await send_steps(cycles, sc, sc.steps[:8])  # every unit signs: scoring opens
    await eventually(lambda: stage_is("scoring"))

    async def listed() -> None:
        query = (
            f'WorkflowId = "{handle.id}" AND ThiduaBlock = "{sc.block.id}" '
            f'AND ThiduaYear = {sc.year} AND ThiduaStage = "scoring"'
        )
        found = [w.id async for w in cycles.client.list_workflows(query)]
        assert found == [handle.id]

    await eventually(listed)
    await handle.terminate("test over")


async def test_without_registered_attributes_nothing_is_upserted(
    cycles: CycleClient, store: EventStore, worker: Worker
) -> None:
    plain = CycleClient(
        cycles.client, cycles.task_queue, prefix=cycles.prefix, search_attributes=False
    )
    sc = reference()
    handle = await plain.start(sc.start_command())
    await send_steps(plain, sc, sc.steps[:8])
    assert (await plain.state(sc.block.id, sc.year)).stage == "scoring"
    sa = (await handle.describe()).typed_search_attributes
    assert sa.get(SA_STAGE) is None and sa.get(SA_BLOCK) is None
    await handle.terminate("test over")
