"""`thidua dev …`: the whole stack on one machine, for development and small installations."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Annotated

import structlog
import typer

from ..bootstrap import Services, bootstrap
from ..discovery import DevInfo, dev_file, write_dev
from ..settings import Settings
from .common import err, run, settings_of

__all__ = ["app"]

app = typer.Typer(help="The embedded stack for one machine.", no_args_is_help=True)
log = structlog.get_logger("thidua.dev")


class Child:
    """A supervised child process (`python -m app worker`, `… api`): restarted when it dies
    on its own, stopped with SIGTERM (then SIGKILL) when the stack stops."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.name, self.args, self.env = name, args, env
        self.proc: asyncio.subprocess.Process | None = None
        self.stopping = False

    async def supervise(self) -> None:
        delay = 0.5
        while not self.stopping:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "app", *self.args, env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
            )
            code = await self.proc.wait()
            if self.stopping:
                return
            log.warning("dev.child_exited", child=self.name, code=code, restart_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def stop(self, grace: float = 15.0) -> None:
        self.stopping = True
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), grace)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def serve(settings: Settings, *, api_port: int, with_api: bool) -> None:
    async with bootstrap(settings, temporal="serve") as services:
        server = services.dev_server
        assert server is not None and services.temporal is not None
        address = services.temporal.service_client.config.target_host
        api_url = f"http://127.0.0.1:{api_port}" if with_api else None
        info = DevInfo(
            pid=os.getpid(), temporal_address=address, namespace=settings.temporal_namespace,
            task_queue=settings.task_queue, database_url=services.database_url,
            ui_url=getattr(server, "ui_url", None), api_url=api_url,
        )
        env = {
            **os.environ, "TEMPORAL_ADDRESS": address, "DATABASE_URL": services.database_url,
            "TEMPORAL_NAMESPACE": settings.temporal_namespace, "TASK_QUEUE": settings.task_queue,
            "THIDUA_HOME": str(settings.home),
        }
        children = [Child("worker", ["worker"], env)]
        if with_api:
            children.append(Child("api", ["api", "--port", str(api_port)], env))
        tasks = [asyncio.create_task(c.supervise()) for c in children]
        write_dev(settings, info)
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
    err.print("  Ctrl-C (or SIGTERM) stops everything", highlight=False)


def _redact(url: str) -> str:
    """A URL without its password, for the screen."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


@app.command("up")
def dev_up(
    ctx: typer.Context,
    api_port: Annotated[int | None, typer.Option(help="port of the HTTP API (default API_PORT)")] = None,
    no_api: Annotated[bool, typer.Option("--no-api", help="do not serve the HTTP API")] = False,
) -> None:
    """Start PostgreSQL, the Temporal dev server (with its Web UI), a worker and the HTTP API,
    and keep them running until Ctrl-C or SIGTERM. Ports are kept across restarts; other
    commands find the stack through THIDUA_HOME/dev.json. A worker or API that dies is
    restarted; the dev server keeps running."""
    settings = settings_of(ctx)
    run(serve(settings, api_port=api_port or settings.api_port, with_api=not no_api))
