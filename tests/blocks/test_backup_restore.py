"""`thidua db backup` then `thidua db restore` into an empty database (the embedded one under a
new THIDUA_HOME): every event comes back, `audit verify --all` passes as the auditor."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from temporalio.worker import Worker

from app.blocks import BlockService
from app.client import CycleClient
from app.identity import Identity
from domain.commands import CancelCycle
from domain.values import Actor
from eventstore import EventStore, start_embedded, stop_embedded
from eventstore.bodies import body_check_in_place
from tests.app.devstack import THIDUA, user_env
from tests.workflows.helpers import reference

from .helpers import block_object, run_reference_steps
from .test_year import wait_opened

pytestmark = pytest.mark.temporal

_COUNTS = "SELECT stream, count(*) FROM events GROUP BY stream ORDER BY stream"


def thidua(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [THIDUA, *args], env=user_env(home, **extra), capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def new_home() -> Iterator[Path]:
    # not under pytest's tmp folder: as root, the embedded server (another user) must reach it
    home = Path(tempfile.mkdtemp(prefix="thidua-restored-"))
    try:
        yield home
    finally:
        stop_embedded(home / "postgres")
        shutil.rmtree(home, ignore_errors=True)


async def test_a_backup_restored_into_an_empty_database_verifies_with_the_same_events(
    year_worker: Worker,
    blocks: BlockService,
    cycles: CycleClient,
    pool: asyncpg.Pool,
    store: EventStore,
    db_url: str,
    new_home: Path,
    tmp_path: Path,
) -> None:
    # a province's year of two blocks: one cycle completed, one cancelled; and a person
    sc = reference()
    province = f"Tỉnh Sao Lưu {uuid.uuid4().hex[:6]}"
    for block_id in ("khoi-a", "khoi-b"):
        await blocks.register(block_object(block_id, province))
    handle, _ = await blocks.open_year(
        province, 2018, ruleset=sc.ruleset, score_sheet=sc.score_sheet, deadlines=sc.deadlines
    )
    await wait_opened(blocks, province, 2018)
    await run_reference_steps(cycles, "khoi-a", 2018)
    await cycles.send("khoi-b", 2018, CancelCycle(reason="khối giải thể"), Actor.admin())
    await asyncio.wait_for(handle.result(), 60)
    await Identity(pool, store).people.add("thu-ky", name="Thư ký", role="admin", by=Actor.admin())
    before = [tuple(r) for r in await pool.fetch(_COUNTS)]
    people = await pool.fetchval("SELECT count(*) FROM people")
    assert len(before) >= 4 and people >= 1  # two blocks, two cycles, the year, the person

    dump = tmp_path / "thidua.dump"
    home = Path(tempfile.mkdtemp(prefix="thidua-backup-home-"))
    try:
        made = thidua(home, "db", "backup", str(dump), DATABASE_URL=db_url)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert made.returncode == 0, made.stderr
    total = sum(n for _, n in before)
    assert made.stdout.strip() == f"backup: {dump} ({total} events in {len(before)} streams)"
    assert os.path.getsize(dump) > 0

    restored = thidua(new_home, "db", "restore", str(dump))
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.strip() == f"restored: {total} events in {len(before)} streams"

    url = await asyncio.to_thread(start_embedded, new_home / "postgres")
    conn = await asyncpg.connect(url)
    try:
        assert [tuple(r) for r in await conn.fetch(_COUNTS)] == before
        assert await conn.fetchval("SELECT count(*) FROM people") == people
        # the CHECK on the bodies and its functions came back as the migrations made them:
        # verification reads the stored bodies (eventstore/bodies.py)
        assert await body_check_in_place(conn)
    finally:
        await conn.close()
    # as the read-only auditor (the embedded default's role for audit commands)
    verify = thidua(new_home, "audit", "verify", "--all")
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.strip().startswith("ok: every stream verifies"), verify.stdout
    listed = thidua(new_home, "cycle", "list", "--json", "--year", "2018")
    assert listed.returncode == 0, listed.stderr

    # a second restore into the now non-empty database refuses and names the step
    again = thidua(new_home, "db", "restore", str(dump))
    assert again.returncode == 2
    assert "checking the target failed: the database is not empty" in again.stderr
    # a file that is no backup: the step that failed is named, nothing is written
    bad = tmp_path / "not-a-dump"
    bad.write_bytes(b"not a dump")
    other = Path(tempfile.mkdtemp(prefix="thidua-restored-bad-"))
    try:
        failed = thidua(other, "db", "restore", str(bad))
        assert failed.returncode == 2
        assert "reading the backup failed" in failed.stderr, failed.stderr
    finally:
        stop_embedded(other / "postgres")
        shutil.rmtree(other, ignore_errors=True)
