"""Web benchmark: the tasks page of one person with 5 and with 500 cycles in the store, and one
form post of a command through the page against a bare Temporal update, in one run.

    python bench/web.py [--seconds 3] [--posts 30] [--turns 5]

The stack is `thidua dev up` in a subprocess (embedded PostgreSQL, the Temporal dev server, a
worker, the HTTP API and the pages) in a temp THIDUA_HOME, stopped at the end.

tasks   the person of so-khdt logs in through the login form; cycles of the reference case
        (block ids kg-khoi-2-b{i}; so-khdt a member of the first 5 only, so the page lists the
        same 5 tasks whatever the store holds) are made cheaply: their start events decided by the pure
        domain and appended to the store, then the read models caught up (no workflow). In each
        turn GET /viec-can-lam is requested for --seconds with 5 cycles and for --seconds with
        500 (the page reads the read models: between the two, the other 495 cycles' read-model
        rows are set aside and put back; their events stay); requests/s each.
click    a cycle started by uploading the scenario file on /quan-ly (a real workflow); then
        the secretariat's `Gia hạn` form (extend_deadline with its required reason, a workflow
        update that appends one event) posted as a browser does (the form's CSRF token, no
        redirect followed; a refusal, a 303 to `?loi=`, fails the run), --posts
        times in all, an equal share in each turn: the POST's latency.
bare    bench/_bare.py's BareCycle on the same Temporal server, served by a worker in this
        process: as many updates, each running one no-op scheduled activity, in the same turns.
bare-local
        a second BareCycle on the same worker, started with local=True: as many updates, each
        running the no-op as a local activity (the shape of the cycle whose appends are local
        activities), in the same turns.

Both comparisons run in alternating turns (bench/_turns.py; the click turns run bare update,
bare-local update, form post, then the reverse); each figure is the median of the per-turn
ratios. The last line printed is one JSON object: tasks_500_vs_5 (target >= 0.7),
click_vs_bare_update (form post / bare update, target <= 1.5: the scheduled-activity baseline,
comparable with earlier runs) and click_vs_bare_local_update (form post / bare-local update),
each with its per-turn ratios and median figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "bench"))

import contextlib  # noqa: E402

import asyncpg  # noqa: E402
import requests  # noqa: E402
from _bare import BareCycle, bare_step  # noqa: E402
from _turns import Turns, rotation  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from app.identity import Identity  # noqa: E402
from domain.codec import to_record  # noqa: E402
from domain.decide import decide  # noqa: E402
from domain.scenario import load_scenario  # noqa: E402
from domain.state import CycleState  # noqa: E402
from domain.values import Actor  # noqa: E402
from eventstore import EventStore, ProjectionRunner, create_pool, stop_embedded  # noqa: E402
from readmodels import all_read_models  # noqa: E402

REFERENCE = ROOT / "app" / "scenarios" / "kg-khoi-2-2018.json"
PASSWORD = "mật-khẩu đủ dài cho bench 42"
HTML = {"Accept": "text/html,application/xhtml+xml"}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "the page has a form"
    return m.group(1)


def login(url: str, name: str) -> requests.Session:
    s = requests.Session()
    s.headers.update(HTML)
    page = s.get(f"{url}/dang-nhap", timeout=30)
    r = s.post(
        f"{url}/dang-nhap",
        data={"login": name, "password": PASSWORD, "csrf_token": _csrf(page.text)},
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 303, r.text
    return s


async def add_people(db: str) -> None:
    pool = await create_pool(db, min_size=1, max_size=2)
    try:
        ident = Identity(
            pool,
            EventStore(pool),
            hasher=PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1),
        )
        by = Actor.admin(name="bench")
        await ident.add_person(
            "qt-admin", name="Thường trực", role="admin", password=PASSWORD, by=by
        )
        await ident.add_person(
            "nv-so-khdt",
            name="Cán bộ Sở KH&ĐT",
            role="unit",
            unit="so-khdt",
            password=PASSWORD,
            by=by,
        )
    finally:
        await pool.close()


async def add_cycles(db: str, first: int, count: int, *, mine: bool) -> None:
    """Cycles kg-khoi-2-b{i} started by the pure domain, appended to the store, read models
    caught up (no workflow); so-khdt is a member only when `mine`, so the person's tasks stay
    the same while the store grows."""
    text = REFERENCE.read_text("utf-8")
    raw = json.loads(text if mine else text.replace('"so-khdt"', '"so-khac"'))
    pool = await create_pool(db, min_size=1, max_size=4)
    try:
        store = EventStore(pool)
        for i in range(first, first + count):
            raw["block"]["id"] = f"kg-khoi-2-b{i}"
            sc = load_scenario(json.dumps(raw).encode())
            events = decide(
                CycleState(),
                sc.start_command(),
                Actor.admin(name="bench"),
                now=datetime.now(UTC),
                ids=uuid.uuid4,
                request_id=f"bench-{i}",
            )
            await store.append(f"cycle-kg-khoi-2-b{i}-2018", 0, [to_record(e) for e in events])
        await ProjectionRunner(pool, all_read_models()).catch_up()
    finally:
        await pool.close()


def rps(session: requests.Session, url: str, seconds: float, expect: int) -> float:
    page = session.get(url, timeout=30)
    assert page.status_code == 200, page.text[:500]
    found = page.text.count('data-action="sign_pledge"')
    assert found == expect, f"{found} pledge tasks listed, {expect} expected"
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        assert session.get(url, timeout=30).status_code == 200
        n += 1
    return n / (time.perf_counter() - t0)


def _scenario(posts: int) -> bytes:
    """The reference scenario moved to this year (a new deadline must be in the future and in
    the cycle's season), with room for every timed extension of one stage (the ruleset allows
    5 by default)."""
    year = date.today().year
    text = REFERENCE.read_text("utf-8")
    text = text.replace('"2019-', f'"{year + 1}-').replace('"2018-', f'"{year}-')
    data = json.loads(text)
    data["year"] = year
    data["ruleset"]["max_extensions"] = posts + 2
    return json.dumps(data, ensure_ascii=False).encode()


class Clicker:
    """The secretariat's extension form on a cycle started by uploading the scenario."""

    def __init__(self, url: str, posts: int) -> None:
        self.url, self.posts = url, posts
        self.admin = login(url, "qt-admin")
        page = self.admin.get(f"{url}/quan-ly", timeout=30)
        r = self.admin.post(
            f"{url}/quan-ly",
            data={"csrf_token": _csrf(page.text)},
            files={"file": ("kg.json", _scenario(posts), "application/json")},
            allow_redirects=False,
            timeout=60,
        )
        assert r.status_code == 303, r.text[:2000]
        self.base = r.headers["location"].split("?")[0]
        form = self.admin.get(f"{url}{self.base}/quan-ly", timeout=30)
        self.csrf = _csrf(form.text)
        self.day = date.today() + timedelta(days=1)  # later each time, within the season
        self.sent = 0

    def post(self, count: int) -> list[float]:
        times: list[float] = []
        for _ in range(count):
            data = {
                "csrf_token": self.csrf,
                "do": "extend_deadline",
                "stage": "pledge",
                "until": (self.day + timedelta(days=self.sent)).isoformat(),
                "note": "Đo hiệu năng",
            }  # the page requires a reason for an extension
            t0 = time.perf_counter()
            r = self.admin.post(
                f"{self.url}{self.base}/quan-ly", data=data, allow_redirects=False, timeout=60
            )
            times.append(time.perf_counter() - t0)
            assert r.status_code == 303 and "loi=" not in r.headers["location"], (
                r.status_code,
                r.headers.get("location"),
            )  # a refusal redirects with ?loi=
            self.sent += 1
        return times


