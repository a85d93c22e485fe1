"""Security headers on every response, from one place: `SecurityHeaders`, the outermost ASGI
layer (outside Starlette's own error middleware, so a 500, a 401/413 of the guards, a 404 and a
static file get them too). The header values are `secure` policies (the `secure` library's
builders and its ASGI middleware); this module only chooses the policy for a request:

- every response: a Content-Security-Policy without inline script (`PAGE_CSP`), X-Frame-Options
  DENY (and `frame-ancestors 'none'`), X-Content-Type-Options nosniff, Referrer-Policy
  same-origin;
- `Cache-Control: no-store` on everything but the static files (pages, JSON, minutes, exports
  and errors are personal or audit data); static files `no-cache`: kept, revalidated by ETag
  each time (their names carry no version, so a new release shows at once);
- Strict-Transport-Security only when the request's scheme is https: the same scheme that makes
  the session cookie `Secure` (taken from X-Forwarded-Proto only from the proxies listed in
  `THIDUA_TRUSTED_PROXIES`: app/http/__init__.py reads them before this layer);
- the API's documentation (app/http/docs.py) loads Swagger UI from our own `/docs/assets/`
  (no other origin in any policy): `/docs` and its OAuth2 redirect page get `_docs_csp`,
  scripts and styles from 'self' plus the hash of Swagger UI's one inline script (and of the
  redirect page's). No page of the service runs there.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from secure import (
    CacheControl,
    ContentSecurityPolicy,
    ReferrerPolicy,
    Secure,
    StrictTransportSecurity,
    XContentTypeOptions,
    XFrameOptions,
)
from secure.middleware import SecureASGIMiddleware

__all__ = [
    "DOCS_ASSETS_PREFIX",
    "DOCS_PATHS",
    "PAGE_CSP",
    "STATIC_PREFIX",
    "SecurityHeaders",
    "csp_hash",
    "inline_script_hashes",
]

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

STATIC_PREFIX = "/static/"
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect")
DOCS_ASSETS_PREFIX = "/docs/assets/"
HSTS_SECONDS = 365 * 24 * 3600


def csp_hash(text: str) -> str:
    """The CSP source expression that allows exactly this inline script or style."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def inline_script_hashes(html: str) -> list[str]:
    """The hashes of the inline `<script>` elements of a page (those without `src`)."""
    return [
        csp_hash(body)
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
        if "src=" not in attrs
    ]


def _common(csp: ContentSecurityPolicy, *, https: bool, cache: CacheControl) -> Secure:
    return Secure(
        csp=csp,
        xfo=XFrameOptions().deny(),
        xcto=XContentTypeOptions().nosniff(),
        referrer=ReferrerPolicy().same_origin(),
        cache=cache,
        hsts=StrictTransportSecurity().max_age(HSTS_SECONDS) if https else None,
    ).validate_and_normalize_headers()  # checked once; a snapshot served to every response


def _page_csp(style_hashes: Iterable[str]) -> ContentSecurityPolicy:
    return (
        ContentSecurityPolicy()
        .default_src("'self'")
        .script_src("'self'")
        .style_src("'self'", *style_hashes)
        .img_src("'self'", "data:")
        .frame_ancestors("'none'")
        .base_uri("'none'")
        .form_action("'self'")
        .object_src("'none'")
    )


def _docs_csp(script_hashes: Iterable[str]) -> ContentSecurityPolicy:
    # Swagger UI: its bundle and stylesheet from /docs/assets/, its one inline script by hash
    return (
        ContentSecurityPolicy()
        .default_src("'self'")
        .script_src("'self'", *script_hashes)
        .style_src("'self'")
        .img_src("'self'", "data:")
        .frame_ancestors("'none'")
        .base_uri("'none'")
        .form_action("'self'")
        .object_src("'none'")
    )


def _minutes_style_hash() -> str:
    # the minutes' HTML (…/minutes.html) carries its stylesheet inline: the PDF is made from it
    from ..documents.minutes import minutes_css

    return csp_hash(minutes_css())


PAGE_CSP = _page_csp([_minutes_style_hash()]).header_value


class SecurityHeaders:
    """Wraps the whole app; one `secure` middleware per kind of response."""

    def __init__(self, app: ASGIApp, *, docs_script_hashes: Iterable[str] = ()) -> None:
        no_store = CacheControl().no_store()
        revalidate = CacheControl().no_cache()
        page_csp = _page_csp([_minutes_style_hash()])
        docs_csp = _docs_csp(docs_script_hashes)
        self.app = app
        self.layers = {
            (kind, https): SecureASGIMiddleware(app, secure=_common(csp, https=https, cache=cache))
            for kind, csp, cache in (
                ("page", page_csp, no_store),
                ("static", page_csp, revalidate),
                ("docs", docs_csp, no_store),
            )
            for https in (False, True)
        }

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        kind = (
            "static"
            if path.startswith((STATIC_PREFIX, DOCS_ASSETS_PREFIX))
            else "docs"
            if path in DOCS_PATHS
            else "page"
        )
        await self.layers[kind, scope.get("scheme") == "https"](scope, receive, send)
