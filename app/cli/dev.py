"""`thidua dev …`: the whole stack on one machine, for development and small installations."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated

import structlog
import typer

from ..bootstrap import Services, bootstrap
from ..discovery import STANDBY_ENV, DevInfo, dev_file, write_dev
from ..settings import Settings
from .common import err, run, settings_of

__all__ = ["app"]

app = typer.Typer(help="The embedded stack for one machine.", no_args_is_help=True)
log = structlog.get_logger("thidua.dev")


RESTART_DELAY = (0.5, 10.0)
"""A child that dies is restarted after 0.5 s, doubling up to 10 s while it keeps dying; the
delay starts again from 0.5 s once a child has lived HEALTHY seconds."""
HEALTHY = 30.0


class Child:
    """A supervised child process (`python -m app api …`): restarted when it dies on its own,
    stopped with SIGTERM (then SIGKILL) when the stack stops."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.name, self.args, self.env = name, args, env
        self.proc: asyncio.subprocess.Process | None = None
        self.stopping = False

    async def supervise(self) -> None:
        delay = RESTART_DELAY[0]
        while not self.stopping:
            born = time.monotonic()
            self.proc = await _spawn(self.args, self.env)
            code = await self.proc.wait()
            if self.stopping:
                return
            delay = _next_delay(delay, born)
            log.warning("dev.child_exited", child=self.name, code=code, restart_in=delay)
            await asyncio.sleep(delay)

    async def stop(self, grace: float = 15.0) -> None:
        self.stopping = True
        await _terminate(self.proc, grace)


class Workers:
    """The stack's worker and a spare beside it that has imported, connected and built its
    worker but does not poll (app/worker.py, STANDBY_ENV). When the worker dies, the spare is
    promoted at once and a new spare is started, so the cycles of the dead worker are taken up
    after Temporal's sticky timeout rather than after a Python process's start. `on_change` gets
    the running worker's pid (dev.json keeps it)."""

    name = "worker"

    def __init__(self, env: dict[str, str], on_change: Callable[[int], None]) -> None:
        self.env, self.on_change = env, on_change
        self.active: asyncio.subprocess.Process | None = None
        self.spare: asyncio.subprocess.Process | None = None
        self.stopping = False

    async def _spare(self) -> asyncio.subprocess.Process:
        return await _spawn(["worker"], {**self.env, STANDBY_ENV: "1"},
                            stdin=asyncio.subprocess.PIPE)

    async def start(self) -> None:
        self.active = await _spawn(["worker"], self.env)
        self.on_change(self.active.pid)
        self.spare = await self._spare()

    async def supervise(self) -> None:
        delay = spare_delay = RESTART_DELAY[0]
        born = spare_born = time.monotonic()
        while not self.stopping:
            active, spare = self.active, self.spare
            assert active is not None and spare is not None, "start() first"
            waits = [asyncio.create_task(active.wait()), asyncio.create_task(spare.wait())]
            _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for t in pending:
                t.cancel()
            if self.stopping:
                return
            if active.returncode is not None:
                delay = _next_delay(delay, born)
                log.warning("dev.child_exited", child="worker", code=active.returncode,
                            promoted="spare" if spare.returncode is None else None)
                if spare.returncode is None and spare.stdin is not None:
                    spare.stdin.write(b"go\n")
                    self.active, born = spare, time.monotonic()
                    self.on_change(spare.pid)
                    await asyncio.sleep(delay)  # let the promoted worker start first
                    self.spare, spare_born = await self._spare(), time.monotonic()
                else:
                    await asyncio.sleep(delay)
                    self.active, born = await _spawn(["worker"], self.env), time.monotonic()
                    self.on_change(self.active.pid)
            elif spare.returncode is not None:
                spare_delay = _next_delay(spare_delay, spare_born)
                log.warning("dev.child_exited", child="spare worker", code=spare.returncode,
                            restart_in=spare_delay)
                await asyncio.sleep(spare_delay)
                self.spare, spare_born = await self._spare(), time.monotonic()

    async def stop(self, grace: float = 15.0) -> None:
        self.stopping = True
        await asyncio.gather(_terminate(self.active, grace), _terminate(self.spare, grace))


async def _spawn(args: list[str], env: dict[str, str], *,
                 stdin: int = asyncio.subprocess.DEVNULL) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app", *args, env=env, stdin=stdin,
    )


def _next_delay(delay: float, born: float) -> float:
    if time.monotonic() - born > HEALTHY:
        return RESTART_DELAY[0]
    return min(delay * 2, RESTART_DELAY[1])


