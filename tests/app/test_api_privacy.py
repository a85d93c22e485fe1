"""Ballots stay private while a round is open: through the HTTP API a unit sees who has voted,
not how; once the round closes everyone sees the tally; auditors see every ballot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.worker import Worker

from app.bootstrap import Services
from app.client import CycleClient
from app.http import create_app, static_tokens
from domain.values import Actor
from tests.workflows.helpers import reference, send_steps

pytestmark = pytest.mark.temporal

TOKENS = {"t-khdt": Actor.of_unit("so-khdt"), "t-audit": Actor.auditor()}


@pytest.fixture
async def api(services: Services, worker: Worker) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services, authenticate=static_tokens(TOKENS))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://thidua"
    ) as client:
        yield client


async def test_an_open_rounds_ballots_show_who_voted_not_how(
    api: httpx.AsyncClient, cycles: CycleClient
) -> None:
    sc = reference()
    await cycles.start(sc.start_command(), request_id="start")
    first_ballot = next(i for i, s in enumerate(sc.steps) if s.command.do == "cast_ballot")
    await send_steps(cycles, sc, sc.steps[: first_ballot + 2])  # two ballots cast

    def get(token: str) -> object:
        return api.get("/cycles/kg-khoi-2/2018/state", headers={"Authorization": f"Bearer {token}"})

    public = (await get("t-khdt")).json()  # type: ignore[attr-defined]
    round_ = public["rounds"][-1]
    assert sorted(round_["voted"]) == ["so-khdt", "so-ngoai-vu"]
    assert "ballots" not in round_ and not round_["tally"]
    assert "requests" not in public
    # auditors too see who voted, not how, until the round closes (DOMAIN.md)
    full = (await get("t-audit")).json()  # type: ignore[attr-defined]
    assert full["rounds"][-1]["ballots"] == {}
    assert sorted(full["rounds"][-1]["voted"]) == ["so-khdt", "so-ngoai-vu"]

    close = next(i for i, s in enumerate(sc.steps) if s.command.do == "close_vote_round")
    await send_steps(cycles, sc, sc.steps[first_ballot + 2 : close + 1])
    full = (await get("t-audit")).json()  # type: ignore[attr-defined]
    assert full["rounds"][-1]["ballots"]["so-khdt"] == ["vp-ubnd", "so-khdt", "so-ngoai-vu"]
    closed = (await get("t-khdt")).json()["rounds"][-1]  # type: ignore[attr-defined]
    assert [(t["unit"], t["approvals"]) for t in closed["tally"]] == [
        ("vp-ubnd", 7),
        ("so-khdt", 7),
        ("so-ngoai-vu", 6),
    ]
