"""Web benchmark: the tasks page of one person with 5 and with 500 cycles in the store, and one
form post of a command through the page against a bare Temporal update, in one run.

    python bench/web.py [--seconds 10] [--posts 30]

The stack is `thidua dev up` in a subprocess (embedded PostgreSQL, the Temporal dev server, a
worker, the HTTP API and the pages) in a temp THIDUA_HOME, stopped at the end.

tasks   the person of so-khdt logs in through the login form; cycles of the reference case
        (block ids kg-khoi-2-b{i}; so-khdt a member of the first 5 only, so the page lists the
        same 5 tasks whatever the store holds) are made cheaply: their start events decided by the pure
        domain and appended to the store, then the read models caught up (no workflow). GET
        /viec-can-lam is requested for --seconds with 5 cycles, then with 500; requests/s each.
click    a cycle started by uploading the scenario file on /quan-ly (a real workflow); then
        --posts times the secretariat's `Gia hạn` form (extend_deadline, a workflow update
        that appends one event) posted as a browser does (the form's CSRF token, no redirect
        followed): the POST's latency.
bare    bench/_bare.py's BareCycle on the same Temporal server, served by a worker in this
        process: --posts updates, each running one no-op activity; latency per update.

The last line printed is one JSON object: tasks_5_rps, tasks_500_rps, tasks_500_vs_5 (target
>= 0.7), click_ms_median, bare_update_ms_median, click_vs_bare_update (target <= 1.5).
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

import requests  # noqa: E402
from _bare import BareCycle, bare_step  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from app.identity import Identity  # noqa: E402
from app.readmodels import all_read_models  # noqa: E402
from domain.codec import to_record  # noqa: E402
from domain.decide import decide  # noqa: E402
from domain.scenario import load_scenario  # noqa: E402
from domain.state import CycleState  # noqa: E402
from domain.values import Actor  # noqa: E402
from eventstore import EventStore, ProjectionRunner, create_pool, stop_embedded  # noqa: E402

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
    r = s.post(f"{url}/dang-nhap", data={"login": name, "password": PASSWORD,
                                         "csrf_token": _csrf(page.text)},
               allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text
    return s


async def add_people(db: str) -> None:
    pool = await create_pool(db, min_size=1, max_size=2)
    try:
        ident = Identity(pool, EventStore(pool),
                         hasher=PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
        by = Actor.admin(name="bench")
        await ident.add_person("qt-admin", name="Thường trực", role="admin", password=PASSWORD,
                               by=by)
        await ident.add_person("nv-so-khdt", name="Cán bộ Sở KH&ĐT", role="unit",
                               unit="so-khdt", password=PASSWORD, by=by)
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
            events = decide(CycleState(), sc.start_command(), Actor.admin(name="bench"),
                            now=datetime.now(UTC), ids=uuid.uuid4, request_id=f"bench-{i}")
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


def clicks(url: str, posts: int) -> list[float]:
    admin = login(url, "qt-admin")
    page = admin.get(f"{url}/quan-ly", timeout=30)
    r = admin.post(f"{url}/quan-ly", data={"csrf_token": _csrf(page.text)},
                   files={"file": ("kg.json", _scenario(posts), "application/json")},
                   allow_redirects=False, timeout=60)
    assert r.status_code == 303, r.text[:2000]
    base = r.headers["location"].split("?")[0]
    form = admin.get(f"{url}{base}/quan-ly", timeout=30)
    csrf = _csrf(form.text)
    day = date.today() + timedelta(days=1)  # later each time, within the cycle's season
    times: list[float] = []
    for i in range(posts + 2):
        data = {"csrf_token": csrf, "do": "extend_deadline", "stage": "pledge",
                "until": (day + timedelta(days=i)).isoformat()}
        t0 = time.perf_counter()
        r = admin.post(f"{url}{base}/quan-ly", data=data, allow_redirects=False, timeout=60)
        dt = time.perf_counter() - t0
        assert r.status_code == 303, (r.status_code, re.findall(r'data-code="([a-z_]+)"', r.text))
        if i >= 2:  # the first two warm the path
            times.append(dt)
    return times


async def bare_updates(address: str, posts: int) -> list[float]:
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    queue = f"bench-web-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[BareCycle], activities=[bare_step]):
        handle = await client.start_workflow(BareCycle.run, posts + 2, id=f"bare-{queue}",
                                             task_queue=queue)
        times: list[float] = []
        for i in range(posts + 2):
            t0 = time.perf_counter()
            await handle.execute_update(BareCycle.step, f"r{i}")
            if i >= 2:
                times.append(time.perf_counter() - t0)
        await handle.result()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--posts", type=int, default=30)
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="thidua-bench-web-"))
    home.chmod(0o755)  # the embedded PostgreSQL's own user must reach it
    port = _port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS", "THIDUA_API_TOKENS")}
    env.update(THIDUA_HOME=str(home), LOG_FORMAT="json")
    log = (home / "devup.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "app", "dev", "up", "--api-port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
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
        person = login(url, "nv-so-khdt")

        asyncio.run(add_cycles(db, 0, 5, mine=True))
        r5 = rps(person, f"{url}/viec-can-lam", args.seconds, 5)
        asyncio.run(add_cycles(db, 5, 495, mine=False))
        r500 = rps(person, f"{url}/viec-can-lam", args.seconds, 5)
        print(f"tasks page   5 cycles: {r5:8.1f} req/s")
        print(f"tasks page 500 cycles: {r500:8.1f} req/s")

        click = clicks(url, args.posts)
        bare = asyncio.run(bare_updates(dev["temporal_address"], args.posts))
        c_ms, b_ms = statistics.median(click) * 1000, statistics.median(bare) * 1000
        print(f"form post (extend_deadline) median: {c_ms:7.1f} ms over {len(click)}")
        print(f"bare update (one no-op activity) median: {b_ms:7.1f} ms over {len(bare)}")
        result: dict[str, Any] = {
            "tasks_5_rps": round(r5, 1), "tasks_500_rps": round(r500, 1),
            "tasks_500_vs_5": round(r500 / r5, 3),
            "click_ms_median": round(c_ms, 1), "bare_update_ms_median": round(b_ms, 1),
            "click_vs_bare_update": round(c_ms / b_ms, 3),
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
