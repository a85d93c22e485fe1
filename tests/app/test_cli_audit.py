"""`thidua audit …` as a user runs it, against the shared `thidua dev up` stack: a clean stream,
an unknown one, a bad version, and a tampered copy whose findings are printed in one form."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import pytest

from domain.codec import to_record
from eventstore import EventStore, create_pool, start_embedded
from tests.app.devstack import DevStack, thidua
from tests.pg import fresh_database

pytestmark = pytest.mark.temporal

STREAM = "cycle-kg-khoi-2-2018"
FINDING = re.compile(r"^finding: version \d+: [a-z_]+: .+$")


def test_a_clean_stream_verifies_and_replays(started: str, stack: DevStack) -> None:
    verify = thidua(stack.home, "audit", "verify", started, "2018")
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith(f"{STREAM}: ")
    assert "ok: chain intact" in verify.stdout

    replay = thidua(stack.home, "audit", "replay", started, "2018", "--to-version", "1")
    assert replay.returncode == 0, replay.stderr
    body = json.loads(replay.stdout)
    assert body["version"] == 1 and body["stage"] == "pledge"
    assert body["verified"] == {}  # the state's own verified scores, untouched
    assert body["chain"]["ok"] is True and body["chain"]["findings"] == []


def test_an_unknown_stream_exits_1(stack: DevStack) -> None:
    for command in ("verify", "replay"):
        run = thidua(stack.home, "audit", command, "kg-khoi-9", "2018")
        assert run.returncode == 1
        assert (
            run.stderr.strip() == "error: unknown_stream: no events in stream cycle-kg-khoi-9-2018"
        )


def test_a_version_past_the_head_exits_2(started: str, stack: DevStack) -> None:
    run = thidua(stack.home, "audit", "replay", started, "2018", "--to-version", "9999")
    assert run.returncode == 2
    assert run.stdout == ""
    assert "--to-version" in run.stderr
    bad = thidua(stack.home, "audit", "replay", started, "2018", "--to-version", "0")
    assert bad.returncode == 2


async def test_a_tampered_stream_fails_with_every_finding_in_one_form(
    started: str, stack: DevStack
) -> None:
    copy = f"audit-copy-{uuid.uuid4().hex[:8]}"
    # tampered in a database of its own on the stack's server, so that the shared store stays
    # clean for the tests that verify all of it; dev.json names the service role, which may not
    # disable the trigger (that is the point): tamper as the embedded server's superuser
    superuser = await asyncio.to_thread(start_embedded, stack.home / "postgres")
    source = await create_pool(superuser, max_size=2)
    try:
        original = await EventStore(source).replay(STREAM)
    finally:
        await source.close()
    async with fresh_database(superuser) as own:
        pool = await create_pool(own, max_size=2)
        try:
            await EventStore(pool).append(copy, 0, [to_record(e) for e in original.events[:1]])
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("ALTER TABLE events DISABLE TRIGGER events_no_update_delete")
                await conn.execute(
                    "UPDATE events SET hash = sha256(hash) WHERE stream = $1 AND version = 1", copy
                )
                await conn.execute(
                    "ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_update_delete"
                )
        finally:
            await pool.close()
        verify = thidua(stack.home, "audit", "verify", "x", "0", "--stream", copy, DATABASE_URL=own)
        replay = thidua(stack.home, "audit", "replay", "x", "0", "--stream", copy, DATABASE_URL=own)
    assert verify.returncode == 1 and replay.returncode == 1, verify.stderr
    findings = verify.stderr.strip().splitlines()
    assert findings and all(FINDING.match(line) for line in findings), verify.stderr
    assert findings[0].startswith("finding: version 1: broken_link: ")
    assert replay.stderr.strip().splitlines() == findings
    chain = json.loads(replay.stdout)["chain"]
    assert chain["ok"] is False
    assert ["finding: " + f for f in chain["findings"]] == findings
