"""Evidence files of a self-score over the HTTP API (app/http/evidence.py): checked by their
content, stored by their SHA-256 under THIDUA_HOME/evidence, named (never carried) by the
self-score's event, opened by the auditors, the secretariat, the head and the unit itself;
the audit names a file the store lacks or holds altered. httpx against the ASGI app on the
real PostgreSQL and Temporal dev server of tests/conftest.py."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from docx import Document
from temporalio.worker import Worker

from app.audit import verify_export
from app.bootstrap import Services
from app.evidence import FileEvidenceStore
from app.http import create_app, static_tokens
from domain.evidence import EVIDENCE_MAX_BYTES
from domain.values import Actor
from eventstore import EventStore
from tests.audit.test_export import run_verify_py
from workflows.messages import cycle_key

from .test_api import auth, start_body

pytestmark = pytest.mark.temporal

TOKENS = {
    "t-admin": Actor.admin(),
    "t-audit": Actor.auditor(),
    "t-head": Actor.of_unit("so-ngoai-vu"),
    "t-khdt": Actor.of_unit("so-khdt"),
    "t-noivu": Actor.of_unit("so-noi-vu"),
}
BASE = "/cycles/kg-khoi-2/2018"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
    b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def docx_bytes(text: str = "Báo cáo kết quả") -> bytes:
    doc = Document()
    doc.add_paragraph(text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def xlsx_bytes() -> bytes:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Điểm"  # type: ignore[index]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def fake_docx() -> bytes:
    """A zip that content sniffing takes for Word (its first member is under word/), without
    the parts a Word document has."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/notes.txt", "not a document")
    return buf.getvalue()


def stored_files(services: Services) -> list[Path]:
    root = services.settings.evidence_path
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
async def api(services: Services, worker: Worker) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services, authenticate=static_tokens(TOKENS))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://thidua"
    ) as client:
        yield client


async def scoring(api: httpx.AsyncClient) -> None:
    """The reference cycle at its scoring stage: so-khdt signed, the head closed the pledge."""
    assert (
        await api.post("/cycles", json=start_body(), headers=auth("t-admin"))
    ).status_code == 201
    for token, step in (
        ("t-khdt", {"do": "sign_pledge", "unit": "so-khdt"}),
        ("t-head", {"do": "close_pledge"}),
    ):
        r = await api.post(f"{BASE}/commands", json=step, headers=auth(token))
        assert r.status_code == 200, r.text


async def upload(
    api: httpx.AsyncClient, data: bytes, name: str, token: str = "t-khdt"
) -> httpx.Response:
    return await api.post(
        f"{BASE}/evidence",
        params={"name": name},
        content=data,
        headers=auth(token, **{"Content-Type": "application/octet-stream"}),
    )


def score(evidence: dict[str, Any]) -> dict[str, Any]:
    return {
        "do": "submit_self_score",
        "unit": "so-khdt",
        "sections": {"c1": "580", "c2": "190", "c3": "195"},
        "evidence": evidence,
    }


