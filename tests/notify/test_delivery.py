"""Notifications by e-mail against a real SMTP server (aiosmtpd) started here: a reference
cycle's new tasks, reminders and missed deadline reach the right persons, once each, even when the delivering
worker is killed (SIGKILL) while the server holds a message.

The guarantee is at least once with a stable Message-ID (app/notify/deliver.py): the message
the killed worker was sending arrives at most twice, both times with the same Message-ID;
every other message exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from app.client import CycleClient
from app.devstack import find_binary
from app.identity import Identity
from app.notify import Deliverer, PermanentFailure, SmtpSender, TemporaryFailure, message_id
from app.notify.sender import Message
from app.runner import reference_scenario
from app.worker import build_worker
from domain.values import Actor
from eventstore import EventStore
from eventstore.outbox import Outbox
from tests.notify.smtp import Mailbox, smtp_server
from tests.workflows.helpers import eventually, send_steps, stream_of

pytestmark = [pytest.mark.db, pytest.mark.temporal]

ROOT = Path(__file__).resolve().parents[2]
FROM = "thidua@thiduakhoi.gov.vn"
ADMIN = Actor.admin(name="test")


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox(refuse={"khong-ton-tai@vpubnd.gov.vn"})
    with smtp_server(box) as port:
        yield box, port


@pytest.fixture(scope="module")
async def skipping() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=find_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    yield env
    await env.shutdown()


PEOPLE = [  # login, unit, e-mail (None: not told), active
    ("nv-an", "so-ngoai-vu", "an@songoaivu.gov.vn", True),
    ("khdt-lan", "so-khdt", "lan@sokhdt.gov.vn", True),
    ("khdt-minh", "so-khdt", "minh@sokhdt.gov.vn", True),
    ("noivu-ha", "so-noi-vu", "ha@sonoivu.gov.vn", True),
    ("noivu-cu", "so-noi-vu", "cu@sonoivu.gov.vn", False),  # disabled: never told
    ("tp-hoa", "so-tu-phap", "hoa@sotuphap.gov.vn", True),
    ("ubnd-son", "vp-ubnd", None, True),  # no e-mail: nothing to send
    ("ubnd-sai", "vp-ubnd", "khong-ton-tai@vpubnd.gov.vn", True),  # refused for good
    ("hdnd-mai", "vp-hdnd", "mai@vphdnd.gov.vn", True),
    ("qh-tuan", "vp-doan-dbqh", "tuan@vpdoandbqh.gov.vn", True),
    ("ntm-thu", "vp-dieu-phoi-ntm", "thu@ntm.gov.vn", True),
]


async def _people(identity: Identity) -> None:
    for login, unit, email, active in PEOPLE:
        await identity.add_person(
            login, name=login.title(), role="unit", unit=unit, email=email, by=ADMIN
        )
        if not active:
            await identity.disable(login, by=ADMIN)
    await identity.add_person(
        "admin-x", name="Admin", role="admin", email="admin@x.gov.vn", by=ADMIN
    )


def _worker(db_url: str, port: int, home: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_FROM": FROM,
        "SMTP_STARTTLS": "false",
        "SMTP_PASSWORD": "hunter2-not-logged",
        "SMTP_POLL_SECONDS": "0.2",
        "NOTIFY_LEASE_SECONDS": "3",
        "THIDUA_HOME": str(home),
        "LOG_FORMAT": "json",
    }
    env.pop("TEMPORAL_ADDRESS", None)
    return subprocess.Popen(
        [sys.executable, "-m", "app.notify"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_new_tasks_and_reminders_reach_each_person_once_across_a_killed_worker(
    skipping: WorkflowEnvironment,
    store: EventStore,
    outbox: Outbox,
    pool: asyncpg.Pool,
    db_url: str,
    smtp: tuple[Mailbox, int],
    tmp_path: Path,
) -> None:
    box, port = smtp
    await _people(Identity(pool, store))
    now = await skipping.get_current_time()
    sc = reference_scenario().model_copy(update={"year": now.year})
    start = sc.start_command().model_copy(
        update={
            "deadlines": {"pledge": now + timedelta(days=30), "scoring": now + timedelta(days=90)}
        }
    )
    cycles = CycleClient(
        skipping.client, f"tq-{uuid.uuid4().hex[:8]}", prefix=f"t{uuid.uuid4().hex[:8]}:"
    )
    stream = stream_of(cycles, sc)
    async with build_worker(skipping.client, cycles.task_queue, store, outbox):
        await cycles.start(start, request_id="start")
        await send_steps(cycles, sc, sc.steps[:2])  # two units sign; six do not
        await skipping.sleep(timedelta(days=31))  # reminders at 7 and 1 days, then the close

        async def written() -> list[asyncpg.Record]:
            rows = await pool.fetch(
                "SELECT id, dedup_key, kind, recipient, payload->>'stage' AS stage,"
                " payload->'actions' @> '[\"sign_pledge\"]' AS to_sign FROM outbox"
                " WHERE stream = $1 ORDER BY id",
                stream,
            )
            kinds = {(r["kind"], r["stage"]) for r in rows}
            assert {
                ("new_task", "pledge"),
                ("reminder", "pledge"),
                ("deadline_missed", "pledge"),
                ("new_task", "scoring"),
            } <= kinds, kinds
            return rows

        rows = await eventually(written)
    signed = {s.actor.unit for s in sc.steps[:2]}
    reminded = {r["recipient"] for r in rows if r["kind"] == "reminder" and r["to_sign"]}
    assert reminded == {m.id for m in sc.block.members} - signed  # who has not signed
    missed = {r["recipient"] for r in rows if r["kind"] == "deadline_missed"}
    assert missed == reminded  # told once that the deadline passed: those who had not signed
    assert sum(1 for r in rows if r["kind"] == "deadline_missed") == len(missed)
    assert {r["recipient"] for r in rows if r["kind"] == "new_task" and r["stage"] == "pledge"} == {
        m.id for m in sc.block.members
    }
    # written once: a second write of the same tasks is a no-op
    assert len({r["dedup_key"] for r in rows}) == len(rows)

    told = {
        unit: [
            (login, email) for login, u, email, active in PEOPLE if u == unit and email and active
        ]
        for unit in {r["recipient"] for r in rows}
    }
    refused = "khong-ton-tai@vpubnd.gov.vn"
    expected = {
        (email, message_id(r["dedup_key"], login, FROM))
        for r in rows
        for login, email in told[r["recipient"]]
        if email != refused
    }

    # the first worker is killed while the server holds its first message
    box.hold = True
    first = _worker(db_url, port, tmp_path)
    try:
        assert await asyncio.to_thread(box.held.wait, 120), "no message reached the server"
        first.send_signal(signal.SIGKILL)
        assert first.wait(30) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
    held = box.arrived[0]
    box.release.set()  # the server answers a client that is gone
    assert "hunter2" not in (first.stderr.read() if first.stderr else "")

    second = _worker(db_url, port, tmp_path)
    try:

        async def all_sent() -> None:
            left = await pool.fetchval(
                "SELECT count(*) FROM outbox WHERE stream = $1 AND sent_at IS NULL", stream
            )
            assert left == 0, f"{left} rows not delivered"
            assert second.poll() is None, second.stderr.read() if second.stderr else ""

        await eventually(all_sent, timeout=300, interval=0.3)
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            code = second.wait(30)
        except subprocess.TimeoutExpired:
            second.kill()
            code = second.wait(30)
        err = second.stderr.read() if second.stderr else ""
    assert code == 0, err
    assert "hunter2" not in err

    got = [(rcpt, mid) for rcpt, mid, _ in box.arrived]
    assert set(got) == expected  # the right persons, nobody else (not the disabled one)
    counts = {k: got.count(k) for k in expected}
    assert counts[held[:2]] == 2  # the held message came again, as the same message
    assert all(n == 1 for k, n in counts.items() if k != held[:2]), counts
    assert not any(rcpt == refused for rcpt, _ in got)

    deliveries = await pool.fetch(
        "SELECT d.email, d.message_id, d.status FROM outbox_deliveries d"
        " JOIN outbox o ON o.id = d.outbox_id WHERE o.stream = $1",
        stream,
    )
    assert {(d["email"], d["message_id"]) for d in deliveries if d["status"] == "sent"} == expected
    failed = [d for d in deliveries if d["status"] == "failed"]
    assert failed and {d["email"] for d in failed} == {refused}  # recorded, not retried
    assert len(failed) == sum(1 for r in rows if r["recipient"] == "vp-ubnd")

    # Vietnamese, naming the cycle, the act and the deadline in Vietnam time
    subjects = {s for _, _, s in box.arrived}
    assert any(s.startswith("[Thi đua] Việc mới: Ký giao ước thi đua") for s in subjects)
    assert any(s.startswith("[Thi đua] Nhắc việc: còn 7 ngày") for s in subjects)
    assert any(s.startswith("[Thi đua] Quá hạn: Ký giao ước thi đua") for s in subjects)
    assert any("không còn thực hiện được" in b for b in box.bodies)
    deadline = (now + timedelta(days=30)).astimezone(__import__("app.words", fromlist=["VN"]).VN)
    assert any(f"Hạn chót: {deadline:%H:%M}" in b and sc.block.name in b for b in box.bodies)
    assert any(f"{sc.block.members[2].name} còn việc chưa làm" in b for b in box.bodies)


class Flaky:
    """A sender whose server is away `times` times, then takes everything."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.sent: list[Message] = []

    async def send(self, message: Message) -> None:
        if self.times:
            self.times -= 1
            raise TemporaryFailure("SMTPConnectError")
        self.sent.append(message)


