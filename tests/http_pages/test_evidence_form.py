"""The self-score form's evidence fields driven like a browser (multipart, the CSRF token) on
the real stack: each refused file named next to its section with the rule's sentence, nothing
stored and nothing written; accepted files kept across a new self-score; the form's own body
limit."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from app.bootstrap import Services
from tests.app.test_evidence import PDF, PNG, docx_bytes, fake_docx
from workflows.messages import cycle_key

from .conftest import REFERENCE, Browser, csrf_of
from .test_pages import BASE, events, post, start_reference

pytestmark = pytest.mark.temporal

TITLES = {
    s["id"]: s["title"] for s in json.loads(REFERENCE.read_text("utf-8"))["score_sheet"]["sections"]
}
SCORES = {
    "do": "submit_self_score",
    "sections.c1": "580",
    "sections.c2": "190",
    "sections.c3": "195",
}


async def send(
    c: httpx.AsyncClient, files: list[tuple[str, tuple[str, bytes, str]]], **more: object
) -> httpx.Response:
    page = await c.get(f"{BASE}/tu-cham-diem")
    assert page.status_code == 200, page.text
    assert 'enctype="multipart/form-data"' in page.text
    return await c.post(
        f"{BASE}/tu-cham-diem",
        files=files,
        data={"csrf_token": csrf_of(page.text), **SCORES, **more},
    )


def stored(site: Services) -> list[str]:
    root = site.settings.evidence_path
    return sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def test_refused_files_are_named_by_section_and_accepted_ones_kept(
    browser: Browser, site: Services
) -> None:
    await start_reference(await browser("qt-admin"))
    khdt, head = await browser("nv-so-khdt"), await browser("nv-so-ngoai-vu")
    assert (
        await post(khdt, f"{BASE}/giao-uoc", {"do": "sign_pledge", "confirm": "1"})
    ).status_code == 303
    assert (
        await post(head, f"{BASE}/dieu-hanh", {"do": "close_pledge", "confirm": "1", "note": "Thử"})
    ).status_code == 303

    before = await events(site)
    pdf = ("evidence.c1", ("quyet-dinh.pdf", PDF, "application/pdf"))
    cases = [
        (
            [pdf, ("evidence.c2", ("bao-cao.pdf", b"plain text", "application/pdf"))],
            "evidence.c2",
            "evidence_type_not_allowed",
            "Nội dung 2",
        ),
        (
            [pdf, ("evidence.c3", ("bao-cao.docx", fake_docx(), "application/msword"))],
            "evidence.c3",
            "evidence_damaged",
            "Nội dung 3",
        ),
        (
            [("evidence.c1", (f"anh-{i}.png", PNG + bytes([i]), "image/png")) for i in range(6)],
            "evidence.c1",
            "too_many_evidence",
            "Nội dung 1",
        ),
        (
            [("evidence.c1", ("lon.pdf", PDF + bytes(10 * 2**20), "application/pdf"))],
            "evidence.c1",
            "evidence_too_large",
            "Nội dung 1",
        ),
    ]
    for files, field, code, _ in cases:
        r = await send(khdt, files)
        assert r.status_code == 409, r.text[-2000:]
        error = f'id="err-submit_self_score-{field.replace(".", "-")}" data-code="{code}"'
        assert error in r.text, (code, r.text[-3000:])
        sid = field.split(".")[1]
        assert f'role="alert">Minh chứng của mục “{TITLES[sid]}”: ' in r.text, r.text[-3000:]
        assert "bao-cao" not in r.text and "anh-5" not in r.text  # nothing echoed
        assert await events(site) == before
        assert stored(site) == []  # not even the good file of the same form

    # two good files: stored and named; sent again with one kept and one new
    doc = docx_bytes()
    r = await send(khdt, [pdf, ("evidence.c3", ("Báo cáo.docx", doc, "application/msword"))])
    assert r.status_code == 303, r.text[-2000:]
    assert await events(site) == before + 1
    assert len(stored(site)) == 2
    page = (await khdt.get(f"{BASE}/tu-cham-diem")).text
    sha_pdf, sha_doc = hashlib.sha256(PDF).hexdigest(), hashlib.sha256(doc).hexdigest()
    assert f'name="keep.c1" value="{sha_pdf}" checked' in page and "Báo cáo.docx" in page
    r = await send(khdt, [("evidence.c2", ("anh.png", PNG, "image/png"))], **{"keep.c1": sha_pdf})
    assert r.status_code == 303, r.text[-2000:]
    stream = cycle_key("kg-khoi-2", 2018, site.cycles.prefix)[1]
    last = (await site.store.read_stream(stream))[-1]
    assert {s: [f["name"] for f in fs] for s, fs in last.data["evidence"].items()} == {
        "c1": ["quyet-dinh.pdf"],
        "c2": ["anh.png"],
    }
    # the head's console links them
    console = (await head.get(f"{BASE}/dieu-hanh")).text
    assert f'href="/cycles/kg-khoi-2/2018/evidence/{sha_pdf}"' in console
    assert sha_doc not in console  # dropped by the unit's latest self-score


async def test_the_forms_body_limit_is_its_own(browser: Browser, site: Services) -> None:
    await start_reference(await browser("qt-admin"))
    khdt = await browser("nv-so-khdt")
    page = await khdt.get(f"{BASE}/giao-uoc")
    r = await khdt.post(
        f"{BASE}/tu-cham-diem",
        content=b"x",
        headers={
            "Content-Length": str(61 * 2**20),
            "Content-Type": "multipart/form-data; boundary=x",
            "X-CSRF-Token": csrf_of(page.text),
        },
    )
    assert r.status_code == 413 and r.json()["code"] == "body_too_large", r.text
