"""Pure ASGI middleware that guards the service before any route runs:

- `BodyLimit`: a request body over `max_bytes` gets 413 before anything parses it (by its
  Content-Length, or while it streams in); a path with a larger limit of its own (an upload)
  must send a Content-Length (else 411) and is then streamed on, never buffered here;
- `AuthGate`: a protected path needs a caller the authenticator knows, checked before the body
  is read (401; 403 when the authenticator refuses with a rule code, e.g. `csrf_failed`); the
  caller goes into `scope["state"]["actor"]` for the routes;
- `AccessLog`: one structured log line per request (request id, actor, method, route, status,
  duration) — never a header, a token or a body.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
import structlog

from domain.errors import DomainError

__all__ = ["PUBLIC_PATHS", "AccessLog", "AuthGate", "BodyLimit", "request_id_of"]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PUBLIC_PATHS = (
    "/healthz",
    "/readyz",
    "/metrics",
    "/docs",
    "/openapi.json",
    "/docs/oauth2-redirect",
)

log = structlog.get_logger("thidua.http")


async def _json(
    send: Send,
    status: int,
    body: dict[str, Any],
    headers: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
) -> None:
    data = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


async def _too_large(send: Send, message: str, limit: int) -> None:
    """413 `body_too_large`, naming the limit."""
    await _json(
        send,
        413,
        {"code": "body_too_large", "message": message, "field": None, "limit_bytes": limit},
    )


def _size(n: int) -> str:
    return f"{n // 2**20} MB" if n >= 2**20 and n % 2**20 == 0 else f"{n // 1024} KB"


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        per_path: Mapping[str, int] | None = None,
        per_pattern: tuple[tuple[re.Pattern[str], int], ...] = (),
    ) -> None:
        self.app, self.max_bytes = app, max_bytes
        self.per_path = dict(per_path or {})
        self.per_pattern = per_pattern

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        own = self.per_path.get(scope["path"])
        if own is None:
            own = next((n for p, n in self.per_pattern if p.match(scope["path"])), None)
        if own is not None:
            await self._own_limit(own, scope, receive, send)
            return
        message = (f"the request body is larger than {self.max_bytes // 1024} KB",)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await _too_large(send, message[0], self.max_bytes)
                    return
        # No (trusted) length: read the body here, up to the limit, and hand it on whole.
        chunks: list[bytes] = []
        seen = 0
        while True:
            msg = await receive()
            if msg["type"] != "http.request":
                await self.app(scope, _replay([], msg), send)
                return
            body = msg.get("body", b"")
            seen += len(body)
            if seen > self.max_bytes:
                await _too_large(send, message[0], self.max_bytes)
                return
            chunks.append(body)
            if not msg.get("more_body", False):
                break
        await self.app(scope, _replay(chunks, None, receive), send)

    async def _own_limit(self, limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        """A path with its own (large) limit: the length must be declared, so the answer comes
        before the body is read, and nothing that large is buffered ahead of the AuthGate."""
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        length = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = None
        if length is None or length < 0:
            await _json(
                send,
                411,
                {
                    "code": "length_required",
                    "field": "Content-Length",
                    "message": "this upload needs a Content-Length header",
                },
            )
            return
        if length > limit:
            await _too_large(
                send,
                f"the request body is larger than {_size(limit)}, the limit of {scope['path']}",
                limit,
            )
            return
        await self.app(scope, receive, send)


def _replay(
    chunks: list[bytes], final: dict[str, Any] | None, receive: Receive | None = None
) -> Receive:
    """A `receive` that gives the buffered body once, then behaves as the original."""
    sent = False

    async def again() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            if final is not None:
                return final
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        if receive is None:
            return {"type": "http.disconnect"}
        return await receive()

    return again


Authenticate = Callable[[Scope], Awaitable[Any]]


class AuthGate:
    """401 for a protected path without a known caller; the body is not read before."""

    def __init__(
        self,
        app: ASGIApp,
        authenticate: Authenticate,
        public: tuple[str, ...] = PUBLIC_PATHS,
        public_prefixes: tuple[str, ...] = (),
        login_page: str | None = None,
    ) -> None:
        self.app, self.authenticate, self.public = app, authenticate, public
        self.public_prefixes, self.login_page = public_prefixes, login_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] in self.public
            or (self.public_prefixes and scope["path"].startswith(self.public_prefixes))
        ):
            await self.app(scope, receive, send)
            return
        try:
            actor = await self.authenticate(scope)
        except DomainError as exc:  # e.g. csrf_failed: a live session, a forged request
            await _json(send, 403, exc.as_dict())
            return
        if actor is None and self.login_page and _wants_html(scope):
            # a person's browser (a page, or a page's form after the session ended): to the
            # login page, which brings them back here; nothing of the request is processed
            await _to_login(send, self.login_page, scope)
            return
        if actor is None:
            await _json(
                send,
                401,
                {
                    "code": "not_authenticated",
                    "field": "Authorization",
                    "message": "a valid bearer token is required",
                },
                [(b"www-authenticate", b"Bearer")],
            )
            return
        scope.setdefault("state", {})["actor"] = actor
        await self.app(scope, receive, send)


def _wants_html(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            return b"text/html" in value
    return False


async def _to_login(send: Send, login_page: str, scope: Scope) -> None:
    from urllib.parse import quote

    # a form's page is the GET of its own path: the person comes back to it after login
    back = scope["path"] if scope["path"] != "/dang-xuat" else "/"
    query = scope.get("query_string", b"").decode("latin-1")
    if query and scope.get("method") == "GET":
        back += "?" + query
    location = f"{login_page}?het-han=1&tiep={quote(back, safe='')}"
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode("latin-1")),
                (b"content-length", b"0"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})


_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:~/+=-]{1,128}$")


def request_id_of(scope: Scope) -> str:
    """The caller's X-Request-ID when it is a sane token (1–128 of A–Z a–z 0–9 . _ : ~ / + = -),
    else a new one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id" and _REQUEST_ID.match(value):
            text: str = value.decode("ascii")
            return text
    return uuid.uuid4().hex[:16]


class AccessLog:
    """One log line per request, the request's id in every line written meanwhile (structlog
    contextvars) and in the answer's X-Request-ID, and the request counted in the metrics by
    its route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from ..metrics import HTTP_LATENCY, HTTP_REQUESTS

        request_id = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        t0 = time.perf_counter()

        async def sending(msg: dict[str, Any]) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
                msg = {
                    **msg,
                    "headers": [*msg.get("headers", ()), (b"x-request-id", request_id.encode())],
                }
            await send(msg)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, sending)
            finally:
                actor = scope.get("state", {}).get("actor")
                route = scope.get("route")
                # a path no route matched is counted under one name, not by its text
                template = getattr(route, "path", None) or (
                    "/static" if scope["path"].startswith("/static/") else "unmatched"
                )
                elapsed = time.perf_counter() - t0
                HTTP_REQUESTS.labels(scope["method"], template, str(status)).inc()
                HTTP_LATENCY.labels(scope["method"], template).observe(elapsed)
                log.info(
                    "http.request",
                    method=scope["method"],
                    route=getattr(route, "path", scope["path"]),
                    status=status,
                    actor=_who(actor),
                    duration_ms=round(elapsed * 1000, 1),
                )


def _who(actor: Any) -> str | None:
    if actor is None:
        return None
    kind = getattr(actor, "kind", None)
    unit = getattr(actor, "unit", None)
    login = getattr(actor, "login", None)
    return ":".join(str(p) for p in (kind, unit, login) if p)
