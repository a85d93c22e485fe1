"""What operators and their tools ask of the API: `/healthz` (the process answers), `/readyz`
(PostgreSQL, Temporal and a worker answer; app/health.py), `/metrics` (Prometheus text), and the
`Outages` guard that turns a database or engine that went away into 503 with a code and
Retry-After (anything else unexpected into a JSON 500), never a plain-text error page."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from ..health import Health, outage_of
from ..metrics import exposition
from .limits import ASGIApp, Receive, Scope, Send, _json

__all__ = ["PUBLIC", "Outages", "router"]

PUBLIC = ("/healthz", "/readyz", "/metrics")

router = APIRouter(tags=["operations"])
log = structlog.get_logger("thidua.http")


def health(request: Request) -> Health:
    return request.app.state.health  # type: ignore[no-any-return]


@router.get("/healthz", operation_id="healthz", summary="the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="readyz",
    summary="PostgreSQL, Temporal and a worker answer (else 503 with the first failing code)",
    responses={503: {"description": "a service is down"}},
)
async def readyz(request: Request) -> JSONResponse:
    return await ready_response(health(request))


async def ready_response(h: Health) -> JSONResponse:
    checks = await h.ready()
    failed = [c for c in checks if not c.ok]
    body: dict[str, Any] = {
        "status": "ok" if not failed else "unavailable",
        "checks": [c.as_dict() for c in checks],
    }
    if not failed:
        return JSONResponse(body)
    body.update(code=failed[0].code, message=failed[0].detail, field=None)
    return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})


@router.get(
    "/metrics", operation_id="metrics", summary="Prometheus metrics", response_class=Response
)
async def metrics() -> Response:
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


class Outages:
    """503 with a code for an outage; a JSON 500 for anything else that escaped the routes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(msg: dict[str, Any]) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:
                raise
            outage = outage_of(exc)
            if outage is None:
                log.exception("http.error", route=scope.get("path"))
                await _json(
                    send,
                    500,
                    {
                        "code": "internal_error",
                        "field": None,
                        "message": "an unexpected error; it has been logged",
                    },
                )
                return
            log.warning("http.outage", code=outage.code, error=type(exc).__name__)
            await _json(
                send,
                503,
                {
                    "code": outage.code,
                    "message": str(outage),
                    "field": None,
                    "retry_after_seconds": outage.retry_after,
                },
                [(b"retry-after", str(outage.retry_after).encode())],
            )
