"""Issue 16: a command sent to a cycle whose workflow has ended is judged as DOMAIN.md says, who
may act before the stage: on a completed and on a cancelled cycle, a caller who may never give
the command hears `not_authorized` (403), the others `wrong_stage` (409); nothing is written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from temporalio.worker import Worker

from app.bootstrap import Services
from app.client import CycleClient
from app.http import create_app, static_tokens
from domain.commands import COMMAND_NAMES, CommandAdapter
from domain.errors import DomainError
from domain.state import CycleState
from domain.values import Actor
from eventstore import EventStore
from tests.domain.helpers import start_command
from tests.workflows.helpers import reference, send_steps, stream_of
from workflows.messages import cycle_key

pytestmark = pytest.mark.temporal

STRANGER = "zz-khong-thuoc-khoi"


def samples(s: CycleState) -> dict[str, tuple[dict[str, Any], set[str]]]:
    """Every command of a cycle with who may give it in this cycle (DOMAIN.md)."""
    assert s.block is not None and s.score_sheet is not None and s.leaders is not None
    m, head, chair = list(s.members), s.block.head, s.chair
    assert chair is not None
    u = next(x for x in m if x not in (s.block.head, s.block.deputy))  # an ordinary member
    other = next(x for x in m if x not in (s.block.head, s.block.deputy, u))
    secs = {sec.id: "1" for sec in s.score_sheet.sections}
    return {
        "sign_pledge": ({"unit": u}, {u}),
        "close_pledge": ({}, {chair}),
        "submit_self_score": ({"unit": u, "sections": secs}, {u}),
        "verify_score": ({"unit": u, "sections": secs}, {head}),
        "close_scoring": ({}, {chair}),
        "hold_review": ({"held_on": "2019-03-08", "present": m}, {head}),
        "correct_score": ({"unit": u, "sections": secs, "note": "x"}, {chair}),
        "record_finding": ({"unit": u, "kind": "other", "reference": "x"}, {chair, "admin"}),
        "withdraw_finding": ({"unit": u, "kind": "other"}, {chair, "admin"}),
        "close_discipline_check": ({}, {chair}),
        "break_tie": ({"order": [u, other]}, {chair}),
        "open_vote_round": ({}, {chair}),
        "cast_ballot": ({"approve": []}, set(m)),
        "close_vote_round": ({}, {chair}),
        "leaders_decide": ({"places": [{"place": 2, "unit": u}]}, set(s.leaders)),
        "open_election": ({}, {chair}),
        "cast_election_ballot": ({"deputy": u}, set(m)),
        "close_election": ({}, {chair}),
        "appoint_leaders": ({"head": other, "deputy": u}, {"admin"}),
        "extend_deadline": ({"stage": "vote", "until": "2030-01-01T00:00:00Z"}, {"admin"}),
        "cancel_cycle": ({"reason": "x"}, {"admin"}),
        "expire_deadline": ({"stage": "vote"}, {"system"}),
    }


def actors(s: CycleState) -> dict[str, Actor]:
    out = {
        "admin": Actor.admin(),
        "auditor": Actor.auditor(),
        "system": Actor.system(),
        STRANGER: Actor.of_unit(STRANGER),
    }
    return out | {u: Actor.of_unit(u) for u in s.members}


async def judge_closed(cycles: CycleClient, store: EventStore, block: str, year: int) -> None:
    state = await cycles.state(block, year)
    assert state.is_closed, state.stage
    stream = cycle_key(block, year, cycles.prefix)[1]
    head = await store.head(stream)
    table = samples(state)
    assert sorted([*table, "start_cycle"]) == sorted(COMMAND_NAMES)
    wrong = []
    for do, (fields, allowed) in table.items():
        command = CommandAdapter.validate_python({"do": do, **fields})
        for who, actor in actors(state).items():
            try:
                await cycles.send(block, year, command, actor)
            except DomainError as err:
                code = err.code
            else:
                code = "accepted"
            expected = "wrong_stage" if who in allowed else "not_authorized"
            if code != expected:
                wrong.append((do, who, code))
    assert not wrong, wrong
    assert await store.head(stream) == head


async def test_a_completed_cycle_judges_who_before_the_stage(
    services: Services, worker: Worker, cycles: CycleClient, store: EventStore
) -> None:
    sc = reference()
    await cycles.start(sc.start_command(), request_id="start")
    await send_steps(cycles, sc, sc.steps)
    await cycles.handle(sc.block.id, sc.year).result()
    await judge_closed(cycles, store, sc.block.id, sc.year)

    # through the JSON API: 403 for who may never, 409 for who may but too late
    state = await cycles.state(sc.block.id, sc.year)
    assert state.chair is not None
    ordinary = next(u for u in state.members if u not in state.leaders)  # type: ignore[operator]
    tokens = {
        "t-admin": Actor.admin(),
        "t-audit": Actor.auditor(),
        "t-chair": Actor.of_unit(state.chair),
        "t-unit": Actor.of_unit(ordinary),
    }
    app = create_app(services, authenticate=static_tokens(tokens))
    url = f"/cycles/{sc.block.id}/{sc.year}/commands"
    before = await store.head(stream_of(cycles, sc))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://thidua"
    ) as api:
        for token, body, status, code in (
            ("t-unit", {"do": "close_election"}, 403, "not_authorized"),
            ("t-audit", {"do": "close_election"}, 403, "not_authorized"),
            ("t-admin", {"do": "sign_pledge", "unit": ordinary}, 403, "not_authorized"),
            ("t-chair", {"do": "close_election"}, 409, "wrong_stage"),
            ("t-admin", {"do": "cancel_cycle", "reason": "x"}, 409, "wrong_stage"),
        ):
            r = await api.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
            assert (r.status_code, r.json()["code"]) == (status, code), (token, body, r.text)
    assert await store.head(stream_of(cycles, sc)) == before


async def test_a_cancelled_cycle_judges_who_before_the_stage(
    worker: Worker, cycles: CycleClient, store: EventStore
) -> None:
    start = start_command()
    await cycles.start(start, request_id="start")  # type: ignore[arg-type]
    block, year = start.block.id, start.year  # type: ignore[union-attr]
    for u in ("u1", "u2", "u3"):
        await cycles.send(
            block,
            year,
            CommandAdapter.validate_python({"do": "sign_pledge", "unit": u}),
            Actor.of_unit(u),
        )
    await cycles.send(
        block,
        year,
        CommandAdapter.validate_python({"do": "cancel_cycle", "reason": "khối giải thể"}),
        Actor.admin(),
    )
    await cycles.handle(block, year).result()
    await judge_closed(cycles, store, block, year)