async def clicks_against_bare(
    url: str, address: str, posts: int, turns: int
) -> tuple[Turns, Turns]:
    """Form posts, bare updates and bare-local updates in turns whose order reverses each time;
    two of each warm the paths first. (form post against bare, form post against bare-local.)"""
    per_turn = max(1, posts // turns)
    clicker = await asyncio.to_thread(Clicker, url, per_turn * turns + 2)
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    queue = f"bench-web-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[BareCycle], activities=[bare_step]):
        handles = {
            kind: await client.start_workflow(
                BareCycle.run,
                args=[per_turn * turns + 2, local],
                id=f"{kind}-{queue}",
                task_queue=queue,
            )
            for kind, local in (("bare", False), ("bare-local", True))
        }
        sent = 0

        async def bare(kind: str, count: int) -> list[float]:
            nonlocal sent
            times: list[float] = []
            for _ in range(count):
                t0 = time.perf_counter()
                await handles[kind].execute_update(BareCycle.step, f"r{sent}")
                times.append(time.perf_counter() - t0)
                sent += 1
            return times

        await bare("bare", 2)
        await bare("bare-local", 2)
        await asyncio.to_thread(clicker.post, 2)
        pairs = Turns("median ms", "bare update", "form post")
        local_pairs = Turns("median ms", "bare-local update", "form post")
        kinds = ("bare", "bare-local", "form post")
        for _, order in rotation(kinds, turns):
            got: dict[str, float] = {}
            for kind in order:
                times = (
                    await asyncio.to_thread(clicker.post, per_turn)
                    if kind == "form post"
                    else await bare(kind, per_turn)
                )
                got[kind] = statistics.median(times) * 1000
            pairs.add(got["bare"], got["form post"])
            local_pairs.add(got["bare-local"], got["form post"])
        for handle in handles.values():
            await handle.result()
    return pairs, local_pairs


async def set_aside(db: str, rows: dict[str, list[Any]] | None) -> dict[str, list[Any]] | None:
    """Take the read-model rows of the cycles that are not so-khdt's (b5 and up) out of every
    read-model table that has a stream column, or put `rows` back; the events stay."""
    conn = await asyncpg.connect(db)
    try:
        async with conn.transaction():
            if rows is not None:
                for table, records in rows.items():
                    await conn.copy_records_to_table(table, records=records)
                return None
            tables = [
                r[0]
                for r in await conn.fetch(
                    "SELECT table_name FROM information_schema.columns WHERE column_name = 'stream'"
                    " AND table_schema = current_schema() AND table_name NOT IN ('events', 'outbox')"
                )
            ]
            taken: dict[str, list[Any]] = {}
            for table in tables:
                taken[table] = list(
                    await conn.fetch(f'DELETE FROM "{table}" WHERE stream ~ $1 RETURNING *', OTHERS)
                )
            return taken
    finally:
        await conn.close()


OTHERS = r"^cycle-kg-khoi-2-b([5-9]|[0-9]{2,})-2018$"


def tasks_5_against_500(url: str, db: str, seconds: float, turns: int) -> Turns:
    person = login(url, "nv-so-khdt")
    asyncio.run(add_cycles(db, 0, 5, mine=True))
    asyncio.run(add_cycles(db, 5, 495, mine=False))
    aside = asyncio.run(set_aside(db, None))
    pairs = Turns("req/s", "5 cycles", "500 cycles")
    for _, first, second in pairs.schedule(turns):
        got: dict[str, float] = {}
        for kind in (first, second):
            if (kind == "5 cycles") == (aside is None):  # the store must look as `kind` says
                aside = asyncio.run(set_aside(db, aside))
            got[kind] = rps(person, f"{url}/viec-can-lam", seconds, 5)
        pairs.add(got["5 cycles"], got["500 cycles"])
    if aside is not None:
        asyncio.run(set_aside(db, aside))
    return pairs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--seconds",
        type=float,
        default=3.0,
        help="requests to the tasks page per side and turn (default 3 s)",
    )
    ap.add_argument(
        "--posts",
        type=int,
        default=30,
        help="form posts (and bare, bare-local updates) in all (default 30)",
    )
    ap.add_argument("--turns", type=int, default=5, help="alternating turns (default 5)")
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="thidua-bench-web-"))
    home.chmod(0o755)  # the embedded PostgreSQL's own user must reach it
    port = _port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS", "THIDUA_API_TOKENS")
    }
    env.update(THIDUA_HOME=str(home), LOG_FORMAT="json")
    log = (home / "devup.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "dev", "up", "--api-port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise SystemExit((home / "devup.log").read_text())
            try:
                if (home / "dev.json").exists() and requests.get(f"{url}/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("thidua dev up did not come up")
            time.sleep(0.3)
        dev = json.loads((home / "dev.json").read_text("utf-8"))
        db = dev["database_url"]
        asyncio.run(add_people(db))
        tasks = tasks_5_against_500(url, db, args.seconds, args.turns)
        click, click_local = asyncio.run(
            clicks_against_bare(url, dev["temporal_address"], args.posts, args.turns)
        )
        result: dict[str, Any] = {
            **tasks.summary("tasks_500_vs_5"),
            **click.summary("click_vs_bare_update"),
            **click_local.summary("click_vs_bare_local_update"),
        }
        print(json.dumps(result))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        with contextlib.suppress(subprocess.CalledProcessError):
            stop_embedded(home / "postgres")
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
