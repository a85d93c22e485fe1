"""The OpenAPI document as callers meet the API: an operation id per route (its function's
name), the two ways to authenticate (a bearer token from `thidua tokens issue`, or the web
session's cookie), and the error body every refusal really has — `{code, message, field}` —
for 401, 403, 404, 409, 413, 422, 429 and 503, with an example each."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from ..identity.sessions import COOKIE

__all__ = ["install_openapi", "operation_id"]

_ERROR = {
    "type": "object",
    "required": ["code", "message", "field"],
    "properties": {
        "code": {"type": "string", "description": "the rule or condition, e.g. wrong_stage"},
        "message": {"type": "string", "description": "what went wrong, for a person"},
        "field": {
            "type": ["string", "null"],
            "description": "the field, parameter or header at fault, if one is",
        },
        "retry_after_seconds": {
            "type": "integer",
            "description": "429 and 503: also in Retry-After",
        },
    },
}
_VALIDATION = {
    "allOf": [
        {"$ref": "#/components/schemas/Error"},
        {
            "type": "object",
            "properties": {
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string"},
                            "rule": {"type": "string"},
                            "message": {"type": "string"},
                        },
                    },
                }
            },
        },
    ],
}

_EXAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "401": (
        "no or a dead credential",
        {
            "code": "not_authenticated",
            "message": "a valid bearer token is required",
            "field": "Authorization",
        },
    ),
    "403": (
        "the caller may not do this",
        {
            "code": "not_authorized",
            "message": "only the chair may close the pledge stage",
            "field": None,
        },
    ),
    "404": (
        "no such cycle, block or year",
        {"code": "unknown_cycle", "message": "no such cycle", "field": None},
    ),
    "409": (
        "a rule refused the command",
        {"code": "wrong_stage", "message": "the cycle is in stage scoring", "field": None},
    ),
    "413": (
        "the body is over the limit (256 KB; 32 MB for an export upload)",
        {
            "code": "body_too_large",
            "message": "the request body is larger than 256 KB",
            "field": None,
        },
    ),
    "422": (
        "a body or parameter that does not validate (never echoed back)",
        {
            "code": "invalid_request",
            "message": "Field required",
            "field": "unit",
            "errors": [{"field": "unit", "rule": "missing", "message": "Field required"}],
        },
    ),
    "429": (
        "the cycle stays busy: retry after Retry-After seconds",
        {
            "code": "cycle_busy",
            "message": "the cycle is busy; retry after 2 s",
            "field": None,
            "retry_after_seconds": 2,
        },
    ),
    "503": (
        "a service is down: store_unavailable, engine_unavailable or no_worker",
        {
            "code": "no_worker",
            "message": "no worker is running for the cycles; nothing was "
            "applied; retry later with the same Idempotency-Key",
            "field": None,
            "retry_after_seconds": 5,
        },
    ),
}
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}


def operation_id(route: APIRoute) -> str:
    """A route's operation id: its function's name (unique across the app; checked by
    tests/app/test_openapi.py)."""
    return route.name


def _statuses(path: str, method: str, public: bool) -> list[str]:
    out = [] if public else ["401", "403", "404", "409"]
    if method in ("post", "put", "patch"):
        out.append("413")
    out += ["422", "429", "503"]
    return out


def install_openapi(app: FastAPI, public: tuple[str, ...]) -> None:
    """Replace app.openapi with the document described above."""

    def document() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        schemas["Error"] = _ERROR
        schemas["ValidationError"] = _VALIDATION
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError_", None)
        components["securitySchemes"] = {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "a person's API token (`thidua tokens issue`), thd_…",
            },
            "session": {
                "type": "apiKey",
                "in": "cookie",
                "name": COOKIE,
                "description": "the web session (POST /session); its forms also "
                "need the CSRF token",
            },
        }
        schema["security"] = [{"bearer": []}, {"session": []}]
        for path, operations in schema.get("paths", {}).items():
            is_public = path in public
            for method, op in operations.items():
                if is_public:
                    op["security"] = []
                responses = op.setdefault("responses", {})
                for status in _statuses(path, method, is_public):
                    description, example = _EXAMPLES[status]
                    ref = "ValidationError" if status == "422" else "Error"
                    answer: dict[str, Any] = {
                        "description": description,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/{ref}"},
                                "example": example,
                            }
                        },
                    }
                    if status in ("429", "503"):
                        answer["headers"] = _RETRY_AFTER
                    responses[status] = answer
        app.openapi_schema = schema
        return schema

    app.openapi = document  # type: ignore[method-assign]
