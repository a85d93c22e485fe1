"""The OpenAPI document: one operation id per route, the bearer and session schemes, and the
real error body (code, message, field) with an example for every refusal a route can give."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from app.bootstrap import Services
from app.http import create_app, static_tokens

pytestmark = pytest.mark.temporal

REFUSALS = ("401", "403", "404", "409", "413", "422", "429", "503")


@pytest.fixture
async def schema(services: Services) -> dict[str, Any]:
    app = create_app(services, authenticate=static_tokens({}))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://thidua"
    ) as client:
        r = await client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op) for path, ops in schema["paths"].items() for method, op in ops.items()
    ]


async def test_every_operation_has_its_own_id(schema: dict[str, Any]) -> None:
    ids = Counter(op["operationId"] for _, _, op in operations(schema))
    assert ids and max(ids.values()) == 1, [k for k, n in ids.items() if n > 1]
    assert ids["send_command"] == 1 and ids["readyz"] == 1


async def test_bearer_and_session_are_the_security_schemes(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schema["security"] == [{"bearer": []}, {"session": []}]
    assert schema["paths"]["/healthz"]["get"]["security"] == []  # public
    assert "security" not in schema["paths"]["/cycles/{block}/{year}/commands"]["post"]


async def test_refusals_document_the_real_error_body(schema: dict[str, Any]) -> None:
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message", "field"}
    post = schema["paths"]["/cycles/{block}/{year}/commands"]["post"]["responses"]
    for status in REFUSALS:
        body = post[status]["content"]["application/json"]
        assert {"code", "message", "field"} <= set(body["example"]), status
    assert post["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ValidationError")
    assert "Retry-After" in post["503"]["headers"] and "Retry-After" in post["429"]["headers"]
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for path, method, op in operations(schema):
        for status in ("422", "503"):
            assert status in op["responses"], (path, method, status)
