"""The minutes of a stored cycle, through what the CLI and the HTTP API call, on the real
PostgreSQL of tests/conftest.py: the events attached to the PDF rebuild exactly the chain the
store computed, so the footer's hash is the store's own."""

from __future__ import annotations

import asyncio
import json
import uuid
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from typer.testing import CliRunner, Result

from app.cli import app as cli
from app.documents import ATTACHMENT_NAME
from app.documents.record import stored_minutes
from domain.codec import to_record
from domain.errors import DomainError
from eventstore import EventStore

from .conftest import Record, chain, record_of, scenario
from .test_signing import PASSWORD, make_authority, trust

pytestmark = pytest.mark.db


async def put(store: EventStore, rec: Record) -> str:
    """The record's events appended to a fresh stream; returns the stream."""
    stream = f"t{uuid.uuid4().hex[:8]}:{rec.stream}"
    await store.append(stream, 0, [to_record(e) for e in rec.events])
    return stream


def attachment(pdf: bytes) -> bytes:
    names = PdfFileReader(BytesIO(pdf)).root["/Names"]["/EmbeddedFiles"]["/Names"]
    files = {str(names[i]): names[i + 1].get_object() for i in range(0, len(names), 2)}
    return files[ATTACHMENT_NAME]["/EF"]["/F"].get_object().data


async def test_the_pdf_s_events_rebuild_the_store_s_chain(
    store: EventStore, reference: Record
) -> None:
    stream = await put(store, reference)
    stored = (await store.replay(stream)).report
    pdf = await stored_minutes(store, stream)
    assert pdf.startswith(b"%PDF-")
    assert await stored_minutes(store, stream) is pdf  # the same head: not laid out again
    data = attachment(pdf)
    assert chain(data) == stored.head_hash
    assert [json.loads(line)["stream"] for line in data.splitlines()] == [stream] * stored.events
    html = (await stored_minutes(store, stream, html=True)).decode("utf-8")
    assert stored.head_hash.hex() in html and stream in html


async def test_an_unknown_stream_has_no_minutes(store: EventStore) -> None:
    with pytest.raises(DomainError) as err:
        await stored_minutes(store, "cycle-nobody-2018", html=True)
    assert err.value.code == "unknown_stream"


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


async def invoke(runner: CliRunner, args: list[str], env: dict[str, str]) -> Result:
    """The CLI in a thread of its own: it runs its own event loop, as from a terminal."""
    return await asyncio.to_thread(runner.invoke, cli, args, env=env)


def cli_env(db_url: str, **extra: str) -> dict[str, str]:
    env = {"DATABASE_URL": db_url, "THIDUA_SIGN_P12": "", "THIDUA_SIGN_P12_PASSWORD": ""}
    env.update(extra)
    return env


async def test_thidua_audit_minutes_writes_the_html_and_a_signed_pdf(
    store: EventStore, db_url: str, runner: CliRunner, tmp_path: Path
) -> None:
    rec = record_of(scenario("cancelled"))
    stream = await put(store, rec)
    out = tmp_path / "bien-ban.html"
    res = await invoke(
        runner,
        ["audit", "minutes", "x", "2018", str(out), "--html", "--stream", stream],
        cli_env(db_url),
    )
    assert res.exit_code == 0, res.output
    assert "Kỳ thi đua đã hủy" in out.read_text("utf-8")

    ca = make_authority(tmp_path, "cli")
    pdf = tmp_path / "bien-ban.pdf"
    env = cli_env(db_url, THIDUA_SIGN_P12=str(ca.p12), THIDUA_SIGN_P12_PASSWORD=PASSWORD)
    res = await invoke(runner, ["audit", "minutes", "x", "2018", str(pdf), "--stream", stream], env)
    assert res.exit_code == 0, res.output
    assert "(signed)" in res.output
    (sig,) = PdfFileReader(BytesIO(pdf.read_bytes())).embedded_signatures
    status = await async_validate_pdf_signature(sig, trust(ca.root))
    assert status.intact and status.valid and status.trusted


async def test_a_wrong_signing_password_is_one_line_without_the_password(
    db_url: str, runner: CliRunner, tmp_path: Path
) -> None:
    ca = make_authority(tmp_path, "bad")
    env = cli_env(db_url, THIDUA_SIGN_P12=str(ca.p12), THIDUA_SIGN_P12_PASSWORD="không-đúng")
    res = await invoke(
        runner,
        ["audit", "minutes", "x", "2018", str(tmp_path / "m.pdf"), "--stream", "cycle-x-2018"],
        env,
    )
    assert res.exit_code == 2
    assert "signing_key_unreadable" in res.output
    assert "không-đúng" not in res.output
    assert not (tmp_path / "m.pdf").exists()


async def test_an_unknown_stream_is_rejected_by_the_cli(
    db_url: str, runner: CliRunner, tmp_path: Path
) -> None:
    res = await invoke(
        runner,
        ["audit", "minutes", "nobody", "2018", str(tmp_path / "m.html"), "--html"],
        cli_env(db_url),
    )
    assert res.exit_code == 1
    assert "unknown_stream" in res.output
    assert not (tmp_path / "m.html").exists()
