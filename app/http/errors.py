"""Errors as HTTP answers: rule codes to statuses, validation errors that never echo input.

    not_authorized → 403      unknown_cycle → 404      every other rule code → 409
    temporal_unavailable → 503 (a read that needs Temporal's history)
    signing_key_unreadable → 503 (the minutes' signing key, THIDUA_SIGN_P12, cannot be opened)
    a body or parameter that does not validate → 422 (field, rule, message; no input echoed)
    a body over the limit → 413        a cycle that stays busy → 429 with Retry-After
"""

from __future__ import annotations

import math
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from domain.commands import COMMAND_NAMES
from domain.errors import DomainError

from ..client import CycleBusy
from ..documents.signing import SigningKeyError
from ..identity.errors import STATUS as IDENTITY_STATUS

__all__ = ["STATUS", "field_path", "install_error_handlers", "problem"]

STATUS = {
    "not_authorized": 403, "unknown_cycle": 404, "unknown_stream": 404, "sso_disabled": 404,
    "invalid_idempotency_key": 422, **IDENTITY_STATUS,
    "unknown_block": 404, "unknown_proposals": 404, "unknown_year": 404,
    "unknown_workflow": 404, "temporal_unavailable": 503, "invalid_export": 422,
}


def problem(status: int, code: str, message: str, field: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"code": code, "message": message, "field": field, **extra}
    return JSONResponse(body, status_code=status, headers=headers)


def field_path(loc: tuple[Any, ...]) -> str:
    """The whole path of the field an error concerns, dotted (`score_sheet.max_total`,
    `leaving_after_year.0`), without where it came from (body, query, …) and without the
    command union's tag (`sign_pledge`), which pydantic puts first and is not a field."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        where, rest = parts[0], parts[1:]
        if where == "body" and len(rest) > 1 and rest[0] in COMMAND_NAMES:
            rest = rest[1:]
        return ".".join(rest) or where
    return ".".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def rejected(request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(exc.as_dict(), status_code=STATUS.get(exc.code, 409))

    @app.exception_handler(asyncpg.DataError)
    async def unstorable(request: Request, exc: asyncpg.DataError) -> JSONResponse:
        # a value PostgreSQL cannot take (a NUL character, an out-of-range number) that no
        # validator caught: the request's fault, never a 500
        return JSONResponse(
            {"code": "invalid_request", "field": None,
             "message": "a value in the request cannot be stored or searched (e.g. a NUL "
                        "character or a number out of range)"},
            status_code=422,
        )

    @app.exception_handler(SigningKeyError)
    async def no_signing_key(request: Request, exc: SigningKeyError) -> JSONResponse:
        # the service's configuration, not the request: its file or password is named, never
        # the password itself
        return problem(503, exc.code, "the signing key cannot be opened", exc.field)

    @app.exception_handler(CycleBusy)
    async def busy(request: Request, exc: CycleBusy) -> JSONResponse:
        seconds = max(1, math.ceil(exc.retry_after_seconds))
        return JSONResponse(
            {"code": "cycle_busy", "message": str(exc), "field": None,
             "retry_after_seconds": seconds},
            status_code=429, headers={"Retry-After": str(seconds)},
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for e in exc.errors()[:20]:
            msg = str(e.get("msg", ""))[:300]
            errors.append({"field": field_path(tuple(e.get("loc", ()))), "rule": e.get("type"),
                           "message": msg})
        first = errors[0] if errors else {"field": None, "message": "invalid request"}
        return JSONResponse(
            {"code": "invalid_request", "message": first["message"], "field": first["field"],
             "errors": errors},
            status_code=422,
        )
