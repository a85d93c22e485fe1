"""The HTTP side: `create_app(services)` includes the routers and the guards; nothing else.

    commands   POST /cycles, POST /cycles/{block}/{year}/commands
    reads      GET /cycles, GET /cycles/{block}/{year}/state, …/pending
    audit      GET /cycles/{block}/{year}/audit; the auditors' pack (auditors, admin):
               GET …/export.zip, GET …/reconcile, GET /audit/verify?year=,
               POST /audit/verify-export (the zip as the body; its own limit, 32 MB)
    pages      the web pages in Vietnamese (app/http/pages; PAGES.md)
    session    login, logout, single sign-on (app/http/session.py: who is calling)
    documents  GET /cycles/{block}/{year}/minutes.pdf, …/minutes.html (auditors, admin);
               GET …/documents/{report,proposal,news}.{docx,pdf} (chair, admin, auditors);
               GET …/export.xlsx (the result page's readers)
    evidence   POST /cycles/{block}/{year}/evidence (a unit's file; its own limit, 10 MB),
               GET …/evidence/{sha256} (app/http/evidence.py)
    blocks     /blocks…, /provinces/{province}/years/{year}… (app/http/blocks.py)

    ops        GET /healthz, /readyz, /metrics; outages as 503 with a code (app/http/ops.py)
    docs       GET /docs (Swagger UI), /openapi.json; Swagger UI's files from the
               fastapi-offline package, no CDN (app/http/docs.py)

Guards, outermost first: the proxy headers (only with THIDUA_TRUSTED_PROXIES), the security
headers on every response (app/http/headers.py), one access-log line per request (X-Request-ID
honoured, metrics), outages as 503 (never a plain-text 500), the body limit (413 before parsing),
the authentication gate (401 before the body is read), then the routes; rule codes and
validation errors become 4xx in app/http/errors.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI

from domain.values import Actor

from ..bootstrap import Services
from ..health import Health
from ..tracing import instrument_app
from . import audit, blocks, commands, documents, evidence, ops, pages, reads, session
from .docs import docs_script_hashes, install_docs
from .errors import install_error_handlers
from .headers import DOCS_ASSETS_PREFIX, SecurityHeaders
from .limits import PUBLIC_PATHS, AccessLog, AuthGate, BodyLimit
from .openapi import install_openapi, operation_id

__all__ = ["MAX_BODY_BYTES", "create_app", "static_tokens"]

MAX_BODY_BYTES = 256 * 1024

Authenticate = Callable[[dict[str, Any]], Awaitable[Actor | None]]


def static_tokens(tokens: dict[str, Actor]) -> Authenticate:
    """Bearer tokens from a mapping only (tests; THIDUA_API_TOKENS alone)."""
    import hmac

    async def authenticate(scope: dict[str, Any]) -> Actor | None:
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer" or not token:
                    return None
                for known, actor in tokens.items():
                    if hmac.compare_digest(known.encode(), token.encode()):
                        return actor
                return None
        return None

    return authenticate


class _App(FastAPI):
    """FastAPI with the security headers outside everything, Starlette's error middleware
    included (a 500 carries them too); only the trusted proxies' headers are read before them,
    so that HSTS follows the scheme the client used (X-Forwarded-Proto from a listed proxy)."""

    trusted_proxies: tuple[str, ...] = ()

    def build_middleware_stack(self) -> Any:
        app: Any = SecurityHeaders(
            super().build_middleware_stack(), docs_script_hashes=docs_script_hashes(self)
        )
        if self.trusted_proxies:
            # X-Forwarded-For / -Proto believed only from these peers (uvicorn's middleware):
            # the client address the login throttle counts by, https for the Secure cookie
            # and for HSTS
            from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

            app = ProxyHeadersMiddleware(app, trusted_hosts=list(self.trusted_proxies))
        return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("thidua")
    except PackageNotFoundError:
        return "0"


def create_app(services: Services, *, authenticate: Authenticate | None = None) -> FastAPI:
    """The ASGI app over `services` (built by app.bootstrap, or by a test)."""
    app = _App(
        title="thidua",
        description="Durable, auditable emulation cycles of emulation blocks.",
        version=_version(),
        generate_unique_id_function=operation_id,
        docs_url=None,
        redoc_url=None,  # ours, with no CDN: app/http/docs.py
    )
    app.state.services = services
    app.state.health = Health(services.pool, services.temporal, services.task_queue)
    install_error_handlers(app)
    app.include_router(ops.router)
    app.include_router(commands.router)
    app.include_router(reads.router)
    app.include_router(audit.router)
    app.include_router(session.router)
    app.include_router(documents.router)
    app.include_router(evidence.router)
    app.include_router(blocks.router)
    pages.mount_pages(app)
    install_docs(app)
    if authenticate is None:
        # people's tokens and sessions; THIDUA_API_TOKENS only as a development shortcut
        dev = {t: Actor.parse(who) for t, who in services.settings.api_tokens.items()}
        authenticate = session.identity_authenticator(
            services.identity, dev, form_csrf=pages.is_page_post, passive=pages.is_poll
        )
    public = PUBLIC_PATHS + session.PUBLIC + pages.PUBLIC_PAGES
    install_openapi(app, public)
    app.add_middleware(
        AuthGate,
        authenticate=authenticate,
        public=public,
        public_prefixes=(*pages.PUBLIC_PREFIXES, DOCS_ASSETS_PREFIX),
        login_page="/dang-nhap",
    )
    app.add_middleware(
        BodyLimit,
        max_bytes=MAX_BODY_BYTES,
        per_path=audit.BODY_LIMITS,
        per_pattern=evidence.BODY_PATTERNS,
    )
    app.add_middleware(ops.Outages)
    app.add_middleware(AccessLog)
    app.trusted_proxies = tuple(services.settings.trusted_proxy_list)
    instrument_app(app)
    return app
