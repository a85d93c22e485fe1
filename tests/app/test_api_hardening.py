"""The HTTP API holds against its own callers: bodies are bounded before parsing, callers are
authenticated before a body is read, every bad request is a 4xx that names the field and
echoes nothing back, and an unknown cycle is 404 whatever the path looks like. Against the real
dev server and PostgreSQL (tests/conftest.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from temporalio.worker import Worker

from app.bootstrap import Services
from app.http import MAX_BODY_BYTES, create_app, static_tokens
from domain.values import Actor
from tests.workflows.helpers import eventually

pytestmark = pytest.mark.temporal

REFERENCE = Path(__file__).parents[2] / "app" / "scenarios" / "kg-khoi-2-2018.json"
TOKENS = {"t-admin": Actor.admin(), "t-khdt": Actor.of_unit("so-khdt"), "t-audit": Actor.auditor()}
CMDS = "/cycles/kg-khoi-2/2018/commands"


def auth(token: str = "t-khdt", **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


@pytest.fixture
async def api(services: Services, worker: Worker) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services, authenticate=static_tokens(TOKENS))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://thidua") as client:
        sc = json.loads(REFERENCE.read_text("utf-8"))
        start = {k: sc[k] for k in ("block", "year", "score_sheet")}
        r = await client.post("/cycles", json=start, headers=auth("t-admin"))
        assert r.status_code == 201, r.text
        yield client


async def test_a_body_over_the_limit_is_413_before_it_is_parsed(api: httpx.AsyncClient) -> None:
    big = b'{"do": "sign_pledge", "unit": "' + b"x" * MAX_BODY_BYTES + b'"}'
    r = await api.post(CMDS, content=big, headers=auth(**{"content-type": "application/json"}))
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"
    assert "256 KB" in r.json()["message"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(40):
            yield b" " * 8192

    r = await api.post(CMDS, content=chunks(), headers=auth(**{"content-type": "application/json"}))
    assert r.status_code == 413


async def test_an_unknown_caller_is_401_before_the_body_is_read(api: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eA=="}):
        r = await api.post(CMDS, content=b"{not json", headers=headers)
        assert r.status_code == 401, r.text
        assert r.headers["www-authenticate"] == "Bearer"
    assert (await api.get("/healthz")).status_code == 200


async def test_a_422_names_the_field_and_does_not_echo_the_input(api: httpx.AsyncClient) -> None:
    payload = "Z" * 100_000
    r = await api.post(CMDS, json={"do": "sign_pledge", "unit": [payload]}, headers=auth())
    assert r.status_code == 422
    assert r.json()["field"] == "unit"
    assert payload[:50] not in r.text and len(r.content) < 4000
    r = await api.post(
        CMDS, content=b"{not json", headers=auth(**{"content-type": "application/json"})
    )
    assert r.status_code == 422


@pytest.mark.parametrize("do", ["start_cycle", "expire_deadline", "no_such_command"])
async def test_only_steps_are_accepted_at_commands(api: httpx.AsyncClient, do: str) -> None:
    r = await api.post(CMDS, json={"do": do, "stage": "pledge"}, headers=auth("t-admin"))
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("key", [b"", b"x" * 129, b"has space", "ümlaut".encode(), b"a/b"])
async def test_a_bad_idempotency_key_is_422_naming_the_header(
    api: httpx.AsyncClient, key: bytes
) -> None:
    r = await api.post(
        CMDS,
        json={"do": "sign_pledge", "unit": "so-khdt"},
        headers={"Authorization": "Bearer t-khdt", "Idempotency-Key": key},
    )
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "Idempotency-Key"


@pytest.mark.parametrize(
    "path",
    [
        "/cycles/kg-khoi-9/2018/state",
        "/cycles/kg-khoi-9/2018/pending",
        "/cycles/kg-khoi-9/2018/audit",
        "/cycles/KG%20!!/2018/state",
        "/cycles/kg-khoi-2/99999999999999999999/state",
        "/cycles/kg-khoi-2/-1/pending",
        "/cycles/kg-khoi-2/%E2%91%A0/state",
        "/cycles/" + "a" * 300 + "/2018/audit",
    ],
)
async def test_an_unknown_cycle_is_404_whatever_the_path(api: httpx.AsyncClient, path: str) -> None:
    r = await api.get(path, headers=auth("t-audit"))
    assert r.status_code == 404, r.text
    assert r.json()["code"] == "unknown_cycle"


async def test_a_step_for_an_unknown_cycle_is_404(api: httpx.AsyncClient) -> None:
    r = await api.post(
        "/cycles/kg-khoi-9/2018/commands",
        json={"do": "sign_pledge", "unit": "so-khdt"},
        headers=auth(),
    )
    assert r.status_code == 404 and r.json()["code"] == "unknown_cycle"


@pytest.mark.parametrize(
    "query",
    ["to_version=99999999999999999999", "to_version=0", "to_version=abc", "as_of=yesterday"],
)
async def test_odd_audit_parameters_are_422(api: httpx.AsyncClient, query: str) -> None:
    r = await api.get(f"/cycles/kg-khoi-2/2018/audit?{query}", headers=auth("t-audit"))
    assert r.status_code == 422, r.text


async def test_the_list_of_cycles_comes_from_the_read_model(
    api: httpx.AsyncClient, services: Services
) -> None:
    async def listed() -> None:  # the workflow appends its start right after it starts
        await services.readmodels.catch_up()
        r = await api.get("/cycles?year=2018", headers=auth("t-audit"))
        assert r.status_code == 200
        assert [
            (c["block_id"], c["stage"]) for c in r.json() if c["stream"].endswith("kg-khoi-2-2018")
        ] == [("kg-khoi-2", "pledge")]

    await eventually(listed)
    for query in ("year=99999", "block=%00", "stage=nope", "block=KG%20!"):
        assert (await api.get(f"/cycles?{query}", headers=auth("t-audit"))).status_code == 422
