"""`thidua audit export | verify-export | verify --all` as an auditor runs them (subprocesses)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from domain.codec import to_record
from eventstore import EventStore
from tests.eventstore.cycles import reference_events
from tests.eventstore.test_integrity import tamper

from .test_export import reference_stream, run_verify_py, zip_of

pytestmark = pytest.mark.db

ROOT = Path(__file__).parents[2]
THIDUA = [str(Path(sys.executable).parent / "thidua")]


def thidua(db_url: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TEMPORAL_ADDRESS"}
    env.update(DATABASE_URL=db_url, THIDUA_HOME=str(home))
    return subprocess.run(
        [*THIDUA, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


async def test_export_then_verify_export_and_verify_all(
    db_url: str, store: EventStore, tmp_path: Path
) -> None:
    stream = await reference_stream(store)
    out = tmp_path / "cycle.zip"
    done = thidua(db_url, tmp_path, "audit", "export", "x", "2018", str(out), "--stream", stream)
    assert done.returncode == 0, done.stderr
    assert f"events of {stream}" in done.stdout
    assert "no minutes PDF" not in done.stdout  # made by app.documents.minutes
    done = thidua(db_url, tmp_path, "audit", "verify-export", str(out), "--against-store")
    assert done.returncode == 0, done.stderr
    assert "chain intact" in done.stdout
    done = thidua(db_url, tmp_path, "audit", "verify", "--all", "--year", "2018")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "every stream verifies" in done.stdout
    done = thidua(db_url, tmp_path, "audit", "export", "x", "2018", str(out), "--stream", "nope")
    assert done.returncode == 1 and "unknown_stream" in done.stderr


async def test_verify_all_names_the_failing_stream(
    db_url: str, store: EventStore, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    stream = f"cycle-c{uuid.uuid4().hex[:6]}-2033"
    records = [to_record(e) for e in reference_events()][:5]
    await store.append(stream, 0, records)
    await tamper(
        pool,
        f"UPDATE events SET body = NULL, data = jsonb_set(data, '{{x}}', '1')"
        f" WHERE stream = '{stream}' AND version = 3",
    )
    done = thidua(db_url, tmp_path, "audit", "verify", "--all", "--year", "2033")
    assert done.returncode == 1, done.stdout
    assert f"failing: {stream}" in " ".join(done.stderr.split()), done.stderr
    # BLOCK YEAR and --all together: a usage error, nothing verified
    done = thidua(db_url, tmp_path, "audit", "verify", "x", "2033", "--all")
    assert done.returncode == 2 and "--all" in done.stderr


async def test_a_zip_bomb_is_refused_by_verify_export_and_by_verify_py(
    db_url: str, tmp_path: Path
) -> None:
    """The bounds of verify.py, in `thidua audit verify-export` (also with --against-store:
    refused before the store is asked) and in the shipped verify.py: one line, exit 2."""
    from app.audit.export import _script

    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(
        zip_of(
            {
                "manifest.json": b"{}",
                "events.jsonl": 200 * 2**20,
                "hashes.txt": b"",
                "verify.py": _script(),
            }
        )
    )
    for more in ((), ("--against-store",)):
        done = thidua(db_url, tmp_path, "audit", "verify-export", str(bomb), *more)
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.strip().splitlines() == [
            "cannot check (member_too_large): events.jsonl unpacks to 200 MB, more than 64 MB"
        ]
    done = run_verify_py(bomb, tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == "CANNOT CHECK: events.jsonl unpacks to 200 MB, more than 64 MB\n"
    # not a zip at all: cannot check either, one line
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"%PDF-1.4 not a zip")
    done = thidua(db_url, tmp_path, "audit", "verify-export", str(junk))
    assert done.returncode == 2 and done.stderr.strip().endswith("not a zip file"), done.stderr