async def test_files_are_checked_by_content_and_refusals_write_nothing(
    api: httpx.AsyncClient, services: Services, store: EventStore
) -> None:
    await scoring(api)
    ok = await upload(api, PDF, "Quyết định khen thưởng.pdf")
    assert ok.status_code == 201, ok.text
    pdf = ok.json()
    assert pdf == {
        "sha256": hashlib.sha256(PDF).hexdigest(),
        "name": "Quyết định khen thưởng.pdf",
        "size": len(PDF),
        "type": "application/pdf",
    }
    # stored by its hash, whole; the same bytes again (under another name) change nothing
    path = services.evidence.path(pdf["sha256"])
    assert (
        path == services.settings.thidua_home / "evidence" / pdf["sha256"][:2] / pdf["sha256"][2:]
    )
    assert path.read_bytes() == PDF
    again = await upload(api, PDF, "ban-sao.pdf")
    assert again.status_code == 201 and again.json()["sha256"] == pdf["sha256"]
    assert stored_files(services) == [path]
    # the type is the content's: an image called .pdf is a PNG, office documents are theirs
    png = await upload(api, PNG, "anh-chup.pdf")
    assert png.status_code == 201 and png.json()["type"] == "image/png"
    for data, media in (
        (docx_bytes(), "wordprocessingml.document"),
        (xlsx_bytes(), "spreadsheetml.sheet"),
    ):
        r = await upload(api, data, "tai-lieu")
        assert r.status_code == 201, r.text
        assert r.json()["type"].endswith(media)
    files = stored_files(services)

    refusals = [
        (b"just text, called a PDF", "bao-cao.pdf", 415, "evidence_type_not_allowed", "body"),
        (b"MZ\x90\x00" + bytes(100), "bao-cao.docx", 415, "evidence_type_not_allowed", "body"),
        (fake_docx(), "bao-cao.docx", 422, "evidence_damaged", "body"),
        (b"", "rong.pdf", 422, "evidence_empty", "body"),
        (PDF + bytes(EVIDENCE_MAX_BYTES), "lon.pdf", 413, "evidence_too_large", "body"),
        (PDF, "ten\x07la.pdf", 422, "invalid_file_name", "name"),
    ]
    for data, name, status, code, field in refusals:
        r = await upload(api, data, name)
        assert (r.status_code, r.json()["code"], r.json()["field"]) == (status, code, field), (
            name,
            r.text,
        )
        assert name not in r.text  # the input is not echoed
    # far past the limit: refused by its Content-Length, before the body is read
    big = await upload(api, PDF + bytes(2 * EVIDENCE_MAX_BYTES), "rat-lon.pdf")
    assert big.status_code == 413 and big.json()["code"] == "body_too_large"
    assert stored_files(services) == files  # nothing written by any refusal

    # only a unit of the cycle uploads
    for token in ("t-audit", "t-admin"):
        r = await upload(api, PNG, "x.png", token)
        assert r.status_code == 403 and r.json()["code"] == "not_authorized"
    assert (
        await api.post(f"{BASE}/evidence", params={"name": "x.pdf"}, content=PDF)
    ).status_code == 401

    # a self-score names only stored files, as they were stored
    before = len(await store.read_stream(cycle_key("kg-khoi-2", 2018, services.cycles.prefix)[1]))
    bad = [
        (
            {"c1": [{**pdf, "sha256": "0" * 64}]},
            422,
            "evidence_not_uploaded",
            "evidence.c1.0.sha256",
        ),
        ({"c1": [{**pdf, "size": pdf["size"] + 1}]}, 422, "evidence_mismatch", "evidence.c1.0"),
        ({"c1": [{**pdf, "type": "image/png"}]}, 422, "evidence_mismatch", "evidence.c1.0"),
        (
            {"c1": [{**pdf, "type": "text/html"}]},
            422,
            "evidence_type_not_allowed",
            "evidence.c1.0.type",
        ),
        ({"c1": [pdf] * 6}, 422, "too_long", "evidence.c1"),
        ({"c9": [pdf]}, 409, "unknown_section", "evidence.c9"),
    ]
    for evidence, status, code, field in bad:
        r = await api.post(f"{BASE}/commands", json=score(evidence), headers=auth("t-khdt"))
        body = r.json()
        assert r.status_code == status, r.text
        rules = {body["code"], *(e["rule"] for e in body.get("errors", []))}
        assert code in rules or code in body["message"], r.text
        assert body["field"] == field, r.text
    assert (
        len(await store.read_stream(cycle_key("kg-khoi-2", 2018, services.cycles.prefix)[1]))
        == before
        == 3
    )  # started, signed, pledge closed


