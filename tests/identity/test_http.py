"""Who is acting, through the HTTP API: people's tokens and sessions on the real Temporal dev
server and PostgreSQL of tests/conftest.py (httpx against the ASGI app)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import structlog
from argon2 import PasswordHasher
from pydantic import TypeAdapter
from temporalio.worker import Worker

from app.bootstrap import Services
from app.client import CycleClient
from app.http import create_app
from app.identity import Identity
from domain.commands import Command
from domain.decide import validate
from domain.errors import DomainError
from domain.scenario import load_scenario
from domain.setup import resolve_ruleset
from domain.values import Actor
from eventstore import EventStore
from tests.identity.conftest import ADMIN, table_text
from workflows.messages import cycle_key

pytestmark = pytest.mark.temporal

REFERENCE = Path(__file__).parents[2] / "app" / "scenarios" / "kg-khoi-2-2018.json"
SCENARIO = load_scenario(REFERENCE.read_bytes())
UNITS = [m.id for m in SCENARIO.block.members]
HEAD, DEPUTY = SCENARIO.block.head, SCENARIO.block.deputy
OWN, OTHER = "so-tu-phap", "vp-ubnd"  # the unit a command names; another plain member
PASSWORD = "một mật khẩu dài 2018"
COMMAND = TypeAdapter(Command)


@dataclass
class Cast:
    tokens: dict[str, str]  # who → bearer token ("" = no credentials)
    persons: dict[str, str]  # who → login


@pytest.fixture(scope="module")
async def cast(pool: asyncpg.Pool, store: EventStore) -> Cast:
    """A person (and a token) for the secretariat, an auditor and every unit of the block; a
    disabled person; a revoked and an expired token."""
    ident = Identity(pool, store, hasher=PasswordHasher(time_cost=1, memory_cost=8192))
    tokens: dict[str, str] = {"none": ""}
    persons = {"admin": "bandtkt", "auditor": "kiemtoan"}
    await ident.add_person(
        "bandtkt",
        name="Phạm Văn Ban",
        role="admin",
        position="Trưởng Ban Thi đua – Khen thưởng",
        password=PASSWORD,
        by=ADMIN,
    )
    await ident.add_person(
        "kiemtoan", name="Đỗ Kiểm", role="auditor", position="Kiểm toán viên", by=ADMIN
    )
    for unit in UNITS:
        login = f"cb-{unit}"
        persons[unit] = login
        await ident.add_person(
            login,
            name=f"Cán bộ {unit}",
            role="unit",
            unit=unit,
            position="Chánh Văn phòng",
            password=PASSWORD,
            by=ADMIN,
        )
    for who, login in persons.items():
        tokens[who] = (await ident.issue_token(login, name="test", by=ADMIN)).token
    await ident.add_person("cb-off", name="Nghỉ", role="unit", unit=OWN, by=ADMIN)
    tokens["disabled"] = (await ident.issue_token("cb-off", by=ADMIN)).token
    await ident.disable("cb-off", by=ADMIN)
    revoked = await ident.issue_token("bandtkt", name="old", by=ADMIN)
    await ident.revoke_token(str(revoked.id), by=ADMIN)
    tokens["revoked"] = revoked.token
    expired = await ident.issue_token(
        "bandtkt", name="expired", expires=timedelta(hours=1), by=ADMIN
    )
    await pool.execute(
        "UPDATE api_tokens SET expires_at = now() - interval '1 minute' WHERE id = $1", expired.id
    )
    tokens["expired"] = expired.token
    return Cast(tokens, persons)


@pytest.fixture
async def api(services: Services, worker: Worker, cast: Cast) -> AsyncIterator[httpx.AsyncClient]:
    services._identity = Identity(
        services.pool,
        services.store,
        hasher=PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1),
    )
    app = create_app(services)  # the real authentication: people's tokens and sessions
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://thidua"
    ) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def start_body() -> dict[str, Any]:
    sc = json.loads(REFERENCE.read_text("utf-8"))
    return {
        "block": sc["block"],
        "year": sc["year"],
        "score_sheet": sc["score_sheet"],
        "ruleset": resolve_ruleset(sc["ruleset"]).model_dump(mode="json"),
    }


SECTIONS = {"c1": "500", "c2": "150", "c3": "150"}
COMMANDS: list[dict[str, Any]] = [
    {"do": "sign_pledge", "unit": OWN},
    {"do": "submit_self_score", "unit": OWN, "sections": SECTIONS},
    {"do": "verify_score", "unit": OWN, "sections": SECTIONS, "note": "ok"},
    {"do": "close_scoring"},
    {"do": "hold_review", "held_on": "2019-03-08", "present": UNITS},
    {"do": "correct_score", "unit": OWN, "sections": SECTIONS, "note": "sửa"},
    {"do": "record_finding", "unit": OWN, "kind": "other", "reference": "biên bản 1"},
    {"do": "withdraw_finding", "unit": OWN, "kind": "other"},
    {"do": "close_discipline_check"},
    {"do": "break_tie", "order": [OWN, OTHER]},
    {"do": "open_vote_round"},
    {"do": "cast_ballot", "approve": [OWN]},
    {"do": "close_vote_round"},
    {"do": "leaders_decide", "places": [{"place": 1, "unit": OWN}]},
    {"do": "open_election"},
    {"do": "cast_election_ballot", "deputy": OWN},
    {"do": "close_election"},
    {"do": "appoint_leaders", "head": OWN, "deputy": OTHER},
    {"do": "extend_deadline", "stage": "pledge", "until": "2030-01-01T00:00:00+07:00"},
    {"do": "close_pledge"},
    {"do": "cancel_cycle", "reason": "kiểm thử"},
]
CALLERS = ["none", "expired", "revoked", "disabled", "auditor", OTHER, DEPUTY, HEAD, OWN, "admin"]
UNAUTHENTICATED = {"none", "expired", "revoked", "disabled"}


async def started(store: EventStore, stream: str) -> None:
    """Wait until the workflow has appended `cycle_started` (the start answers before)."""
    for _ in range(600):
        if await store.head(stream) >= 1:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{stream}: no cycle_started")


def actor_of(who: str, cast: Cast) -> Actor:
    """The actor the rules see for a caller: built from the person (role, unit, login)."""
    login = cast.persons[who]
    if who == "admin":
        return Actor.of_person(
            role="admin",
            login=login,
            name="Phạm Văn Ban",
            position="Trưởng Ban Thi đua – Khen thưởng",
        )
    if who == "auditor":
        return Actor.of_person(
            role="auditor", login=login, name="Đỗ Kiểm", position="Kiểm toán viên"
        )
    return Actor.of_person(
        role="unit", login=login, name=f"Cán bộ {who}", unit=who, position="Chánh Văn phòng"
    )


Answer = tuple[int, "str | None"]


async def expected(
    store: EventStore, stream: str, body: dict[str, Any], who: str, cast: Cast
) -> Answer:
    """DOMAIN.md's answer for `who` sending `body` now: 401 without a live credential, else
    the rules' judgement of the person's actor in the stored state (403 not_authorized, 409
    with the stage or rule code, or 200)."""
    if who in UNAUTHENTICATED:
        return (401, "not_authenticated")
    state = (await store.replay(stream)).state
    try:
        validate(state, COMMAND.validate_python(body), actor_of(who, cast), now=datetime.now(UTC))
    except DomainError as exc:
        return (403 if exc.code == "not_authorized" else 409, exc.code)
    return (200, None)


async def send(
    api: httpx.AsyncClient,
    pool: asyncpg.Pool,
    body: dict[str, Any],
    token: str,
    want: Answer,
    **headers: str,
) -> Answer:
    """Send one command; assert the answer, and that a refused call wrote nothing."""
    before = await pool.fetchval("SELECT count(*) FROM events")
    r = await api.post(
        "/cycles/kg-khoi-2/2018/commands", json=body, headers={**bearer(token), **headers}
    )
    got = (r.status_code, None if r.status_code == 200 else r.json()["code"])
    assert got == want, (body, r.text)
    after = await pool.fetchval("SELECT count(*) FROM events")
    if got[0] == 200:
        assert after > before
    else:
        assert after == before, (body, "a refused call wrote")
    return got


async def test_authorisation_matrix_every_command_by_every_caller(
    api: httpx.AsyncClient,
    cast: Cast,
    cycles: CycleClient,
    store: EventStore,
    pool: asyncpg.Pool,
) -> None:
    r = await api.post("/cycles", json=start_body(), headers=bearer(cast.tokens[HEAD]))
    assert (r.status_code, r.json()["code"]) == (403, "not_authorized")
    r = await api.post("/cycles", json=start_body(), headers=bearer(cast.tokens["expired"]))
    assert r.status_code == 401
    r = await api.post("/cycles", json=start_body(), headers=bearer(cast.tokens["admin"]))
    assert r.status_code == 201, r.text
    stream = cycle_key("kg-khoi-2", 2018, cycles.prefix)[1]
    await started(store, stream)

    seen: dict[tuple[str, str], tuple[int, str | None]] = {}
    for body in COMMANDS:
        for who in CALLERS:
            want = await expected(store, stream, body, who, cast)
            seen[body["do"], who] = await send(api, pool, body, cast.tokens[who], want)

    # DOMAIN.md, independently of the rules' code: auditors change nothing; a unit's person
    # cannot act for another unit; only the head closes stages; no credentials → 401
    for body in COMMANDS:
        assert seen[body["do"], "auditor"] == (403, "not_authorized")
        for who in UNAUTHENTICATED:
            assert seen[body["do"], who] == (401, "not_authenticated")
    assert seen["sign_pledge", OTHER] == (403, "not_authorized")
    assert seen["sign_pledge", HEAD] == (403, "not_authorized")
    assert seen["sign_pledge", OWN] == (200, None)
    assert seen["close_pledge", OWN] == (403, "not_authorized")
    assert seen["close_pledge", HEAD] == (200, None)
    assert seen["submit_self_score", OWN] == (409, "wrong_stage")  # authorised, wrong stage
    assert seen["cancel_cycle", "admin"] == (200, None)
    assert seen["cancel_cycle", HEAD] == (403, "not_authorized")

    events = await store.read_stream(stream)
    for e in events:
        assert e.actor.get("login"), e
    assert {e.actor["login"] for e in events} >= {"bandtkt", f"cb-{OWN}", f"cb-{HEAD}"}


async def test_the_unit_comes_from_the_person_never_from_the_body(
    api: httpx.AsyncClient, cast: Cast, cycles: CycleClient, store: EventStore
) -> None:
    r = await api.post("/cycles", json=start_body(), headers=bearer(cast.tokens["admin"]))
    assert r.status_code == 201, r.text
    # a unit's person says in the body they act for another unit: refused, nothing written
    r = await api.post(
        "/cycles/kg-khoi-2/2018/commands",
        json={"do": "sign_pledge", "unit": OWN, "actor": {"unit": OWN}},
        headers=bearer(cast.tokens[OTHER]),
    )
    assert r.status_code in (403, 422)
    r = await api.post(
        "/cycles/kg-khoi-2/2018/commands",
        json={"do": "sign_pledge", "unit": OWN},
        headers=bearer(cast.tokens[OTHER]),
    )
    assert (r.status_code, r.json()["code"]) == (403, "not_authorized")
    r = await api.get("/session/me", headers=bearer(cast.tokens[OWN]))
    assert r.json() == {
        "kind": "unit",
        "unit": OWN,
        "login": f"cb-{OWN}",
        "name": f"Cán bộ {OWN}",
        "position": "Chánh Văn phòng",
    }
    stream = cycle_key("kg-khoi-2", 2018, cycles.prefix)[1]
    assert [e.type for e in await store.read_stream(stream)] == ["cycle_started"]


async def test_sessions_login_csrf_new_id_logout_and_no_secret_in_logs_or_database(
    api: httpx.AsyncClient,
    cast: Cast,
    pool: asyncpg.Pool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as logs:
        csrf = (await api.get("/session/csrf")).json()["csrf_token"]
        form = {"login": "bandtkt", "password": PASSWORD}
        r = await api.post("/session", data=form)  # no CSRF token in the form
        assert (r.status_code, r.json()["code"]) == (403, "csrf_failed")
        r = await api.post("/session", data={**form, "csrf_token": "forged"})
        assert (r.status_code, r.json()["code"]) == (403, "csrf_failed")

        r = await api.post("/session", data={**form, "csrf_token": csrf})
        assert r.status_code == 200, r.text
        first = api.cookies.get("thidua_session")
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
        session_csrf = r.json()["csrf_token"]
        assert (await api.get("/session/me")).json()["login"] == "bandtkt"

        # logging in again (same browser) gives a new session id; the old one is over
        csrf = (await api.get("/session/csrf")).json()["csrf_token"]
        r = await api.post("/session", data={**form, "csrf_token": csrf})
        second = api.cookies.get("thidua_session")
        assert second and first and second != first
        old = await api.get("/session/me", cookies={"thidua_session": first})
        assert old.status_code == 401
        session_csrf = r.json()["csrf_token"]

        # a state-changing request on a session needs the session's CSRF token
        r = await api.post("/cycles", json=start_body())
        assert (r.status_code, r.json()["code"]) == (403, "csrf_failed")
        r = await api.post("/session/logout")
        assert (r.status_code, r.json()["code"]) == (403, "csrf_failed")
        r = await api.post("/session/logout", headers={"X-CSRF-Token": session_csrf})
        assert r.status_code == 200
        api.cookies.set("thidua_session", second)
        assert (await api.get("/session/me")).status_code == 401

        wrong = await api.post(
            "/session",
            data={"login": "bandtkt", "password": "sai mật khẩu", "csrf_token": csrf},
            cookies={"thidua_csrf": csrf},
        )
        nobody = await api.post(
            "/session",
            data={"login": "khong-co", "password": "sai", "csrf_token": csrf},
            cookies={"thidua_csrf": csrf},
        )
        assert wrong.status_code == nobody.status_code == 401
        assert wrong.json() == nobody.json()

        for token in cast.tokens.values():
            if token:
                await api.get("/cycles", headers=bearer(token))

    secrets_ = [PASSWORD, first, second, session_csrf, *[t for t in cast.tokens.values() if t]]
    lines = [repr(e) for e in logs] + [r.getMessage() for r in caplog.records]
    assert lines, "the requests were logged"
    for line in lines:
        for s in secrets_:
            assert s not in line
    everything = await table_text(pool)
    for s in secrets_:
        assert s not in everything


async def test_the_reference_cycle_through_the_api_one_token_per_person(
    api: httpx.AsyncClient,
    cast: Cast,
    cycles: CycleClient,
    store: EventStore,
    db_url: str,
    pool: asyncpg.Pool,
) -> None:
    """Each step is first tried by every other caller the rules refuse (the exact answer,
    nothing written: the matrix at every stage), then sent by its own person's token."""
    r = await api.post("/cycles", json=start_body(), headers=bearer(cast.tokens["admin"]))
    assert r.status_code == 201, r.text
    stream = cycle_key("kg-khoi-2", 2018, cycles.prefix)[1]
    await started(store, stream)
    tried = 0
    for step in SCENARIO.steps:
        who = step.actor.kind if step.actor.kind != "unit" else step.actor.unit
        assert who is not None
        body = step.command.model_dump(mode="json")
        for other in CALLERS:
            if other == who:
                continue
            want = await expected(store, stream, body, other, cast)
            if want[0] != 200:  # another caller the rules accept would change the story
                await send(api, pool, body, cast.tokens[other], want)
                tried += 1
        want = await expected(store, stream, body, who, cast)
        assert want == ((200, None) if not step.expect_error else want)
        await send(
            api, pool, body, cast.tokens[who], want, **{"Idempotency-Key": f"step-{step.index}"}
        )
    assert tried > 8 * len(SCENARIO.steps)

    events = await store.read_stream(stream)
    assert len(events) == 52  # the reference case: start, 49 steps, 2 closing events
    people = {login: who for who, login in cast.persons.items()}
    for e in events:
        if e.actor["kind"] == "system":
            continue
        assert e.actor["login"] in people, e  # every event names its person
        assert e.actor["name"] and e.actor["position"]
        if e.actor["kind"] == "unit":
            assert e.actor["unit"] == people[e.actor["login"]]
    audit = (
        await api.get("/cycles/kg-khoi-2/2018/audit", headers=bearer(cast.tokens["auditor"]))
    ).json()
    assert audit["problems"] == [] and audit["findings"] == []
    assert audit["state"]["stage"] == "completed"

    done = subprocess.run(
        [sys.executable, "-m", "app", "audit", "verify", "kg-khoi-2", "2018", "--stream", stream],
        env={**os.environ, "DATABASE_URL": db_url, "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert f"{len(events)} events" in done.stdout


async def test_the_session_cookie_is_secure_when_the_site_is_served_over_https(
    services: Services, cast: Cast
) -> None:
    services._identity = Identity(
        services.pool, services.store, hasher=PasswordHasher(time_cost=1, memory_cost=8192)
    )
    app = create_app(services)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://thidua.example"
    ) as client:
        csrf = (await client.get("/session/csrf")).json()["csrf_token"]
        r = await client.post(
            "/session", data={"login": cast.persons[OWN], "password": PASSWORD, "csrf_token": csrf}
        )
        assert r.status_code == 200, r.text
        cookie = r.headers["set-cookie"]
        assert "thidua_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
        assert (await client.get("/session/me")).json()["unit"] == OWN
