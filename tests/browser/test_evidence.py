"""Evidence (minh chứng) in a real browser, through the pages: a unit attaches two files to
its self-score (a file that only calls itself a PDF is refused next to its section, nothing
written); the event names them, the store holds them by their SHA-256 under THIDUA_HOME; the
head opens them from the console, another unit cannot; the auditors' export carries them and
its own verify.py checks them offline; a stored file changed afterwards is named by `thidua
audit verify`."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from docx import Document
from playwright.sync_api import expect

from tests.audit.test_export import run_verify_py

from .conftest import NAME, THIDUA, Login, Shot, Stack, _env
from .helpers import fill_sections, go, scenario_for, section_titles, sent, sign, start_cycle

pytestmark = [pytest.mark.browser, pytest.mark.temporal]

BLOCK, YEAR = "kg-khoi-2", 2021
PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
    b"% Quyet dinh khen thuong\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)


def docx_bytes() -> bytes:
    doc = Document()
    doc.add_paragraph("Báo cáo kết quả thực hiện nhiệm vụ chính trị năm 2021")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def test_a_unit_attaches_two_files_the_export_verifies_and_a_changed_file_is_named(
    stack: Stack, login: Login, tmp_path: Path, shot: Shot
) -> None:
    admin = login("admin")
    base = start_cycle(admin, scenario_for(YEAR, tmp_path))
    khdt, head = login("so-khdt"), login("so-ngoai-vu")
    sign(khdt, base)
    go(head, f"{base}/dieu-hanh")
    head.get_by_role("button", name="Kết thúc ký giao ước", exact=True).click()
    # an early close (1/8 signed) asks first, with a reason (tests/browser/test_forms.py)
    head.get_by_label("Lý do (bắt buộc)").fill("Thử minh chứng")
    head.get_by_role("button", name="Xác nhận: Kết thúc ký giao ước").click()
    sent(head, "close_pledge")

    pdf = tmp_path / "Quyết định khen thưởng 2021.pdf"
    pdf.write_bytes(PDF)
    report = tmp_path / "Báo cáo kết quả.docx"
    report.write_bytes(docx_bytes())
    fake = tmp_path / "Giấy khen.pdf"
    fake.write_bytes(b"MZ\x90\x00 a program, not a PDF" + bytes(64))

    go(khdt, f"{base}/tu-cham-diem")
    scores = {"c1": "580", "c2": "190", "c3": "195,5"}
    title = section_titles()["c1"]
    files = khdt.locator("#submit_self_score-c1-evidence")

    # a file that is a PDF by its name only: refused next to its section, nothing written
    before = stack.event_count(BLOCK, YEAR)
    fill_sections(khdt, scores)
    files.set_input_files([str(fake)])
    with khdt.expect_response(lambda r: r.request.method == "POST") as posted:
        khdt.get_by_role("button", name="Gửi bản tự chấm điểm").click()
    # Post/Redirect/Get: the refused post answers with a redirect to the page with its errors
    assert posted.value.status == 303
    khdt.wait_for_url(lambda u: "loi=" in u)
    error = khdt.locator('[data-code="evidence_type_not_allowed"]')
    expect(error).to_be_visible()
    expect(error).to_contain_text(f"Minh chứng của mục “{title}”")
    expect(error).to_contain_text("theo nội dung, không theo tên")
    assert "Giấy khen" not in khdt.content()  # the input is not echoed
    assert stack.event_count(BLOCK, YEAR) == before
    assert not (stack.home / "evidence").exists() or not any(
        p.is_file() for p in (stack.home / "evidence").rglob("*")
    )
    shot(khdt, "evidence-refused")

    # two files on the first section: accepted, stored by their hash, named by the event
    fill_sections(khdt, scores)
    files = khdt.locator("#submit_self_score-c1-evidence")
    files.set_input_files([str(pdf), str(report)])
    khdt.get_by_role("button", name="Gửi bản tự chấm điểm").click()
    sent(khdt, "submit_self_score")
    kind, data = stack.events(BLOCK, YEAR)[-1]
    assert kind == "self_score_submitted"
    attached = data["evidence"]["c1"]
    docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert [(f["name"], f["size"], f["type"]) for f in attached] == [
        (pdf.name, len(PDF), "application/pdf"),
        (report.name, report.stat().st_size, docx_type),
    ]
    for f, path in zip(attached, (pdf, report), strict=True):
        assert f["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        stored = stack.home / "evidence" / f["sha256"][:2] / f["sha256"][2:]
        assert stored.read_bytes() == path.read_bytes()
    assert set(data["evidence"]) == {"c1"}

    # the form again keeps them (links the unit opens); the head sees them on the console
    go(khdt, f"{base}/tu-cham-diem")
    expect(khdt.get_by_role("link", name=pdf.name)).to_be_visible()
    go(head, f"{base}/dieu-hanh")
    form = head.get_by_role("form", name=f"Thẩm định điểm của {NAME['so-khdt']}")
    link = form.get_by_role("link", name=report.name)
    expect(link).to_be_visible()
    shot(head, "evidence-console")
    href = link.get_attribute("href") or ""
    opened = head.request.get(href)
    assert opened.status == 200 and opened.body() == report.read_bytes()
    assert opened.headers["content-type"] == docx_type
    other = login("so-noi-vu")
    denied = other.request.get(href)
    assert denied.status == 403 and denied.json()["code"] == "not_authorized"

    # the auditors' export carries the files; its verify.py checks them offline
    auditor = login("auditor")
    export = auditor.request.get(f"/cycles/{BLOCK}/{YEAR}/export.zip")
    assert export.status == 200
    zip_path = tmp_path / "export.zip"
    zip_path.write_bytes(export.body())
    with zipfile.ZipFile(zip_path) as z:
        for f, path in zip(attached, (pdf, report), strict=True):
            assert z.read(f"evidence/{f['sha256']}") == path.read_bytes()
        manifest = json.loads(z.read("manifest.json"))
    assert {f["name"] for f in manifest["evidence"]} == {pdf.name, report.name}
    done = run_verify_py(zip_path, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 evidence files intact" in done.stdout, done.stdout

    # one stored file changed: `thidua audit verify` names it (and exits 1)
    verify = [*THIDUA, "audit", "verify", BLOCK, str(YEAR)]
    env = {**_env(stack.home), "COLUMNS": "400"}
    ok = subprocess.run(verify, env=env, capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    changed = stack.home / "evidence" / attached[1]["sha256"][:2] / attached[1]["sha256"][2:]
    changed.chmod(0o640)
    changed.write_bytes(changed.read_bytes() + b"\n")
    bad = subprocess.run(verify, env=env, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    named = " ".join(bad.stderr.split())
    assert "evidence_altered" in named and attached[1]["sha256"] in named, bad.stderr
    assert report.name in named and attached[0]["sha256"] not in named, bad.stderr