async def test_the_event_names_the_files_and_who_may_open_them(
    api: httpx.AsyncClient, services: Services, store: EventStore, tmp_path: Path
) -> None:
    await scoring(api)
    pdf = (await upload(api, PDF, "Quyết định.pdf")).json()
    doc_data = docx_bytes()
    doc = (await upload(api, doc_data, "Báo cáo.docx")).json()
    r = await api.post(
        f"{BASE}/commands", json=score({"c1": [pdf], "c3": [doc]}), headers=auth("t-khdt")
    )
    assert r.status_code == 200, r.text
    stream = cycle_key("kg-khoi-2", 2018, services.cycles.prefix)[1]
    event = (await store.read_stream(stream))[-1]
    assert event.type == "self_score_submitted"
    assert event.data["evidence"] == {"c1": [pdf], "c3": [doc]}  # hash, name, size, type
    assert "PDF-1.4" not in json.dumps(event.data)  # never the bytes

    url = f"{BASE}/evidence/{doc['sha256']}"
    for token in ("t-khdt", "t-head", "t-audit", "t-admin"):
        got = await api.get(url, headers=auth(token))
        assert got.status_code == 200, (token, got.text)
        assert got.content == doc_data
        assert got.headers["content-type"] == doc["type"]
        assert got.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")
    inline = await api.get(f"{BASE}/evidence/{pdf['sha256']}", headers=auth("t-head"))
    assert inline.headers["content-disposition"].startswith("inline")
    denied = await api.get(url, headers=auth("t-noivu"))
    assert denied.status_code == 403 and denied.json()["code"] == "not_authorized"
    assert doc_data not in denied.content
    assert (await api.get(url)).status_code == 401
    # stored, but attached by no self-score of this cycle: not found; nor a non-hash
    png = (await upload(api, PNG, "khac.png")).json()
    for sha in (png["sha256"], "x" * 64, "abc"):
        r = await api.get(f"{BASE}/evidence/{sha}", headers=auth("t-audit"))
        assert r.status_code == 404 and r.json()["code"] == "unknown_evidence", r.text

    # the audit: intact, then a changed file and a missing one are findings
    audit = (await api.get(f"{BASE}/audit", headers=auth("t-audit"))).json()
    assert audit["findings"] == [] and audit["problems"] == []
    export = await api.get(f"{BASE}/export.zip", headers=auth("t-audit"))
    assert export.status_code == 200
    check = verify_export(export.content)
    assert check.ok, check.problems
    with zipfile.ZipFile(io.BytesIO(export.content)) as z:
        assert z.read(f"evidence/{doc['sha256']}") == doc_data
    zip_path = tmp_path / "export.zip"
    zip_path.write_bytes(export.content)
    done = run_verify_py(zip_path, tmp_path)
    assert done.returncode == 0 and "2 evidence files intact" in done.stdout, done.stdout

    ev_store: FileEvidenceStore = services.evidence
    path = ev_store.path(doc["sha256"])
    path.chmod(0o640)
    path.write_bytes(doc_data.replace(b"word/", b"WORD/", 1))
    ev_store.path(pdf["sha256"]).unlink()
    findings = (await api.get(f"{BASE}/audit", headers=auth("t-audit"))).json()["findings"]
    assert any(
        "evidence_altered" in f and doc["sha256"] in f and "section c3" in f for f in findings
    ), findings
    assert any("evidence_missing" in f and pdf["sha256"] in f for f in findings), findings
    r = await api.get(url, headers=auth("t-audit"))
    assert r.status_code == 409 and r.json()["code"] == "evidence_altered"
    # and the verification of every stream (`audit verify --all`) names the cycle's stream
    every = (await api.get("/audit/verify", headers=auth("t-audit"))).json()
    mine = [f["problem"] for f in every["failures"] if f["stream"] == stream]
    assert len(mine) == 1 and "evidence_" in mine[0] and "section c" in mine[0], every


def test_the_file_store_writes_whole_files_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Content-addressed, written to a temporary file and renamed: a failed rename leaves
    neither a partial file nor a temporary one; the same bytes again write nothing; a file
    there with other bytes is replaced by the right ones."""
    store = FileEvidenceStore(tmp_path / "evidence")
    sha = hashlib.sha256(PDF).hexdigest()
    calls = []

    def failing(src: str, dst: object) -> None:
        calls.append(dst)
        raise OSError("disk full")

    with monkeypatch.context() as m:
        m.setattr(os, "replace", failing)
        with pytest.raises(OSError, match="disk full"):
            store.put(PDF)
    assert calls == [store.path(sha)]  # the fault happened, at the rename
    assert not store.has(sha)
    assert [p for p in (tmp_path / "evidence").rglob("*") if p.is_file()] == []

    assert store.put(PDF) == sha and store.get(sha) == PDF
    mtime = store.path(sha).stat().st_mtime_ns
    assert store.put(PDF) == sha and store.path(sha).stat().st_mtime_ns == mtime
    store.path(sha).chmod(0o640)
    store.path(sha).write_bytes(b"%PDF-altered")
    assert store.put(PDF) == sha and store.get(sha) == PDF
    assert store.get("0" * 64) is None
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")