async def _terminate(proc: asyncio.subprocess.Process | None, grace: float) -> None:
    if proc is None or proc.returncode is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), grace)
    except TimeoutError:
        proc.kill()
        await proc.wait()


async def serve(settings: Settings, *, api_port: int, with_api: bool,
                demo_users: bool = False) -> None:
    async with bootstrap(settings, temporal="serve", setup=True) as services:
        if demo_users:
            from .users import create_demo_users

            await create_demo_users(services)
        server = services.dev_server
        assert server is not None and services.temporal is not None
        address = services.temporal.service_client.config.target_host
        api_url = f"http://127.0.0.1:{api_port}" if with_api else None
        public, witness = _witness_key(settings)
        info = DevInfo(
            pid=os.getpid(), temporal_address=address, namespace=settings.temporal_namespace,
            task_queue=settings.task_queue, database_url=services.database_url,
            ui_url=server.ui_url, api_url=api_url, witness_public_key=public,
            witness_dir=witness,
        )
        env = {
            **os.environ, "TEMPORAL_ADDRESS": address, "DATABASE_URL": services.database_url,
            "TEMPORAL_NAMESPACE": settings.temporal_namespace, "TASK_QUEUE": settings.task_queue,
            "THIDUA_HOME": str(settings.home),
        }
        env.pop(STANDBY_ENV, None)

        def worker_changed(pid: int) -> None:
            nonlocal info
            info = replace(info, worker_pid=pid)
            write_dev(settings, info)

        workers = Workers(env, worker_changed)
        await workers.start()
        children: list[Child | Workers] = [workers]
        if with_api:
            children.append(Child("api", ["api", "--port", str(api_port)], env))
        tasks = [asyncio.create_task(c.supervise()) for c in children]
        _ready(info, services)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            dev_file(settings).unlink(missing_ok=True)
            await asyncio.gather(*(c.stop() for c in children))
            for t in tasks:
                t.cancel()
            err.print("stopped")


def _witness_key(settings: Settings) -> tuple[str | None, str]:
    """The witness key's public half (made under THIDUA_HOME at first start) and the witness
    directory; (None, dir) when the key cannot be read (the worker then says why)."""
    import base64

    from app.witness import WitnessError, witness_dir
    from app.witness.note import public_bytes
    from app.witness.service import signing_key

    where = str(witness_dir(settings))
    try:
        key = signing_key(settings)
    except (WitnessError, OSError):
        return None, where
    return base64.b64encode(public_bytes(key.public_key())).decode(), where


def _ready(info: DevInfo, services: Services) -> None:
    err.print("[green]ready[/green]", highlight=False)
    err.print(f"  Temporal        {info.temporal_address} (namespace {info.namespace}, "
              f"task queue {info.task_queue})", highlight=False)
    if info.ui_url:
        err.print(f"  Temporal Web UI {info.ui_url}", highlight=False)
    if info.api_url:
        err.print(f"  HTTP API        {info.api_url} (OpenAPI at {info.api_url}/docs)",
                  highlight=False)
        err.print(f"  Web pages       {info.api_url}/dang-nhap", highlight=False)
    err.print(f"  PostgreSQL      {_redact(info.database_url or '')}", highlight=False)
    err.print(f"  data            {services.settings.home}", highlight=False)
    if info.witness_public_key:
        err.print(f"  witness         {info.witness_dir} (checkpoints signed by the worker), "
                  f"public key {info.witness_public_key}", highlight=False)
    err.print("  Ctrl-C (or SIGTERM) stops everything", highlight=False)


def _redact(url: str) -> str:
    """A URL without its password, for the screen."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname or ''}" + (
            f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


@app.command("up")
def dev_up(
    ctx: typer.Context,
    api_port: Annotated[int | None, typer.Option(help="port of the HTTP API (default API_PORT)")] = None,
    no_api: Annotated[bool, typer.Option("--no-api", help="do not serve the HTTP API")] = False,
    demo_users: Annotated[bool, typer.Option(
        "--demo-users", help="create (or reset) an administrator, an auditor and one person "
        "per unit of the reference block, and print their logins and passwords once")] = False,
) -> None:
    """Start PostgreSQL, the Temporal dev server (with its Web UI), a worker and the HTTP API,
    and keep them running until Ctrl-C or SIGTERM. Ports are kept across restarts; other
    commands find the stack through THIDUA_HOME/dev.json. A worker or API that dies is
    restarted; the dev server keeps running."""
    settings = settings_of(ctx)
    run(serve(settings, api_port=api_port or settings.api_port, with_api=not no_api,
              demo_users=demo_users))