async def test_a_failing_server_is_retried_with_backoff(
    pool: asyncpg.Pool,
    store: EventStore,
) -> None:
    tag = uuid.uuid4().hex[:6]
    stream, unit = f"cycle-flaky-{tag}", f"so-flaky-{tag}"
    identity = Identity(pool, store)
    for login in ("lan", "minh"):
        await identity.add_person(
            f"{login}-{tag}",
            name=login,
            role="unit",
            unit=unit,
            email=f"{login}@{unit}.gov.vn",
            by=ADMIN,
        )
    await pool.execute(
        "INSERT INTO outbox (dedup_key, cycle_id, stream, kind, recipient, payload, due_at)"
        " VALUES ($1, 'c', $2, 'new_task', $4, $3::jsonb, now())",
        f"{stream}:x",
        stream,
        '{"stage": "pledge", "actions": ["sign_pledge"], "deadline": null}',
        unit,
    )
    sender = Flaky(times=2)
    d = Deliverer(pool, sender, FROM, first_backoff=timedelta(milliseconds=200))

    async def attempts() -> int:
        return await pool.fetchval("SELECT attempts FROM outbox WHERE stream = $1", stream)

    assert await d.run_once(batch=1000) >= 1
    assert await attempts() == 1 and not sender.sent
    # backing off: not claimed again before next_attempt_at
    wait = await pool.fetchval(
        "SELECT next_attempt_at - clock_timestamp() FROM outbox WHERE stream = $1", stream
    )
    assert wait > timedelta(0)

    async def delivered() -> None:
        await d.run_once(batch=1000)
        assert await pool.fetchval(
            "SELECT sent_at IS NOT NULL FROM outbox WHERE stream = $1", stream
        )

    await eventually(delivered, timeout=30, interval=0.1)
    assert await attempts() == 2
    assert sorted(m.to for m in sender.sent) == [f"lan@{unit}.gov.vn", f"minh@{unit}.gov.vn"]


