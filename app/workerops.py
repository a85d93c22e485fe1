"""The worker's own small HTTP server on METRICS_PORT: `/healthz`, `/readyz` (as the API's:
PostgreSQL, Temporal, a worker polling the task queue) and `/metrics`: the Temporal SDK's
runtime metrics (temporalio's Runtime telemetry, a PrometheusConfig on a loopback port of its
own, read back at each scrape) followed by thidua's (app/metrics.py), in one text.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator

import structlog
import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from .discovery import ServiceNotFound
from .health import Health
from .metrics import StoreGauges, exposition, fetch_text

__all__ = ["free_port", "metrics_runtime", "ops_app", "serve_ops"]

log = structlog.get_logger("thidua.worker")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
    return port


def metrics_runtime() -> tuple[Runtime, str]:
    """A Temporal runtime whose SDK metrics are served on a loopback port; and its URL."""
    address = f"127.0.0.1:{free_port()}"
    runtime = Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(
                bind_address=address, counters_total_suffix=True, durations_as_seconds=True
            )
        )
    )
    return runtime, f"http://{address}/metrics"


def ops_app(health: Health, gauges: StoreGauges | None, sdk_url: str | None) -> Starlette:
    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        from .http.ops import ready_response

        return await ready_response(health)

    async def metrics(request: Request) -> Response:
        sdk = await fetch_text(sdk_url) if sdk_url else b""
        if gauges is not None:
            await gauges.refresh()
        return Response(exposition(sdk), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
        ]
    )


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the worker's own SIGTERM handling stays."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve_ops(app: Starlette, host: str, port: int) -> AsyncIterator[None]:
    """Serve `app` on host:port while the block runs (ServiceNotFound at once when the port is held)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServiceNotFound(
            f"cannot serve the worker's metrics on {host}:{port} (METRICS_PORT): {exc.strerror}"
        ) from None
    server = _Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        log.info("worker.metrics", address=f"http://{host}:{port}/metrics")
        yield
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await task
        sock.close()
