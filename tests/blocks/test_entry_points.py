"""The block commands through the CLI (typer's runner, on the test's PostgreSQL) and the HTTP
API (httpx against the ASGI app)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from typer.testing import CliRunner

from app.blocks import BlockService
from app.bootstrap import Services
from app.cli import app as cli
from app.http import create_app, static_tokens
from domain.values import Actor
from eventstore import EventStore
from tests.workflows.helpers import REFERENCE

from .helpers import block_object

pytestmark = pytest.mark.db

TOKENS = {"t-admin": Actor.admin(), "t-unit": Actor.of_unit("so-khdt")}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_cli_registers_a_block_from_a_scenario_file_and_records_who_joins_and_leaves(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("THIDUA_HOME", str(tmp_path))
    runner = CliRunner()
    block_id = f"cli-{uuid.uuid4().hex[:6]}"
    data = json.loads(REFERENCE.read_text(encoding="utf-8"))
    data["block"]["id"] = block_id
    file = tmp_path / "scenario.json"
    file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    r = runner.invoke(cli, ["block", "register", str(file)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["block", "register", str(file)])
    assert r.exit_code == 1 and "block_exists" in r.output
    r = runner.invoke(
        cli, ["block", "join", block_id, "so-tai-chinh", "--from", "2020", "--name", "Sở Tài chính"]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["block", "leave", block_id, "vp-hdnd", "--after", "2019"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["block", "leave", block_id, "so-khong-co", "--after", "2019"])
    assert r.exit_code == 1 and "not_a_member (unit)" in r.output

    r = runner.invoke(cli, ["block", "show", block_id, "--json"])
    assert r.exit_code == 0, r.output
    record = json.loads(r.stdout)
    periods = {m["unit"]: (m["from_year"], m["after_year"]) for m in record["members"]}
    assert periods["so-tai-chinh"] == (2020, None) and periods["vp-hdnd"] == (None, 2019)
    assert record["province"] == "Kiên Giang" and len(record["members"]) == 9

    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"id": "x", "name": "X", "members": [], "head": "a", "deputy": "b"}),
        encoding="utf-8",
    )
    r = runner.invoke(cli, ["block", "register", str(bad)])
    assert r.exit_code == 1 and "invalid_block" in r.output


@pytest.fixture
async def api(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services, authenticate=static_tokens(TOKENS))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://thidua") as client:
        yield client


async def test_http_registers_shows_and_changes_a_block_and_only_the_secretariat_may(
    api: httpx.AsyncClient,
) -> None:
    province = f"Tỉnh Thử {uuid.uuid4().hex[:6]}"
    block_id = f"http-{uuid.uuid4().hex[:6]}"
    body = block_object(block_id, province)
    r = await api.post("/blocks", json=body, headers=auth("t-unit"))
    assert r.status_code == 403 and r.json()["code"] == "not_authorized"
    r = await api.post("/blocks", json=body, headers=auth("t-admin"))
    assert r.status_code == 201, r.text
    r = await api.post("/blocks", json=body, headers=auth("t-admin"))
    assert r.status_code == 409 and r.json()["code"] == "block_exists"

    r = await api.post(
        f"/blocks/{block_id}/members/vp-hdnd/leave",
        json={"after_year": 2019},
        headers=auth("t-admin"),
    )
    assert r.status_code == 200, r.text
    r = await api.post(
        f"/blocks/{block_id}/leaders",
        json={"year": 2020, "head": "vp-hdnd", "deputy": "so-khdt", "reason": "bầu không thành"},
        headers=auth("t-admin"),
    )
    assert r.status_code == 409 and (r.json()["code"], r.json()["field"]) == (
        "not_a_member",
        "head",
    )
    r = await api.post(
        f"/blocks/{block_id}/leaders",
        json={"year": 2020, "head": "vp-ubnd", "deputy": "so-khdt", "reason": "bầu không thành"},
        headers=auth("t-admin"),
    )
    assert r.status_code == 200 and r.json()["leaders"]["2020"]["source"] == "appointment"

    r = await api.get(f"/blocks/{block_id}", headers=auth("t-unit"))
    assert r.status_code == 200 and r.json()["name"] == "Khối thi đua số 2"
    r = await api.get("/blocks/khong-co", headers=auth("t-unit"))
    assert r.status_code == 404 and r.json()["code"] == "unknown_block"
    r = await api.get(f"/provinces/{province}/blocks", headers=auth("t-unit"))
    assert r.json() == [block_id]
    r = await api.get(f"/provinces/{province}/years/2019/proposals", headers=auth("t-unit"))
    assert r.status_code == 404


@pytest.mark.temporal
async def test_cli_opens_a_provinces_year_with_a_progress_bar_and_shows_its_list(
    year_worker: Worker,
    store: EventStore,
    pool: asyncpg.Pool,
    env: WorkflowEnvironment,
    db_url: str,
    task_queue: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    province = f"Tỉnh Thử {uuid.uuid4().hex[:6]}"
    block_id = f"cli-{uuid.uuid4().hex[:6]}"
    # no prefix: the CLI names workflows and streams as in production
    await BlockService(store, pool).register(block_object(block_id, province))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("TEMPORAL_ADDRESS", env.client.service_client.config.target_host)
    monkeypatch.setenv("TASK_QUEUE", task_queue)
    monkeypatch.setenv("THIDUA_HOME", str(tmp_path))
    runner = CliRunner()
    ref = str(REFERENCE)
    r = await asyncio.to_thread(
        runner.invoke,
        cli,
        ["year", "open", province, "2018", "--ruleset", ref, "--sheet", ref, "--deadlines", ref],
    )
    assert r.exit_code == 0, r.output
    assert "1 started, 0 already existed, 0 could not start" in r.stdout
    r = await asyncio.to_thread(
        runner.invoke,
        cli,
        [
            "cycle",
            "send",
            block_id,
            "2018",
            "--as",
            "admin",
            "--do",
            "cancel_cycle",
            "-f",
            "reason=thử",
        ],
    )
    assert r.exit_code == 0, r.output
    for _ in range(300):
        r = await asyncio.to_thread(runner.invoke, cli, ["year", "show", province, "2018"])
        if r.exit_code == 0:
            break
        await asyncio.sleep(0.2)
    assert r.exit_code == 0, r.output
    assert "DANH SÁCH ĐỀ NGHỊ KHEN THƯỞNG" in r.stdout and "đã bị hủy" in r.stdout

    # the next year from the block's record; ruleset and sheet from the 2018 cycle
    r = await asyncio.to_thread(
        runner.invoke, cli, ["cycle", "start", "--block", block_id, "--year", "2019"]
    )
    assert r.exit_code == 0 and f"cycle:{block_id}:2019" in r.stdout, r.output
    r = await asyncio.to_thread(runner.invoke, cli, ["cycle", "start", "--block", block_id])
    assert r.exit_code == 2
    # while the 2019 cycle runs, the province's 2024 refuses the block as a single start would
    none = tmp_path / "no-deadlines.json"
    none.write_text("{}", encoding="utf-8")
    r = await asyncio.to_thread(
        runner.invoke,
        cli,
        [
            "year",
            "open",
            province,
            "2024",
            "--ruleset",
            ref,
            "--sheet",
            ref,
            "--deadlines",
            str(none),
        ],
    )
    assert r.exit_code == 0 and "previous_cycle_open (year)" in r.stdout, r.output
    r = await asyncio.to_thread(
        runner.invoke,
        cli,
        [
            "cycle",
            "send",
            block_id,
            "2019",
            "--as",
            "admin",
            "--do",
            "cancel_cycle",
            "-f",
            "reason=thử",
        ],
    )
    assert r.exit_code == 0, r.output

    bad = tmp_path / "deadlines.json"
    bad.write_text(json.dumps({"pledge": "2018-03-31T17:00:00+07:00"}), encoding="utf-8")
    r = await asyncio.to_thread(
        runner.invoke,
        cli,
        [
            "year",
            "open",
            province,
            "2025",
            "--ruleset",
            ref,
            "--sheet",
            ref,
            "--deadlines",
            str(bad),
        ],
    )
    assert r.exit_code == 0  # the year opens; the block's cycle cannot start
    assert "invalid_deadline (deadlines.pledge)" in r.stdout
