"""Exports verify offline (verify.py in a subprocess, standard library only) and in Python;
tampering in the zip or in the database is named at the right line and version."""

from __future__ import annotations

import io
import subprocess
import sys
import tracemalloc
import uuid
import zipfile
from pathlib import Path

import asyncpg
import pytest

from app.audit import compare_with_store, export_cycle, verify_export
from domain.codec import to_record
from eventstore import EventStore
from tests.eventstore.cycles import reference_events
from tests.eventstore.test_integrity import tamper

pytestmark = pytest.mark.db

PDF = b"%PDF-1.4\n% the minutes\n"


async def reference_stream(store: EventStore) -> str:
    stream = f"cycle-t{uuid.uuid4().hex[:8]}-2018"
    records = [to_record(e) for e in reference_events(unique_ids=True)]
    for start in range(0, len(records), 20):
        await store.append(stream, start, records[start : start + 20])
    return stream


def run_verify_py(zip_path: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """verify.py as an auditor runs it: extracted from the zip, a bare python3 (-I: no site
    packages, no PYTHONPATH, not our venv's modules)."""
    script = tmp_path / "verify.py"
    with zipfile.ZipFile(zip_path) as z:
        script.write_bytes(z.read("verify.py"))
    return subprocess.run(
        [sys.executable, "-I", str(script), str(zip_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )


def rewrite_member(zip_path: Path, name: str, change: bytes, into: bytes) -> None:
    with zipfile.ZipFile(zip_path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    assert change in members[name]
    members[name] = members[name].replace(change, into, 1)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    zip_path.write_bytes(buf.getvalue())


def zip_of(members: dict[str, bytes | int]) -> bytes:
    """A deflated zip; an int member is that many zero bytes, written 1 MB at a time (the test
    never holds it whole)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            if isinstance(data, bytes):
                z.writestr(name, data)
                continue
            with z.open(name, "w", force_zip64=False) as f:
                for _ in range(data // 2**20):
                    f.write(bytes(2**20))
    return buf.getvalue()


async def test_a_clean_export_verifies_both_ways(store: EventStore, tmp_path: Path) -> None:
    stream = await reference_stream(store)
    out = tmp_path / "export.zip"
    manifest = await export_cycle(store, stream, out, minutes_pdf=PDF)
    report = await store.verify(stream)
    assert manifest["count"] == report.events > 40
    assert manifest["last_hash"] == report.head_hash.hex()
    assert manifest["ruleset"] == {"id": "default", "version": 1}
    assert manifest["schema_versions"] == [1]
    check = verify_export(out)
    assert check.ok, check.problems
    assert (await compare_with_store(store, out)).ok
    done = run_verify_py(out, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{manifest['count']} events, chain intact" in done.stdout


async def test_the_minutes_hook_gets_the_replayed_events(store: EventStore, tmp_path: Path) -> None:
    stream = await reference_stream(store)
    seen: dict[str, object] = {}

    def minutes_pdf(
        events: list[object],
        *,
        stream: str,
        head_version: int,
        head_hash: bytes,
        sign: object = None,
    ) -> bytes:
        seen.update(n=len(events), stream=stream, head=head_version)
        return PDF

    out = tmp_path / "export.zip"
    manifest = await export_cycle(store, stream, out, minutes_pdf=minutes_pdf)
    assert seen == {"n": manifest["count"], "stream": stream, "head": manifest["count"]}
    assert verify_export(out).ok


@pytest.mark.parametrize("member", ["events.jsonl", "minutes.pdf"])
async def test_a_one_byte_change_in_the_zip_fails(
    store: EventStore, tmp_path: Path, member: str
) -> None:
    stream = await reference_stream(store)
    out = tmp_path / "export.zip"
    await export_cycle(store, stream, out, minutes_pdf=PDF)
    with zipfile.ZipFile(out) as z:
        lines = z.read("events.jsonl").split(b"\n")
    if member == "events.jsonl":
        # one byte of line 3 (a pledge): the unit's id
        line = lines[2]
        at = line.index(b'"unit":"') + len(b'"unit":"')
        rewrite_member(out, member, line, line[:at] + b"Z" + line[at + 1 :])
        expect = "line 3 (version 3)"
    else:
        rewrite_member(out, member, b"minutes", b"minuteZ")
        expect = "minutes.pdf"
    check = verify_export(out)
    assert not check.ok and check.problems[0].startswith(expect), check.problems
    done = run_verify_py(out, tmp_path)
    assert done.returncode == 1 and f"FAILED: {expect}" in done.stdout, done.stdout


_BODY_FROM_COLUMNS = (
    "convert_to(events_hashed_object(stream, version, event_id, type, schema_version, data,"
    " actor, effective_at, request_id)::text, 'UTF8')"
)
_TAMPER = {
    # an event's data changed, its body made to match (the CHECK holds); the hash is left
    "changed": (
        "UPDATE events SET data = jsonb_set(data, '{{unit}}', '\"zz\"'), body = NULL"
        " WHERE stream = '{s}' AND version = 5;"
        " UPDATE events SET body = " + _BODY_FROM_COLUMNS + " WHERE stream = '{s}' AND version = 5",
        "broken_link",
        5,
        "line 5 (version 5): ",
    ),
    "deleted": (
        "DELETE FROM events WHERE stream = '{s}' AND version = 4",
        "version_gap",
        4,
        "line 4 (version 4): holds version 5",
    ),
    # two events swap places: versions exchanged, bodies removed (rebuilt from the columns)
    "swapped": (
        "UPDATE events SET body = NULL WHERE stream = '{s}' AND version IN (6, 7);"
        " UPDATE events SET version = 1000 WHERE stream = '{s}' AND version = 6;"
        " UPDATE events SET version = 6 WHERE stream = '{s}' AND version = 7;"
        " UPDATE events SET version = 7 WHERE stream = '{s}' AND version = 1000",
        "broken_link",
        6,
        "line 6 (version 6): its hash",
    ),
}


@pytest.mark.parametrize("attack", list(_TAMPER))
async def test_tampering_in_the_database_is_found_by_verify_and_by_an_export(
    store: EventStore, pool: asyncpg.Pool, tmp_path: Path, attack: str
) -> None:
    stream = await reference_stream(store)
    sql, kind, version, line = _TAMPER[attack]
    await tamper(pool, sql.format(s=stream))
    report = await store.verify(stream)
    assert report.first is not None
    assert (report.first.kind, report.first.version) == (kind, version), report
    out = tmp_path / "export.zip"
    manifest = await export_cycle(store, stream, out)
    assert manifest["store_verdict"]["ok"] is False
    check = verify_export(out)
    assert not check.ok and check.problems[0].startswith(line), check.problems
    done = run_verify_py(out, tmp_path)
    assert done.returncode == 1 and f"FAILED: {line}" in done.stdout, done.stdout


async def test_a_deleted_tail_is_caught_by_an_older_export(
    store: EventStore, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    stream = await reference_stream(store)
    out = tmp_path / "before.zip"
    manifest = await export_cycle(store, stream, out)
    keep = manifest["count"] - 3
    await tamper(pool, f"DELETE FROM events WHERE stream = '{stream}' AND version > {keep}")
    assert (await store.verify(stream)).ok  # the shorter chain is intact on its own
    assert verify_export(out).ok  # and so is the export
    check = await compare_with_store(store, out)
    assert not check.ok
    assert f"ends at version {keep}" in check.problems[0], check.problems


def test_a_member_that_inflates_past_its_declared_size_is_cut_there(tmp_path: Path) -> None:
    """A zip that declares 1,000 bytes for a member of 100 MB: reading stops at the declared
    size (its CRC then fails), so the bounds checked on the declared sizes hold."""
    data = bytearray(
        zip_of({"manifest.json": b"{}", "events.jsonl": 100 * 2**20, "hashes.txt": b""})
    )
    lied = 0
    for signature, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local, central
        i = data.find(signature)
        while i >= 0:
            if int.from_bytes(data[i + at : i + at + 4], "little") == 100 * 2**20:
                data[i + at : i + at + 4] = (1000).to_bytes(4, "little")
                lied += 1
            i = data.find(signature, i + 4)
    assert lied == 2  # both headers now declare 1,000 bytes
    tracemalloc.start()
    try:
        check = verify_export(bytes(data))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert check.problems == ("unreadable export: Bad CRC-32 for file 'events.jsonl'",)
    assert peak < 50 * 2**20
