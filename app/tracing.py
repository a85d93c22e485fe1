"""OpenTelemetry traces, only when an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT`) and
the optional packages are installed (`pip install 'thidua[otel]'`): spans of the HTTP routes
(FastAPI instrumentation), of PostgreSQL statements (asyncpg instrumentation) and of Temporal's
workflows, updates and activities (temporalio's TracingInterceptor), exported over OTLP/HTTP.
The standard OTEL_* variables (service name, headers, sampler) apply as usual."""

from __future__ import annotations

import os
from typing import Any

import structlog

__all__ = ["instrument_app", "setup_tracing", "temporal_interceptors", "tracing_on"]

log = structlog.get_logger("thidua.tracing")

_on = False


def tracing_on() -> bool:
    return _on


def setup_tracing(endpoint: str | None, service: str) -> bool:
    """Install the tracer provider and the asyncpg instrumentation once; False (and one line
    saying why) when the endpoint is unset or the packages are missing."""
    global _on
    if _on or not endpoint:
        return _on
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        log.warning(
            "tracing.off",
            reason=f"OpenTelemetry packages missing ({exc.name}); install thidua[otel]",
        )
        return False
    os.environ.setdefault("OTEL_SERVICE_NAME", service)
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if not endpoint.rstrip("/").endswith("/v1/traces"):
        endpoint = endpoint.rstrip("/") + "/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    AsyncPGInstrumentor().instrument()  # type: ignore[no-untyped-call]
    _on = True
    log.info("tracing.on", service=service)
    return True


def temporal_interceptors() -> list[Any]:
    """temporalio's TracingInterceptor when tracing is on (a client and worker interceptor:
    given to the client, the worker built on it uses it too)."""
    if not _on:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


def instrument_app(app: Any) -> None:
    if _on:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics")
