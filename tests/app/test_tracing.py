"""Traces go out over OTLP only when an endpoint is set: in a child process (the tracer
provider is process-wide), a request to the API is exported to a local OTLP/HTTP receiver as
a span of its route; without the endpoint nothing is set up and no interceptor is added."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("opentelemetry.sdk", reason="the `otel` extra is not installed")

pytestmark = pytest.mark.pure

CHILD = r"""
import asyncio, http.server, sys, threading
from unittest.mock import MagicMock

got = []

class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        got.append((self.path, body))
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass

server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()

from app import tracing
from app.logcontext import client_interceptors
assert tracing.setup_tracing(None, "x") is False and tracing.temporal_interceptors() == []
assert tracing.setup_tracing(f"http://127.0.0.1:{server.server_port}", "thidua-api-test")
assert any(type(i).__name__ == "TracingInterceptor" for i in client_interceptors())

import httpx
from opentelemetry import trace
from app.http import create_app
from app.settings import Settings

services = MagicMock()
services.settings = Settings()
services.settings.api_tokens = {}
app = create_app(services, authenticate=lambda scope: None)

async def main():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as c:
        assert (await c.get("/openapi.json")).status_code == 200

asyncio.run(main())
trace.get_tracer_provider().force_flush()
paths = [p for p, _ in got]
assert paths and all(p == "/v1/traces" for p in paths), paths
assert any(b"/openapi.json" in body for _, body in got), got
print("SPANS-EXPORTED", len(got))
"""


def test_a_request_is_exported_as_a_span_when_an_endpoint_is_set() -> None:
    run = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "SPANS-EXPORTED" in run.stdout
