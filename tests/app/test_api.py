"""The HTTP API end to end: httpx against the ASGI app, on the real Temporal dev server and
PostgreSQL of tests/conftest.py."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from temporalio.worker import Worker

from app.bootstrap import Services
from app.client import CycleClient
from app.http import create_app, static_tokens
from domain.setup import resolve_ruleset
from domain.values import Actor
from eventstore import EventStore

pytestmark = pytest.mark.temporal

REFERENCE = Path(__file__).parents[2] / "app" / "scenarios" / "kg-khoi-2-2018.json"
TOKENS = {
    "t-admin": Actor.admin(),
    "t-head": Actor.of_unit("so-ngoai-vu"),
    "t-khdt": Actor.of_unit("so-khdt"),
    "t-audit": Actor.auditor(),
}


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


@pytest.fixture
async def api(services: Services, worker: Worker) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services, authenticate=static_tokens(TOKENS))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://thidua") as client:
        yield client


def start_body() -> dict[str, object]:
    sc = json.loads(REFERENCE.read_text("utf-8"))
    return {
        "block": sc["block"],
        "year": sc["year"],
        "score_sheet": sc["score_sheet"],
        "ruleset": resolve_ruleset(sc["ruleset"]).model_dump(mode="json"),
    }


async def test_an_approver_step_goes_through_the_api_and_lands_once(
    api: httpx.AsyncClient, store: EventStore, cycles: CycleClient
) -> None:
    r = await api.post("/cycles", json=start_body(), headers=auth("t-admin"))
    assert r.status_code == 201, r.text
    assert (await api.post("/cycles", json=start_body(), headers=auth("t-admin"))).json()[
        "code"
    ] == "cycle_exists"

    step = {"do": "sign_pledge", "unit": "so-khdt"}
    first = await api.post(
        "/cycles/kg-khoi-2/2018/commands",
        json=step,
        headers=auth("t-khdt", **{"Idempotency-Key": "k-1"}),
    )
    assert first.status_code == 200, first.text
    again = await api.post(
        "/cycles/kg-khoi-2/2018/commands",
        json=step,
        headers=auth("t-khdt", **{"Idempotency-Key": "k-1"}),
    )
    assert again.status_code == 200
    assert again.json()["events"] == first.json()["events"]

    audit = (await api.get("/cycles/kg-khoi-2/2018/audit", headers=auth("t-audit"))).json()
    assert audit["events"] == 2  # cycle_started, pledge_signed: once
    assert audit["problems"] == [] and audit["findings"] == []
    assert "so-khdt" not in audit["pending"]
    # a unit's replay would show every ballot: the audit replay is the auditors' and admin's
    denied = await api.get("/cycles/kg-khoi-2/2018/audit", headers=auth("t-khdt"))
    assert denied.status_code == 403 and denied.json()["code"] == "not_authorized"
    assert (
        await api.get("/cycles/kg-khoi-2/2018/audit", headers=auth("t-admin"))
    ).status_code == 200


@pytest.mark.parametrize(
    ("token", "body", "status", "code"),
    [
        ("t-head", {"do": "sign_pledge", "unit": "so-khdt"}, 403, "not_authorized"),
        (
            "t-head",
            {"do": "submit_self_score", "unit": "so-ngoai-vu", "sections": {"c1": "1"}},
            409,
            "wrong_stage",
        ),
        ("t-audit", {"do": "close_pledge"}, 403, "not_authorized"),
    ],
)
async def test_rule_rejections_map_to_statuses_with_the_rule_code(
    api: httpx.AsyncClient, token: str, body: dict[str, object], status: int, code: str
) -> None:
    assert (
        await api.post("/cycles", json=start_body(), headers=auth("t-admin"))
    ).status_code == 201
    r = await api.post("/cycles/kg-khoi-2/2018/commands", json=body, headers=auth(token))
    assert r.status_code == status, r.text
    assert r.json()["code"] == code


async def test_bad_input_and_bad_callers_are_refused_before_anything_is_sent(
    api: httpx.AsyncClient,
) -> None:
    r = await api.post(
        "/cycles/kg-khoi-2/2018/commands", json={"do": "sign_pledge"}, headers=auth("t-khdt")
    )
    assert r.status_code == 422
    assert r.json()["field"] == "unit"
    r = await api.post(
        "/cycles/kg-khoi-2/2018/commands",
        json={"do": "sign_pledge", "unit": "so-khdt"},
        headers={"Authorization": "Bearer wrong"},
    )
    assert r.status_code == 401
    r = await api.get("/cycles/kg-khoi-9/2018/audit", headers=auth("t-audit"))
    assert r.status_code == 404 and r.json()["code"] == "unknown_cycle"
