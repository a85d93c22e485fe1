"""Issue 7 through the HTTP API, on the real stack: strict numbers and bounded input are 422
naming the field (and write nothing), a reused Idempotency-Key never answers for another
command or caller, and fifty concurrent commands on one cycle get no 5xx."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.worker import Worker

from app.bootstrap import Services
from app.client import CycleClient
from app.http import create_app, static_tokens
from domain.values import Actor
from eventstore import EventStore
from tests.app.test_api import start_body
from tests.workflows.helpers import discipline_load, reference, send_steps, stream_of

pytestmark = pytest.mark.temporal

TOKENS = {
    "t-admin": Actor.admin(),
    "t-head": Actor.of_unit("so-ngoai-vu"),
    "t-khdt": Actor.of_unit("so-khdt"),
    "t-vpubnd": Actor.of_unit("vp-ubnd"),
}
CMDS = "/cycles/kg-khoi-2/2018/commands"
DISCIPLINE = 26  # the reference case's steps before its first finding


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


@pytest.fixture
async def api(
    services: Services, worker: Worker, cycles: CycleClient
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services, authenticate=static_tokens(TOKENS))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://thidua"
    ) as client:
        sc = reference()
        await cycles.start(sc.start_command(), request_id="start")
        await send_steps(cycles, sc, sc.steps[:8])  # everyone signed: the scoring stage
        yield client


def score(sections: object) -> dict[str, object]:
    return {"do": "submit_self_score", "unit": "so-khdt", "sections": sections}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (score({"c1": " 500", "c2": "100", "c3": "100"}), "sections.c1"),
        (score({"c1": "5_00", "c2": "100", "c3": "100"}), "sections.c1"),
        (score({"c1": "+500", "c2": "100", "c3": "100"}), "sections.c1"),
        (score({"c1": "-5", "c2": "100", "c3": "100"}), "sections.c1"),
        (score({"c1": "5e2", "c2": "100", "c3": "100"}), "sections.c1"),
        (score({"c1": "٥٠٠", "c2": "100", "c3": "100"}), "sections.c1"),
        (score({"c1": 500.5, "c2": "100", "c3": "100"}), "sections.c1"),
        (score({"c1": "NaN", "c2": "100", "c3": "100"}), "sections.c1"),
        (score({"c1": "Infinity", "c2": "100", "c3": "100"}), "sections.c1"),
        ({"do": "sign_pledge", "unit": "So KHDT!"}, "unit"),
        ({"do": "sign_pledge", "unit": "x" * 65}, "unit"),
        ({"do": "cancel_cycle", "reason": "x" * 2001}, "reason"),
        ({"do": "cast_ballot", "approve": [f"u{i}" for i in range(101)]}, "approve"),
    ],
)
async def test_strict_numbers_and_bounded_input_are_422_naming_the_field_and_write_nothing(
    api: httpx.AsyncClient,
    store: EventStore,
    cycles: CycleClient,
    body: dict[str, object],
    field: str,
) -> None:
    stream = stream_of(cycles, reference())
    before = await store.head(stream)
    r = await api.post(CMDS, json=body, headers=auth("t-khdt"))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.json()
    assert len(r.content) < 4000  # no echo of a large input
    assert await store.head(stream) == before


async def test_more_than_two_decimals_is_the_rule_shown_next_to_the_field(
    api: httpx.AsyncClient,
) -> None:
    r = await api.post(
        CMDS, json=score({"c1": "500.125", "c2": "100", "c3": "100"}), headers=auth("t-khdt")
    )
    assert r.status_code == 409
    assert (r.json()["code"], r.json()["field"]) == ("too_many_decimals", "sections.c1")


async def test_a_reused_key_never_answers_for_another_command_or_caller(
    api: httpx.AsyncClient,
    store: EventStore,
    cycles: CycleClient,
) -> None:
    stream = stream_of(cycles, reference())
    first_body = score({"c1": "500", "c2": "100", "c3": "100"})
    first = await api.post(
        CMDS, json=first_body, headers=auth("t-khdt", **{"Idempotency-Key": "k-1"})
    )
    assert first.status_code == 200, first.text
    head = await store.head(stream)

    again = await api.post(
        CMDS, json=first_body, headers=auth("t-khdt", **{"Idempotency-Key": "k-1"})
    )
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["events"] == first.json()["events"]

    other_command = score({"c1": "501", "c2": "100", "c3": "100"})
    r = await api.post(
        CMDS, json=other_command, headers=auth("t-khdt", **{"Idempotency-Key": "k-1"})
    )
    assert (r.status_code, r.json()["code"]) == (409, "idempotency_key_reused")
    other_caller = {
        "do": "submit_self_score",
        "unit": "vp-ubnd",
        "sections": {"c1": "500", "c2": "100", "c3": "100"},
    }
    r = await api.post(
        CMDS, json=other_caller, headers=auth("t-vpubnd", **{"Idempotency-Key": "k-1"})
    )
    assert (r.status_code, r.json()["code"]) == (409, "idempotency_key_reused")
    assert await store.head(stream) == head


async def test_fifty_concurrent_commands_on_one_cycle_get_no_5xx(
    api: httpx.AsyncClient,
    store: EventStore,
    cycles: CycleClient,
) -> None:
    sc = reference()
    await send_steps(cycles, sc, sc.steps[8:DISCIPLINE])
    state = await cycles.state(sc.block.id, sc.year)
    token = {"admin": "t-admin", sc.block.head: "t-head"}
    load = discipline_load(sc, state, 0)
    before = await store.head(stream_of(cycles, sc))

    async def one(i: int) -> httpx.Response:
        cmd, who = load[i]
        return await api.post(
            CMDS,
            json=cmd.model_dump(mode="json"),
            headers=auth(token[who.unit or who.kind], **{"Idempotency-Key": f"busy-{i}"}),
        )

    answers = await asyncio.gather(*(one(i) for i in range(len(load))))
    statuses = sorted(r.status_code for r in answers)
    assert all(s < 500 for s in statuses), statuses
    assert set(statuses) <= {200, 429}, statuses
    accepted = sum(len(r.json()["events"]) for r in answers if r.status_code == 200)
    assert await store.head(stream_of(cycles, sc)) == before + accepted
    for r in answers:
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) >= 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b["score_sheet"].update(max_total="abc"), "score_sheet.max_total"),
        (lambda b: b["score_sheet"]["sections"][1].update(max="-1"), "score_sheet.sections.1.max"),
        (lambda b: b.update(leaving_after_year=["Không Hợp Lệ!"]), "leaving_after_year.0"),
        (lambda b: b["block"]["members"][0].update(id="Không Hợp Lệ!"), "block.members.0.id"),
    ],
)
async def test_a_bad_start_is_422_naming_the_whole_field_path_and_starts_nothing(
    api: httpx.AsyncClient,
    store: EventStore,
    cycles: CycleClient,
    change,
    field: str,  # type: ignore[no-untyped-def]
) -> None:
    body = start_body()
    body["block"] = dict(body["block"], id="kg-khoi-9")  # type: ignore[call-overload]
    change(body)
    r = await api.post("/cycles", json=body, headers=auth("t-admin"))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.json()
    assert await store.head(cycles.prefix + "cycle-kg-khoi-9-2018") == 0
