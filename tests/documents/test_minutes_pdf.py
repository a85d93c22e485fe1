"""The minutes as PDF/A-3b: read back with poppler's tools and pyHanko's reader, as someone
holding only the file would. The PDF and a PNG of page 1 are left in /tmp/thidua-minutes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from app.documents import ATTACHMENT_NAME, check_minutes, minutes_pdf, record_uri

from .conftest import OUT, Record, chain, record_of, scenario

pytestmark = pytest.mark.pure


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: install poppler-utils (see README, .ci/run)")
    return path


def pdftotext(pdf: Path, page: int | None = None) -> str:
    args = [tool("pdftotext")]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    out = subprocess.run([*args, str(pdf), "-"], capture_output=True, check=True).stdout
    return " ".join(out.decode("utf-8").split())


def pages(pdf: Path) -> int:
    info = subprocess.run([tool("pdfinfo"), str(pdf)], capture_output=True, check=True).stdout
    match = re.search(rb"^Pages:\s+(\d+)", info, re.M)
    assert match is not None
    return int(match.group(1))


@pytest.fixture(scope="module")
def text(reference_pdf: Path) -> str:
    return pdftotext(reference_pdf)


@pytest.fixture(scope="module")
def page1_png(reference_pdf: Path) -> Path:
    prefix = OUT / "minutes-page"
    subprocess.run(
        [
            tool("pdftoppm"),
            "-png",
            "-r",
            "150",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(reference_pdf),
            str(prefix),
        ],
        check=True,
    )
    return prefix.with_suffix(".png")


def test_the_pdf_shows_the_reference_figures_in_vietnamese(text: str) -> None:
    for figure in ("983,5", "976", "949", "7/8", "85,71%"):
        assert figure in text
    assert "cần ít nhất 6/8" in text
    assert "Khối trưởng năm 2019: Sở Kế hoạch và Đầu tư" in text
    assert "Khối phó năm 2019: Văn phòng Đoàn ĐBQH tỉnh" in text
    assert "BIÊN BẢN KIỂM PHIẾU" in text and "HỘI NGHỊ TỔNG KẾT" in text
    assert "có kết luận của Tòa án" in text


def test_every_page_s_footer_names_the_stream_version_and_head_hash(
    reference_pdf: Path, reference: Record
) -> None:
    n = pages(reference_pdf)
    assert n >= 3  # one part per page at least
    for page in range(1, n + 1):
        words = pdftotext(reference_pdf, page)
        assert f"Luồng sự kiện: {reference.stream}" in words, page
        assert f"Phiên bản cuối: {reference.head_version}" in words, page
        assert reference.head_hash.hex() in words, page
        assert f"Trang {page}/{n}" in words


def test_the_qr_code_decodes_to_the_record(page1_png: Path, reference: Record) -> None:
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        pytest.skip("zbarimg (zbar-tools) is not installed")
    out = subprocess.run(
        [zbarimg, "--raw", "-q", str(page1_png)], capture_output=True, check=True
    ).stdout.decode()
    assert out.strip() == record_uri(reference.stream, reference.head_version, reference.head_hash)


def test_the_fonts_are_embedded_and_vietnamese_text_survives(reference_pdf: Path) -> None:
    out = subprocess.run(
        [tool("pdffonts"), str(reference_pdf)], capture_output=True, check=True
    ).stdout.decode()
    rows = out.splitlines()[2:]
    assert rows, out
    for row in rows:
        assert "DejaVu-Serif" in row, row
        # columns: name type encoding emb sub uni object ID
        assert re.search(r"\byes\s+yes\s+yes\b", row), row
    assert "Văn phòng Điều phối nông thôn mới" in pdftotext(reference_pdf)


def test_the_pdf_declares_pdf_a_3b(reference_pdf: Path) -> None:
    reader = PdfFileReader(BytesIO(reference_pdf.read_bytes()))
    xmp = reader.root["/Metadata"].get_object().data.decode("utf-8")
    assert re.search(r"pdfaid:part(=\"|>)3", xmp), xmp
    assert re.search(r"pdfaid:conformance(=\"|>)B", xmp), xmp
    intents = reader.root["/OutputIntents"]
    assert intents[0].get_object()["/S"] == "/GTS_PDFA1"


def test_the_events_are_attached_and_their_chain_reaches_the_footer_s_hash(
    reference_pdf: Path, reference: Record
) -> None:
    reader = PdfFileReader(BytesIO(reference_pdf.read_bytes()))
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    files = {str(names[i]): names[i + 1].get_object() for i in range(0, len(names), 2)}
    assert ATTACHMENT_NAME in files
    spec = files[ATTACHMENT_NAME]
    assert spec["/AFRelationship"] == "/Source"
    data = spec["/EF"]["/F"].get_object().data
    lines = data.splitlines()
    assert len(lines) == reference.head_version
    parsed = [json.loads(line) for line in lines]
    assert [p["type"] for p in parsed] == [e.type for e in reference.events]
    assert [p["version"] for p in parsed] == list(range(1, reference.head_version + 1))
    assert {p["stream"] for p in parsed} == {reference.stream}
    # Anyone holding only the PDF can recompute the chain up to the hash printed on every page.
    assert chain(data) == reference.head_hash
    assert chain(data.replace(b"983.5", b"993.5")) != reference.head_hash


def test_the_page_image_is_left_for_people_to_look_at(page1_png: Path) -> None:
    assert page1_png.stat().st_size > 10_000
    assert page1_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_same_record_gives_the_same_pdf_bytes() -> None:
    rec = record_of(scenario("cancelled"))
    first = minutes_pdf(rec.events, **rec.kw)  # type: ignore[arg-type]
    assert minutes_pdf(rec.events, **rec.kw) == first  # type: ignore[arg-type]
    other = Record(rec.events, rec.stream, rec.head_version, bytes(32))
    assert minutes_pdf(other.events, **other.kw) != first  # type: ignore[arg-type]


def test_the_pdf_checks_itself_the_named_record_is_rebuilt_by_its_events(
    reference_pdf: Path, reference: Record
) -> None:
    check = check_minutes(reference_pdf.read_bytes())
    assert check.ok, check.problems
    assert (check.stream, check.head_version, check.head_hash) == (
        reference.stream,
        reference.head_version,
        reference.head_hash.hex(),
    )
    assert check.events == len(reference.events)


def test_a_pdf_naming_a_head_its_events_do_not_rebuild_fails_the_check() -> None:
    rec = record_of(scenario("cancelled"))
    wrong = minutes_pdf(
        rec.events, stream=rec.stream, head_version=rec.head_version, head_hash=bytes(32)
    )
    check = check_minutes(wrong)
    assert check.problems == ["the attached events do not rebuild the head hash the PDF names"]
    assert not check_minutes(b"%PDF-1.7 nothing").ok
