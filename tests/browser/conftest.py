"""Browser tests: Debian's chromium (launched by its path; browsers are never downloaded) driven by
Playwright against the whole stack as a user runs it — `thidua dev up` in a subprocess
(PostgreSQL, the Temporal dev server, a worker, the HTTP API and the pages), one per module —
with one person per unit of the reference case, a secretariat admin and an auditor, created
through app/identity in the stack's database.

Screenshots of every page type at 1280 px and 360 px go to $THIDUA_SCREENSHOTS (or a temporary
folder, printed at the start)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
import requests
from argon2 import PasswordHasher
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from app.identity import Identity
from domain.values import Actor
from eventstore import EventStore, create_pool, stop_embedded

ROOT = Path(__file__).parents[2]
REFERENCE = ROOT / "app" / "scenarios" / "kg-khoi-2-2018.json"
THIDUA = [sys.executable, "-m", "app"]
PASSWORD = "mật-khẩu đủ dài 42"
CHROMIUM = os.environ.get("THIDUA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDE, PHONE = 1280, 360
T = TypeVar("T")


def reference() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REFERENCE.read_text("utf-8"))
    return data


UNITS = tuple(m["id"] for m in reference()["block"]["members"])
NAME = {m["id"]: m["name"] for m in reference()["block"]["members"]}


def login_of(who: str) -> str:
    """The login of the person acting as `who` in a scenario ('admin' or a unit id)."""
    return "qt-admin" if who == "admin" else "kiem-toan" if who == "auditor" else f"nv-{who}"


def run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion on its own loop in another thread (the sync browser tests
    must not disturb the test session's event loop)."""
    with ThreadPoolExecutor(1) as ex:
        return ex.submit(lambda: asyncio.run(make())).result()  # type: ignore[arg-type]


@dataclass
class Stack:
    home: Path
    url: str
    database_url: str

    def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async def go() -> list[asyncpg.Record]:
            conn = await asyncpg.connect(self.database_url)
            try:
                return list(await conn.fetch(query, *args))
            finally:
                await conn.close()

        return run_async(go)

    def events(self, block: str, year: int) -> list[tuple[str, dict[str, Any]]]:
        rows = self.sql(
            "SELECT type, data FROM events WHERE stream = $1 ORDER BY version",
            f"cycle-{block}-{year}",
        )
        return [
            (r["type"], json.loads(r["data"]) if isinstance(r["data"], str) else r["data"])
            for r in rows
        ]

    def event_count(self, block: str, year: int) -> int:
        return len(self.sql("SELECT 1 FROM events WHERE stream = $1", f"cycle-{block}-{year}"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS", "THIDUA_API_TOKENS")
    }
    return {**env, "THIDUA_HOME": str(home), "LOG_FORMAT": "json"}


async def _add_people(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        # small argon2 costs: the hash carries its parameters, the server verifies it as is
        ident = Identity(
            pool,
            EventStore(pool),
            hasher=PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1),
        )
        by = Actor.admin(name="browser-tests")
        await ident.add_person(
            "qt-admin", name="Nguyễn Văn Thường Trực", role="admin", password=PASSWORD, by=by
        )
        await ident.add_person(
            "kiem-toan", name="Lê Thị Kiểm Tra", role="auditor", password=PASSWORD, by=by
        )
        for u in UNITS:
            await ident.add_person(
                f"nv-{u}", name=f"Cán bộ {NAME[u]}", role="unit", unit=u, password=PASSWORD, by=by
            )
    finally:
        await pool.close()


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """`thidua dev up` in a subprocess, with the people of the reference case. Its home is a
    folder the embedded PostgreSQL's own user can reach (pytest's root-only tmp is not)."""
    home = Path(tempfile.mkdtemp(prefix="thidua-browser-"))
    home.chmod(0o755)
    port = _free_port()
    log_path = home / "devup.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [*THIDUA, "dev", "up", "--api-port", str(port)],
        cwd=ROOT,
        env=_env(home),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, _logs(home)
            try:
                if (home / "dev.json").exists() and requests.get(f"{url}/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, _logs(home)
            time.sleep(0.3)
        dev = json.loads((home / "dev.json").read_text("utf-8"))
        assert dev.get("database_url"), dev
        run_async(lambda: _add_people(dev["database_url"]))
        yield Stack(home, url, dev["database_url"])
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()
        _stop_postgres(home / "postgres")
        shutil.rmtree(home, ignore_errors=True)


def _logs(home: Path) -> str:
    return "\n".join(
        f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in sorted(home.glob("*.log"))
    )


def _stop_postgres(pgdata: Path) -> None:
    try:
        stop_embedded(pgdata)
    except subprocess.CalledProcessError:  # pg_ctl could not run: stop the postmaster we started
        pid_file = pgdata / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, signal.SIGINT)
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("THIDUA_SCREENSHOTS")
    folder = Path(where) if where else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}", file=sys.stderr)
    return folder


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One browser per module: Debian's chromium, never a downloaded one."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install -y chromium fonts-dejavu-core"
            " (.ci/run does it)"
        )
    with sync_playwright() as p:
        yield _launch(p)


def _launch(p: Playwright) -> Browser:
    return p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


Login = Callable[..., Page]


def is_csp_message(text: str) -> bool:
    return "Content Security Policy" in text


@pytest.fixture
def csp_messages() -> list[str]:
    """What chromium said on the console about the Content-Security-Policy in the test's
    browser contexts (`login`); the test fails if anything is left here at its end."""
    return []


@pytest.fixture
def login(stack: Stack, chromium: Browser, csp_messages: list[str]) -> Iterator[Login]:
    """`login("so-khdt")` → a page of a fresh browser context (its own cookies) where that unit's
    person has logged in through the login page. At the end, no page of these contexts may have
    met a Content-Security-Policy violation (an inline script or style the policy blocked)."""
    contexts: list[BrowserContext] = []

    def open_as(who: str, *, width: int = WIDE) -> Page:
        ctx = chromium.new_context(
            base_url=stack.url, locale="vi-VN", viewport={"width": width, "height": 900}
        )
        ctx.set_default_timeout(30_000)
        ctx.on(
            "console",
            lambda m: (
                csp_messages.append(f"{m.page and m.page.url}: {m.text}")
                if is_csp_message(m.text)
                else None
            ),
        )
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto("/dang-nhap")
        page.get_by_label("Tên đăng nhập").fill(login_of(who))
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(lambda u: "/dang-nhap" not in u)
        return page

    yield open_as
    for ctx in contexts:
        ctx.close()
    assert not csp_messages, "Content-Security-Policy violations:\n" + "\n".join(csp_messages)


Shot = Callable[[Page, str], None]


@pytest.fixture
def shot(screenshots: Path) -> Shot:
    """Save the page as it is at 1280 px and at 360 px (a phone) as <name>-1280.png/-360.png."""

    def take(page: Page, name: str) -> None:
        size = page.viewport_size or {"width": WIDE, "height": 900}
        for width in (WIDE, PHONE):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(screenshots / f"{name}-{width}.png"), full_page=True)
        page.set_viewport_size(size)

    return take
