"""Errors as HTTP answers: rule codes to statuses, validation errors that never echo input.

    not_authorized → 403      unknown_cycle → 404      every other rule code → 409
    temporal_unavailable → 503 (a read that needs Temporal's history)
    signing_key_unreadable → 503 (the minutes' signing key, THIDUA_SIGN_P12, cannot be opened)
    a body or parameter that does not validate → 422 (field, rule, message; no input echoed);
    so is `invalid_input`, a block command's field that breaks its rule (app/blocks.py)
    a body over the limit → 413        a cycle that stays busy → 429 with Retry-After
    login_delayed (the login throttle) → 429 with Retry-After
    a body that cannot be read (malformed, JSON nested too deep) → 400 `invalid_request`
    a value PostgreSQL cannot take or hold (a NUL, a number out of range, too deep) → 422
    the store unreachable → 503 `store_unavailable` with Retry-After; an append that lost a race
    → 409 `store_conflict`; any other failure of the store → 503 `store_failed`

The store's errors (eventstore.errors) and the driver's (asyncpg, from the read models' own
queries) are mapped here and nowhere else; no message of theirs reaches the caller.
"""

from __future__ import annotations

import math
import re
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.commands import COMMAND_NAMES
from domain.errors import DomainError
from eventstore.errors import AppendRejected, StoreError, StoreUnavailable

from ..client import CycleBusy
from ..documents.signing import SigningKeyError
from ..identity import LoginDelayed
from ..identity.errors import STATUS as IDENTITY_STATUS
from .evidence import STATUS as EVIDENCE_STATUS

__all__ = ["STATUS", "field_path", "install_error_handlers", "problem"]

STATUS = {
    "not_authorized": 403,
    "unknown_cycle": 404,
    "unknown_stream": 404,
    "sso_disabled": 404,
    "invalid_idempotency_key": 422,
    "invalid_input": 422,
    **IDENTITY_STATUS,
    "unknown_block": 404,
    "unknown_proposals": 404,
    "unknown_year": 404,
    "unknown_workflow": 404,
    "temporal_unavailable": 503,
    "invalid_export": 422,
    **EVIDENCE_STATUS,
}


def problem(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"code": code, "message": message, "field": field, **extra}
    return JSONResponse(body, status_code=status, headers=headers)


_SAFE_PART = re.compile(r"[A-Za-z0-9_.\-]{1,64}", re.ASCII)
_ECHOING = {
    # pydantic's messages that quote what was sent: said without it
    "union_tag_invalid": "not one of the known values",
    "uuid_parsing": "not a UUID",
    "uuid_type": "not a UUID",
    "json_invalid": "not valid JSON",
    "url_parsing": "not a URL",
}


def _message(e: dict[str, Any]) -> str:
    """The rule's words: pydantic's (they name the expected, not the given) or our validators'
    (domain.values: the rule first, never the value)."""
    kind = str(e.get("type", ""))
    if kind in _ECHOING:
        return _ECHOING[kind]
    return str(e.get("msg", ""))[:300]


def field_path(loc: tuple[Any, ...]) -> str:
    """The whole path of the field an error concerns, dotted (`score_sheet.max_total`,
    `leaving_after_year.0`), without where it came from (body, query, …) and without the
    command union's tag (`sign_pledge`), which pydantic puts first and is not a field. A key of
    the request that is no plain name (a field the body invented) is not repeated."""
    parts = [str(p) if isinstance(p, int) or _SAFE_PART.fullmatch(str(p)) else "…" for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        where, rest = parts[0], parts[1:]
        if where == "body" and len(rest) > 1 and rest[0] in COMMAND_NAMES:
            rest = rest[1:]
        return ".".join(rest) or where
    return ".".join(parts)


_BAD_VALUE_CLASSES = ("22", "54")  # SQLSTATE data exception, program limit exceeded
_UNSTORABLE = {
    "code": "invalid_request",
    "field": None,
    "message": "a value in the request cannot be stored or searched (e.g. a NUL "
    "character, a number out of range or nesting too deep)",
}


def _bad_value(exc: BaseException | None) -> bool:
    """A driver error caused by a value of the request, not by the database's health."""
    while exc is not None:
        if isinstance(exc, asyncpg.exceptions._base.DataError):  # a client-side encoding
            return True
        if isinstance(exc, asyncpg.PostgresError):
            return str(getattr(exc, "sqlstate", "") or "")[:2] in _BAD_VALUE_CLASSES
        exc = exc.__cause__
    return False


def store_problem(exc: BaseException) -> JSONResponse:
    """The answer to an error of the store or the driver; never its text."""
    if _bad_value(exc):
        return JSONResponse(_UNSTORABLE, status_code=422)
    if isinstance(exc, StoreUnavailable | OSError | asyncpg.PostgresConnectionError):
        return problem(
            503,
            "store_unavailable",
            "the event store cannot be reached now; retry later",
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, AppendRejected):
        return problem(
            409,
            "store_conflict",
            "the record changed while this request was applied; send it again",
        )
    return problem(
        503,
        "store_failed",
        "the event store could not answer this request",
        headers={"Retry-After": "5"},
    )


_HTTP_CODES = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed"}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def rejected(request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(exc.as_dict(), status_code=STATUS.get(exc.code, 409))

    @app.exception_handler(LoginDelayed)
    async def delayed(request: Request, exc: LoginDelayed) -> JSONResponse:
        return JSONResponse(
            exc.as_dict(), status_code=429, headers={"Retry-After": str(exc.retry_after_seconds)}
        )

    @app.exception_handler(StoreError)
    @app.exception_handler(asyncpg.PostgresError)
    @app.exception_handler(asyncpg.InterfaceError)
    async def store_failed(request: Request, exc: Exception) -> JSONResponse:
        # a value PostgreSQL cannot take that no bound caught is the request's fault (422);
        # the store's own trouble is 409 or 503: never a 500, never the driver's words
        return store_problem(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # the framework's own refusals (no such route, a body that cannot be read, e.g. JSON
        # nested too deep) in the same shape as every other answer; `detail` kept
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = (
            "the body cannot be read (malformed, or nested too deep)"
            if exc.status_code == 400
            else str(exc.detail)
        )
        return JSONResponse(
            {"code": code, "message": message, "field": None, "detail": exc.detail},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
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
            {
                "code": "cycle_busy",
                "message": str(exc),
                "field": None,
                "retry_after_seconds": seconds,
            },
            status_code=429,
            headers={"Retry-After": str(seconds)},
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for e in exc.errors()[:20]:
            msg = _message(e)
            errors.append(
                {
                    "field": field_path(tuple(e.get("loc", ()))),
                    "rule": e.get("type"),
                    "message": msg,
                }
            )
        first = errors[0] if errors else {"field": None, "message": "invalid request"}
        return JSONResponse(
            {
                "code": "invalid_request",
                "message": first["message"],
                "field": first["field"],
                "errors": errors,
            },
            status_code=422,
        )
