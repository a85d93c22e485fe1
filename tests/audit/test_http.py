"""The auditors' pack over HTTP (app/http/audit.py): httpx against the ASGI app on the real
services of tests/conftest.py (PostgreSQL, the Temporal dev server). Auditors and the
secretariat only; nothing of a cycle reaches anybody else."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import tracemalloc
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from app.audit import verify_export, verify_script
from app.audit.export import export_bytes
from app.bootstrap import Services
from app.client import CycleClient
from app.http import MAX_BODY_BYTES, audit, create_app, static_tokens
from app.witness import Witness
from domain.codec import to_record
from domain.values import Actor
from eventstore import EventStore
from tests.eventstore.conftest import pledge
from tests.eventstore.cycles import reference_events
from tests.eventstore.test_integrity import tamper
from tests.workflows.helpers import eventually
from workflows.messages import cycle_key

from .test_export import PDF, rewrite_member, run_verify_py, zip_of
from .test_reconcile import _cycle_with_pledges

pytestmark = pytest.mark.temporal

TOKENS = {
    "t-audit": Actor.auditor(),
    "t-admin": Actor.admin(),
    "t-unit": Actor.of_unit("so-khdt"),
    "t-head": Actor(kind="unit", unit="so-noi-vu", position="Giám đốc"),
}
ZIP = {"Content-Type": "application/zip"}


def auth(token: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **more}


def client_of(services: Services) -> httpx.AsyncClient:
    app = create_app(services, authenticate=static_tokens(TOKENS))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://thidua")


@pytest.fixture
async def api(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(services) as client:
        yield client


async def reference_cycle(store: EventStore, cycles: CycleClient) -> tuple[str, int, str]:
    """The reference case's events stored as the test's cycle kg-khoi-2 2018: (block, year,
    stream)."""
    block, year = "kg-khoi-2", 2018
    stream = cycle_key(block, year, cycles.prefix)[1]
    records = [to_record(e) for e in reference_events(unique_ids=True)]
    for start in range(0, len(records), 20):
        await store.append(stream, start, records[start : start + 20])
    return block, year, stream


async def test_the_export_zip_verifies_offline_and_is_for_auditors_only(
    api: httpx.AsyncClient, store: EventStore, cycles: CycleClient, tmp_path: Path
) -> None:
    block, year, stream = await reference_cycle(store, cycles)
    url = f"/cycles/{block}/{year}/export.zip"
    for token in ("t-unit", "t-head"):
        denied = await api.get(url, headers=auth(token))
        assert denied.status_code == 403
        assert denied.headers["content-type"] == "application/json"
        assert denied.json()["code"] == "not_authorized" and b"PK" not in denied.content
    assert (await api.get(url)).status_code == 401

    r = await api.get(url, headers=auth("t-audit"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"] == f'attachment; filename="thidua-{block}-{year}.zip"'
    check = verify_export(r.content)
    assert check.ok, check.problems
    report = await store.verify(stream)
    assert check.manifest["stream"] == stream and check.manifest["count"] == report.events
    assert check.manifest["last_hash"] == report.head_hash.hex()
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert z.read("minutes.pdf").startswith(b"%PDF-")  # the real minutes, made once
    path = tmp_path / "export.zip"
    path.write_bytes(r.content)
    done = run_verify_py(path, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{report.events} events, chain intact" in done.stdout

    # the secretariat too; the minutes come from the cache, the zip verifies the same
    again = await api.get(url, headers=auth("t-admin"))
    assert again.status_code == 200 and verify_export(again.content).ok

    unknown = await api.get("/cycles/kg-khoi-9/2018/export.zip", headers=auth("t-audit"))
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_cycle"


async def test_a_signing_key_that_cannot_be_opened_is_503_naming_the_setting(
    services: Services, store: EventStore, cycles: CycleClient, tmp_path: Path
) -> None:
    """The minutes and the export with THIDUA_SIGN_P12 pointing at no file: 503 with the
    setting as the field, whichever route asks for the signer."""
    block, year, _ = await reference_cycle(store, cycles)
    settings = services.settings.model_copy(update={"sign_p12": tmp_path / "missing.p12"})
    async with client_of(dataclasses.replace(services, settings=settings)) as api:
        for path in ("export.zip", "minutes.pdf"):
            r = await api.get(f"/cycles/{block}/{year}/{path}", headers=auth("t-audit"))
            assert r.status_code == 503, (path, r.text)
            assert r.json() == {
                "code": "signing_key_unreadable",
                "field": "THIDUA_SIGN_P12",
                "message": "the signing key cannot be opened",
            }, path


async def test_reconcile_over_http(
    env: WorkflowEnvironment,
    worker: Worker,
    cycles: CycleClient,
    store: EventStore,
    services: Services,
    api: httpx.AsyncClient,
) -> None:
    wid, stream, head = await _cycle_with_pledges(cycles, store)
    block, year = "kg-khoi-2", 2018
    assert cycle_key(block, year, cycles.prefix) == (wid, stream)
    url = f"/cycles/{block}/{year}/reconcile"
    assert (await api.get(url, headers=auth("t-unit"))).status_code == 403

    r = await api.get(url, headers=auth("t-audit"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body == {
        "workflow_id": wid,
        "stream": stream,
        "runs": body["runs"],
        "updates": 4,
        "workflow_version": head,
        "store_version": head,
        "ok": True,
        "differences": [],
    }
    assert len(body["runs"]) == 1

    await cycles.client.get_workflow_handle(wid).terminate("test over")
    await store.append(stream, head, [pledge("so-x")])  # behind the workflow's back
    r = await api.get(url, headers=auth("t-admin"))
    body = r.json()
    assert r.status_code == 200 and body["ok"] is False and body["store_version"] == head + 1
    assert any(
        d.startswith(f"version {head + 1} (pledge_signed") and "no update, deadline or start" in d
        for d in body["differences"]
    ), body

    unknown = await api.get("/cycles/kg-khoi-9/2018/reconcile", headers=auth("t-audit"))
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_cycle"
    # a service without a Temporal client says so
    async with client_of(dataclasses.replace(services, temporal=None)) as bare:
        r = await bare.get(url, headers=auth("t-audit"))
    assert r.status_code == 503 and r.json()["code"] == "temporal_unavailable"


async def test_a_cycle_whose_history_temporal_does_not_hold(
    api: httpx.AsyncClient, store: EventStore, cycles: CycleClient
) -> None:
    block, year, _ = await reference_cycle(store, cycles)  # events, no workflow
    r = await api.get(f"/cycles/{block}/{year}/reconcile", headers=auth("t-audit"))
    assert r.status_code == 404 and r.json()["code"] == "unknown_workflow"


async def test_verify_every_stream_then_a_tampered_one(
    api: httpx.AsyncClient, store: EventStore, pool: asyncpg.Pool, services: Services
) -> None:
    year = 2033  # this module's only streams of that year
    tag = uuid.uuid4().hex[:6]
    records = [to_record(e) for e in reference_events()][:12]
    names = [f"cycle-v{tag}{n}-{year}" for n in range(3)]
    for s in names:
        await store.append(s, 0, [r.model_copy(update={"event_id": uuid.uuid4()}) for r in records])
    assert (await api.get("/audit/verify", headers=auth("t-unit"))).status_code == 403
    r = await api.get("/audit/verify", params={"year": year}, headers=auth("t-audit"))
    assert r.status_code == 200, r.text
    assert r.json() == {"streams": 3, "ok": True, "failures": [], "witness": None}

    # the worker's witness signs a checkpoint of every event (services' THIDUA_HOME)
    witness = Witness(store, services.settings)

    async def signed() -> None:
        await witness.step()
        assert all(
            len(witness.log.by_stream(witness.log.signed_size()).get(n, [])) == 12 for n in names
        )

    await eventually(signed)
    await tamper(
        pool,
        f"UPDATE events SET body = NULL, data = jsonb_set(data, '{{x}}', '1')"
        f" WHERE stream = '{names[1]}' AND version = 7",
    )
    await tamper(pool, f"DELETE FROM events WHERE stream = '{names[2]}' AND version > 10")
    r = await api.get("/audit/verify", params={"year": year}, headers=auth("t-admin"))
    body = r.json()
    assert body["witness"]["findings"] == [] and body["witness"]["checkpoint_events"] >= 36
    assert {k: v for k, v in body.items() if k != "witness"} == {
        "streams": 3,
        "ok": False,
        "failures": [
            {
                "stream": names[1],
                "problem": "broken_link at version 7: the stored hash does not "
                "match the event's content",
            },
            {
                "stream": names[2],
                "problem": "the store ends at version 10, the signed checkpoint"
                " holds version 12 (a cut)",
            },
        ],
    }
    everything = (await api.get("/audit/verify", headers=auth("t-audit"))).json()
    assert everything["streams"] >= 3 and names[1] in [f["stream"] for f in everything["failures"]]
    for bad in ("abc", "1800", "20180"):
        r = await api.get("/audit/verify", params={"year": bad}, headers=auth("t-audit"))
        assert r.status_code == 422 and r.json()["field"] == "year", r.text


async def test_verify_an_uploaded_export(
    api: httpx.AsyncClient,
    store: EventStore,
    cycles: CycleClient,
    pool: asyncpg.Pool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, _, stream = await reference_cycle(store, cycles)
    good, manifest = await export_bytes(store, stream, minutes_pdf=PDF)
    url = "/audit/verify-export"
    before = await pool.fetchval("SELECT count(*) FROM events")

    r = await api.post(url, content=good, headers=auth("t-audit", **ZIP))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "ok": True,
        "stream": stream,
        "count": manifest["count"],
        "last_hash": manifest["last_hash"],
        "problems": [],
    }
    denied = await api.post(url, content=good, headers=auth("t-unit", **ZIP))
    assert denied.status_code == 403 and denied.json()["code"] == "not_authorized"

    # one byte changed in line 3: named
    path = tmp_path / "export.zip"
    path.write_bytes(good)
    with zipfile.ZipFile(path) as z:
        line = z.read("events.jsonl").split(b"\n")[2]
    at = line.index(b'"unit":"') + len(b'"unit":"')
    rewrite_member(path, "events.jsonl", line, line[:at] + b"Z" + line[at + 1 :])
    r = await api.post(url, content=path.read_bytes(), headers=auth("t-audit", **ZIP))
    body = r.json()
    assert r.status_code == 200 and body["ok"] is False, body
    assert body["problems"][0].startswith("line 3 (version 3)"), body

    # not a zip, a form instead of the zip, a zip of the wrong things: named, never a 500
    for content, headers in (
        (b"%PDF-1.4 not a zip", ZIP),
        (good, {"Content-Type": "multipart/form-data; boundary=x"}),
    ):
        r = await api.post(url, content=content, headers=auth("t-audit", **headers))
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "invalid_export" and r.json()["field"] == "body"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("manifest.json", "[1, 2]")
        z.writestr("events.jsonl", "")
        z.writestr("hashes.txt", "")
    r = await api.post(url, content=buf.getvalue(), headers=auth("t-audit", **ZIP))
    assert r.status_code == 200 and r.json()["ok"] is False and r.json()["problems"], r.text

    # past the uploads verified at once (none allowed, for the test): 429 with Retry-After,
    # and nothing is left counted once the others are done
    monkeypatch.setattr(audit, "VERIFY_AT_ONCE", 0)
    r = await api.post(url, content=good, headers=auth("t-audit", **ZIP))
    assert r.status_code == 429 and r.json()["code"] == "verify_busy", r.text
    assert r.headers["Retry-After"] == "5"
    monkeypatch.undo()
    for _ in range(3):
        r = await api.post(url, content=good, headers=auth("t-audit", **ZIP))
        assert r.status_code == 200 and r.json()["ok"] is True, r.text

    # (a zip bomb, an over-long line, a stalled upload: the tests below)

    # this path's own limit: a 300 KB export is taken (above the global 256 KB) …
    big, _ = await export_bytes(store, stream, minutes_pdf=b"%PDF-" + os.urandom(300 * 1024))
    assert len(big) > 300 * 1024 > MAX_BODY_BYTES
    r = await api.post(url, content=big, headers=auth("t-audit", **ZIP))
    assert r.status_code == 200 and r.json()["ok"] is True, r.text
    # … one over 32 MB is 413 naming the limit, before the body is read
    r = await api.post(
        url, content=bytes(audit.MAX_EXPORT_BYTES + 1), headers=auth("t-audit", **ZIP)
    )
    assert r.status_code == 413, r.text
    assert r.json()["limit_bytes"] == audit.MAX_EXPORT_BYTES and "32 MB" in r.json()["message"]
    # an upload without a Content-Length is refused (never buffered ahead of authentication)

    async def chunks() -> AsyncIterator[bytes]:
        yield good

    r = await api.post(url, content=chunks(), headers=auth("t-audit", **ZIP))
    assert r.status_code == 411 and r.json()["field"] == "Content-Length"
    # the other paths keep the global limit
    r = await api.post("/cycles", content=big, headers=auth("t-admin", **ZIP))
    assert r.status_code == 413 and r.json()["limit_bytes"] == MAX_BODY_BYTES
    # read-only: nothing was written
    assert await pool.fetchval("SELECT count(*) FROM events") == before


async def test_a_zip_bomb_is_refused_before_it_is_inflated(
    api: httpx.AsyncClient,
    store: EventStore,
    cycles: CycleClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "/audit/verify-export"
    # 200 MB of zeros in events.jsonl: a zip of ~200 KB
    bomb = zip_of({"manifest.json": b"{}", "events.jsonl": 200 * 2**20, "hashes.txt": b""})
    assert len(bomb) < 2**20
    tracemalloc.start()
    try:
        r = await api.post(url, content=bomb, headers=auth("t-audit", **ZIP))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert r.status_code == 413, r.text
    body = r.json()
    assert body["code"] == "member_too_large" and body["member"] == "events.jsonl", body
    assert body["limit"] == verify_script.MAX_MEMBER_BYTES and "200 MB" in body["message"]
    assert peak < 50 * 2**20, f"{peak / 2**20:.0f} MB traced while refusing the bomb"

    # the report of issue 17: a 60 MB member (within its bound) of empty lines, a zip of
    # ~60 KB: read a line at a time, a verdict, no more than the bound traced
    lines = zip_of(
        {"manifest.json": b"{}", "events.jsonl": b"\n" * (60 * 2**20), "hashes.txt": b""}
    )
    assert len(lines) < 2**20
    tracemalloc.start()
    try:
        r = await api.post(url, content=lines, headers=auth("t-audit", **ZIP))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert r.status_code == 200 and r.json()["ok"] is False, r.text
    assert r.json()["problems"][0] == f"hashes.txt has 0 hashes for {60 * 2**20} lines"
    assert len(r.json()["problems"]) < 10
    assert peak < 50 * 2**20, f"{peak / 2**20:.0f} MB traced while reading 60 MB of lines"

    # members each within their bound, more than the total together (bounds lowered for the
    # test): refused, naming the bound
    monkeypatch.setattr(verify_script, "MAX_MEMBER_BYTES", 3 * 2**20)
    monkeypatch.setattr(verify_script, "MAX_TOTAL_BYTES", 5 * 2**20)
    three = zip_of(
        {
            "manifest.json": b"{}",
            "events.jsonl": 2 * 2**20,
            "hashes.txt": 2 * 2**20,
            "minutes.pdf": 2 * 2**20,
        }
    )
    r = await api.post(url, content=three, headers=auth("t-audit", **ZIP))
    assert r.status_code == 413 and r.json()["code"] == "export_too_large", r.text
    assert r.json()["limit"] == 5 * 2**20
    monkeypatch.undo()
    # a manifest is parsed whole: its own bound (1 MB)
    r = await api.post(
        url, content=zip_of({"manifest.json": 2 * 2**20}), headers=auth("t-audit", **ZIP)
    )
    assert r.status_code == 413 and r.json()["member"] == "manifest.json", r.text
    # too many members, another compression: refused before reading
    many = zip_of({f"m{i}": b"" for i in range(verify_script.MAX_MEMBERS + 1)})
    r = await api.post(url, content=many, headers=auth("t-audit", **ZIP))
    assert r.status_code == 413 and r.json()["code"] == "too_many_members", r.text
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_BZIP2) as z:
        z.writestr("events.jsonl", bytes(1000))
    r = await api.post(url, content=buf.getvalue(), headers=auth("t-audit", **ZIP))
    assert r.status_code == 422 and r.json()["code"] == "unsupported_compression", r.text
    assert r.json()["member"] == "events.jsonl"

    # the service still verifies a good export afterwards
    _, _, stream = await reference_cycle(store, cycles)
    good, _ = await export_bytes(store, stream, minutes_pdf=PDF)
    r = await api.post(url, content=good, headers=auth("t-audit", **ZIP))
    assert r.status_code == 200 and r.json()["ok"] is True, r.text


async def test_an_over_long_line_is_refused(
    api: httpx.AsyncClient,
    store: EventStore,
    cycles: CycleClient,
    tmp_path: Path,
) -> None:
    _, _, stream = await reference_cycle(store, cycles)
    good, _ = await export_bytes(store, stream, minutes_pdf=PDF)
    path = tmp_path / "export.zip"
    path.write_bytes(good)
    with zipfile.ZipFile(path) as z:
        line = z.read("events.jsonl").split(b"\n")[4]
    at = line.index(b'"unit":"') + len(b'"unit":"')
    long = line[:at] + b"x" * (verify_script.MAX_LINE_BYTES + 10) + line[at:]
    rewrite_member(path, "events.jsonl", line, long)
    r = await api.post(
        "/audit/verify-export", content=path.read_bytes(), headers=auth("t-audit", **ZIP)
    )
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "line_too_long" and body["member"] == "events.jsonl", body
    assert "line 5" in body["message"] and body["field"] == "body"
    assert "xxxx" not in r.text  # the input is not echoed
    # verify.py says the same in one line, exit 2
    done = run_verify_py(path, tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout.strip() == "CANNOT CHECK: events.jsonl line 5 is longer than 1 MB"


async def test_a_stalled_upload_gives_its_slot_back(
    services: Services,
    store: EventStore,
    cycles: CycleClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, _, stream = await reference_cycle(store, cycles)
    good, _ = await export_bytes(store, stream, minutes_pdf=PDF)
    quick = dataclasses.replace(
        services, settings=services.settings.model_copy(update={"upload_idle_seconds": 0.5})
    )
    app = create_app(quick, authenticate=static_tokens(TOKENS))
    monkeypatch.setattr(audit, "VERIFY_AT_ONCE", 1)  # one slot: the next upload needs it back
    stalled, dropped = asyncio.Event(), asyncio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        yield good[:1024]
        stalled.set()
        try:
            await asyncio.Event().wait()  # never sends the rest
        except asyncio.CancelledError:
            dropped.set()
            raise
        yield good[1024:]

    headers = auth("t-audit", **ZIP, **{"Content-Length": str(len(good))})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://thidua"
    ) as api:
        r = await api.post("/audit/verify-export", content=stalls(), headers=headers)
        assert stalled.is_set() and dropped.is_set()  # it did stall, and the server let go
        assert r.status_code == 408, r.text
        assert r.json()["code"] == "upload_timeout" and "0.5 s" in r.json()["message"]
        assert app.state.verifying_exports == 0
        r = await api.post("/audit/verify-export", content=good, headers=auth("t-audit", **ZIP))
        assert r.status_code == 200 and r.json()["ok"] is True, r.text


async def test_an_open_rounds_ballots_stay_private_on_the_audit_routes(
    api: httpx.AsyncClient, store: EventStore, cycles: CycleClient
) -> None:
    block, year = "kg-khoi-2", 2018
    stream = cycle_key(block, year, cycles.prefix)[1]
    records = [to_record(e) for e in reference_events(unique_ids=True)]
    first = next(n for n, r in enumerate(records) if r.type == "ballot_cast")
    closes = next(n for n, r in enumerate(records) if r.type == "vote_round_closed")
    await store.append(stream, 0, records[: first + 1])  # the round open, one ballot cast
    ballot = records[first]
    assert ballot.data["approve"]
    base = f"/cycles/{block}/{year}"
    body = (await api.get(f"{base}/audit", headers=auth("t-audit"))).json()
    r = body["state"]["rounds"][0]
    assert r["ballots"] == {} and r["voted"] == [ballot.data["voter"]]
    shown = await api.get(f"/ky/{block}/{year}/nhat-ky/{first + 1}.json", headers=auth("t-audit"))
    assert shown.status_code == 200, shown.text
    assert shown.json()["data"]["voter"] == ballot.data["voter"]
    assert "approve" not in shown.json()["data"]
    # once the round closed, auditors see every ballot, also as of the open round
    await store.append(stream, first + 1, records[first + 1 : closes + 1])
    body = (
        await api.get(f"{base}/audit", params={"to_version": first + 1}, headers=auth("t-audit"))
    ).json()
    assert body["state"]["rounds"][0]["ballots"] == {ballot.data["voter"]: ballot.data["approve"]}
    shown = await api.get(f"/ky/{block}/{year}/nhat-ky/{first + 1}.json", headers=auth("t-audit"))
    assert shown.json()["data"]["approve"] == ballot.data["approve"]
