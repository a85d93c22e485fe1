"""`thidua audit checkpoint show|verify|write` and `audit verify --all` against the witness, as an
operator runs them (subprocesses, real PostgreSQL): bad input is one line, exit 1 for a finding,
2 when the witness cannot be checked; an empty store that a checkpoint knows fails; --parse
reads block and person streams as their own kinds."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from app.audit import verify_all
from app.blocks import BlockService
from domain.codec import EventRecord, to_record
from domain.province import BlockProposals, ProposalsCompiled, ProvinceProposals
from domain.setup import Block, Member
from domain.values import Actor
from eventstore import EventStore
from tests.eventstore.cycles import reference_events
from tests.eventstore.test_integrity import tamper

pytestmark = pytest.mark.db

ROOT = Path(__file__).parents[2]
THIDUA = [str(Path(sys.executable).parent / "thidua")]


def thidua(db_url: str, home: Path, *args: str, **more: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("TEMPORAL_ADDRESS", "THIDUA_WITNESS_DIR")
    }
    env.update(DATABASE_URL=db_url, THIDUA_HOME=str(home), **more)
    return subprocess.run(
        [*THIDUA, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


def fresh(n: int, start: int = 0) -> list[EventRecord]:
    """Reference events start..n with ids of their own (every test its own stream)."""
    return [
        to_record(e).model_copy(update={"event_id": uuid.uuid4()})
        for e in reference_events()[start:n]
    ]


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


async def test_checkpoints_are_written_shown_checked_and_bad_ones_named(
    db_url: str, store: EventStore, tmp_path: Path
) -> None:
    stream = f"cycle-k{uuid.uuid4().hex[:6]}-2034"
    await store.append(stream, 0, fresh(5))
    done = thidua(db_url, tmp_path, "audit", "checkpoint", "show")
    assert done.returncode == 2 and "no witness checkpoints yet" in one_line(done.stderr)
    done = thidua(db_url, tmp_path, "audit", "checkpoint", "write")
    assert done.returncode == 0, done.stderr
    assert "signed with" in done.stdout and (tmp_path / "witness.key").exists()
    done = thidua(db_url, tmp_path, "audit", "checkpoint", "show")
    assert done.returncode == 0, done.stderr
    head, origin, size = done.stdout.splitlines()[:3]
    assert head.startswith("# witness") and origin == "thidua/witness" and int(size) >= 5
    assert "\n\n\u2014 thidua/witness " in done.stdout
    done = thidua(db_url, tmp_path, "audit", "checkpoint", "verify")
    assert done.returncode == 0 and "1 checkpoint(s) signed and consistent" in done.stdout
    # a second checkpoint after more events: consistent with the first
    await store.append(stream, 5, fresh(6, 5))
    assert thidua(db_url, tmp_path, "audit", "checkpoint", "write").returncode == 0
    done = thidua(db_url, tmp_path, "audit", "checkpoint", "verify")
    assert done.returncode == 0 and "2 checkpoint(s)" in done.stdout, done.stderr

    # a checkpoint changed after signing: a finding, exit 1, one line
    second = tmp_path / "witness" / "checkpoints" / "0000000002.txt"
    text = second.read_text()
    lines = text.split("\n")
    lines[1] = str(int(lines[1]) + 1)
    second.chmod(0o644)
    second.write_text("\n".join(lines))
    done = thidua(db_url, tmp_path, "audit", "checkpoint", "verify")
    assert done.returncode == 1
    assert "checkpoint 2: bad signature" in one_line(done.stderr)
    second.write_text(text)

    # another key than the checkpoints': cannot check, exit 2, one line
    key = tmp_path / "witness.key"
    original = key.read_bytes()
    key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
    )
    for args in (("checkpoint", "verify"), ("verify", "--all")):
        done = thidua(db_url, tmp_path, "audit", *args)
        assert done.returncode == 2, done.stderr
        assert "witness key mismatch" in one_line(done.stderr)
    key.write_bytes(original)

    # a witness the settings name that is not there: cannot check, exit 2
    missing = str(tmp_path / "nowhere")
    for args in (("checkpoint", "verify"), ("verify", "--all")):
        done = thidua(db_url, tmp_path, "audit", *args, THIDUA_WITNESS_DIR=missing)
        assert done.returncode == 2 and "missing witness" in one_line(done.stderr)
    # a key the settings name that is not there: cannot check, exit 2
    done = thidua(
        db_url,
        tmp_path,
        "audit",
        "checkpoint",
        "write",
        THIDUA_WITNESS_KEY=str(tmp_path / "no.key"),
    )
    assert done.returncode == 2 and "does not exist" in one_line(done.stderr)

    done = thidua(db_url, tmp_path, "audit", "verify", "--all")
    assert done.returncode == 0, done.stderr
    assert "against the signed checkpoint" in done.stdout


async def test_an_emptied_store_fails_against_the_checkpoint(
    db_url: str, store: EventStore, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    stream = f"cycle-e{uuid.uuid4().hex[:6]}-2035"
    await store.append(stream, 0, fresh(3))
    assert thidua(db_url, tmp_path, "audit", "checkpoint", "write").returncode == 0
    await tamper(pool, "DELETE FROM events")
    await pool.execute("DELETE FROM cycles")
    done = thidua(db_url, tmp_path, "audit", "verify", "--all")
    assert done.returncode == 1, done.stdout
    assert (
        f"failing: {stream}: the signed checkpoint holds 3 events of it (to version 3), "
        "the store none (a dropped stream)"
    ) in done.stderr


async def test_parse_reads_block_and_person_streams(store: EventStore, pool: asyncpg.Pool) -> None:
    tag = uuid.uuid4().hex[:6]
    block = Block(
        id=f"b{tag}",
        name="Khối thử",
        province="Hà Tĩnh",
        members=tuple(Member(id=u, name=f"Sở {u}") for u in ("a", "b", "c")),
        head="a",
        deputy="b",
    )
    await BlockService(store, pool).register(block)
    person = f"person-p{tag}"
    now = datetime.now(UTC)
    created = EventRecord(
        event_id=uuid.uuid4(),
        type="person_created",
        effective_at=now,
        actor=Actor.admin().model_dump(mode="json"),
        data={"login": f"p{tag}", "name": "An", "position": None, "role": "auditor", "unit": None},
    )
    await store.append(person, 0, [created])
    province = f"province-p{tag}-2018"
    compiled = ProposalsCompiled(
        event_id=uuid.uuid4(),
        at=now,
        actor=Actor.admin(),
        proposals=ProvinceProposals(
            province="Hà Tĩnh",
            year=2018,
            blocks=(
                BlockProposals(
                    block_id=block.id,
                    block_name=block.name,
                    cycle_id=f"{block.id}/2018",
                    status="cancelled",
                    cancel_reason="thử",
                ),
            ),
        ),
    )
    await store.append(province, 0, [to_record(compiled)])  # type: ignore[arg-type]
    failures = await verify_all(store, parse=True)
    assert [f for f in failures if tag in f.stream] == []
    assert {s for s in await store.streams() if tag in s} == {f"block-{block.id}", person, province}
    # an event that does not fold: named as unreadable, with the kind
    bad = created.model_copy(update={"event_id": uuid.uuid4(), "type": "person_renamed"})
    await store.append(person, 1, [bad])
    failures = [f for f in await verify_all(store, parse=True) if tag in f.stream]
    assert [
        (f.stream, f.report.first.kind, f.report.first.version) for f in failures if f.report.first
    ] == [(person, "unreadable", 2)]
    assert "person event" in failures[0].report.first.detail  # type: ignore[union-attr]


async def test_the_minutes_record_carries_the_checkpoint_and_checks_against_the_witness(
    db_url: str, store: EventStore, tmp_path: Path
) -> None:
    import re

    from app.documents.check import check_minutes
    from app.documents.minutes import minutes_pdf
    from tests.audit.test_export import reference_stream

    stream = await reference_stream(store)
    assert thidua(db_url, tmp_path, "audit", "checkpoint", "write").returncode == 0
    out = tmp_path / "minutes.html"
    done = thidua(
        db_url, tmp_path, "audit", "minutes", "x", "2018", str(out), "--html", "--stream", stream
    )
    assert done.returncode == 0, done.stderr
    found = re.search(r'<meta name="keywords" content="([^"]+)">', out.read_text())
    assert found is not None
    record = found[1]
    assert record.startswith(f"thidua:{stream}@") and ";cp=" in record
    done = thidua(db_url, tmp_path, "audit", "checkpoint", "verify", "--record", record)
    assert done.returncode == 0 and "the record's checkpoint and head" in done.stdout, done.stderr
    size, root = record.rsplit(";cp=", 1)[1].split(":")
    forged = record.replace(root, "0" * 64)
    done = thidua(db_url, tmp_path, "audit", "checkpoint", "verify", "--record", forged)
    assert done.returncode == 1 and "another root" in one_line(done.stderr)
    done = thidua(db_url, tmp_path, "audit", "checkpoint", "verify", "--record", "thidua:x")
    assert done.returncode == 2 and "--record" in one_line(done.stderr)
    # the PDF's keywords (and QR code) name the same record; check_minutes reads it back
    replay = await store.replay(stream)
    pdf = minutes_pdf(
        replay.events,
        stream=stream,
        head_version=replay.report.head_version,
        head_hash=replay.report.head_hash,
        checkpoint=(int(size), bytes.fromhex(root)),
    )
    checked = check_minutes(pdf)
    assert checked.ok, checked.problems
    assert checked.checkpoint == (int(size), root)