async def test_smtp_sender_sorts_refusals_and_outages(smtp: tuple[Mailbox, int]) -> None:
    box, port = smtp
    sender = SmtpSender("127.0.0.1", port, FROM, starttls=False, password="x")
    assert "x" not in repr(sender).replace(FROM, "").replace("SmtpSender", "")
    msg = Message(to="khong-ton-tai@vpubnd.gov.vn", subject="s", body="b", message_id="<a@b>")
    with pytest.raises(PermanentFailure):
        await sender.send(msg)
    with pytest.raises(TemporaryFailure):
        await SmtpSender("127.0.0.1", 1, FROM, starttls=False, timeout=5).send(msg)
    await sender.send(
        Message(to="ok@x.gov.vn", subject="Việc mới", body="Kính gửi", message_id="<c@d>")
    )
    assert box.arrived == [("ok@x.gov.vn", "<c@d>", "Việc mới")]


async def test_a_worker_whose_lease_ran_out_leaves_the_row_to_the_next(
    pool: asyncpg.Pool,
    store: EventStore,
) -> None:
    """A slow worker's lease runs out and another takes the row: the slow one sends nothing
    more of it (at most its message in flight is sent twice, with one Message-ID)."""
    tag = uuid.uuid4().hex[:6]
    stream, unit = f"cycle-lease-{tag}", f"so-lease-{tag}"
    identity = Identity(pool, store)
    for login in ("a", "b", "c"):
        await identity.add_person(
            f"{login}-{tag}",
            name=login,
            role="unit",
            unit=unit,
            email=f"{login}@{unit}.gov.vn",
            by=ADMIN,
        )
    await pool.execute(
        "INSERT INTO outbox (dedup_key, cycle_id, stream, kind, recipient, payload, due_at)"
        " VALUES ($1, 'c', $2, 'reminder', $3, $4::jsonb, now())",
        f"{stream}:r",
        stream,
        unit,
        '{"stage": "pledge", "actions": ["sign_pledge"], "deadline": null, "days_before": 1}',
    )
    fast_sent: list[Message] = []

    class Fast:
        async def send(self, message: Message) -> None:
            fast_sent.append(message)

    fast = Deliverer(pool, Fast(), FROM)

    class Slow:
        def __init__(self) -> None:
            self.sent: list[Message] = []

        async def send(self, message: Message) -> None:
            if not self.sent:  # while the first message is in flight the lease runs out
                await pool.execute(
                    "UPDATE outbox SET claimed_until = clock_timestamp()"
                    " - interval '1 s' WHERE stream = $1",
                    stream,
                )
                assert await fast.run_once(batch=1000) >= 1
            self.sent.append(message)

    slow = Slow()
    assert await Deliverer(pool, slow, FROM).run_once(batch=1000) >= 1
    assert [m.to for m in slow.sent] == [f"a@{unit}.gov.vn"]  # then it stopped
    assert sorted(m.to for m in fast_sent) == [f"{x}@{unit}.gov.vn" for x in "abc"]
    assert slow.sent[0].message_id == fast_sent[0].message_id
    assert await pool.fetchval("SELECT sent_at IS NOT NULL FROM outbox WHERE stream = $1", stream)
