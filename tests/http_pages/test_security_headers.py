"""Security headers on every kind of response of the HTTP app (real stack, session cookies):
pages, JSON, the minutes (PDF and HTML), the export zip, the guards' and the routes' errors,
a 500, static files and FastAPI's /docs; HSTS only over https."""

from __future__ import annotations

import re

import httpx
import pytest

from app.bootstrap import Services
from app.http import create_app, static_tokens
from app.http.headers import PAGE_CSP, csp_hash, inline_script_hashes
from domain.values import Actor
from eventstore import EventStore
from tests.audit.test_http import reference_cycle

from .conftest import HTML, Browser

pytestmark = pytest.mark.temporal

API = "/cycles/kg-khoi-2/2018"
BASE = "/ky/kg-khoi-2/2018"
WANTED_CSP = (
    "default-src 'self'",
    "script-src 'self'",
    "img-src 'self' data:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
)


def directives(csp: str) -> dict[str, str]:
    return {d.split(" ", 1)[0]: d for d in (p.strip() for p in csp.split(";")) if d}


def assert_headers(
    r: httpx.Response, *, cache: str = "no-store", https: bool = False, csp: str | None = PAGE_CSP
) -> None:
    what = f"{r.request.method} {r.request.url.path} → {r.status_code}"
    h = r.headers
    if csp is not None:
        assert h.get("content-security-policy") == csp, what
    wanted = WANTED_CSP if csp is not None else WANTED_CSP[3:]  # /docs: own sources
    for d in wanted:
        assert d in directives(h["content-security-policy"]).values(), (what, d)
    assert h.get("x-frame-options") == "DENY", what
    assert h.get("x-content-type-options") == "nosniff", what
    assert h.get("referrer-policy") == "same-origin", what
    assert h.get("cache-control") == cache, what
    assert len(h.get_list("cache-control")) == 1, what
    if https:
        assert h.get("strict-transport-security") == "max-age=31536000", what
    else:
        assert "strict-transport-security" not in h, what


def test_the_pages_policy_allows_no_inline_script_and_no_other_origin() -> None:
    d = directives(PAGE_CSP)
    assert d["script-src"] == "script-src 'self'"
    # styles: the pages' own file, and the minutes' inline stylesheet by its hash only
    assert d["style-src"].split()[:2] == ["style-src", "'self'"]
    assert all(s.startswith("'sha256-") for s in d["style-src"].split()[2:])
    assert "unsafe" not in PAGE_CSP and "http" not in PAGE_CSP and "*" not in PAGE_CSP


async def test_every_kind_of_response_carries_the_headers(
    browser: Browser, site: Services, store: EventStore
) -> None:
    await reference_cycle(store, site.cycles)
    auditor = await browser("kiem-toan")
    unit = await browser("nv-so-khdt")
    stranger = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(site)), base_url="http://thidua"
    )
    json = {"Accept": "application/json"}
    async with stranger:
        checks: list[tuple[httpx.Response, int, str]] = [
            (await auditor.get("/kiem-tra"), 200, "text/html"),  # a page
            (await auditor.get(f"{BASE}/nhat-ky"), 200, "text/html"),  # audit page
            (await stranger.get("/dang-nhap", headers=HTML), 200, "text/html"),  # public page
            (await auditor.get("/session/me", headers=json), 200, "application/json"),
            (await auditor.get(f"{API}/audit", headers=json), 200, "application/json"),
            (await auditor.get(f"{API}/minutes.pdf"), 200, "application/pdf"),
            (await auditor.get(f"{API}/export.zip"), 200, "application/zip"),
            (await stranger.get("/healthz"), 200, "application/json"),
            (await stranger.get("/openapi.json"), 200, "application/json"),
            # errors: routes', handlers' and guards'
            (await stranger.get("/no-such-path", headers=json), 401, "application/json"),
            (await auditor.get("/no-such-path", headers=json), 404, "application/json"),
            (await auditor.get("/ky/kg-khoi-9/2018", headers=HTML), 404, "text/html"),
            (
                await auditor.get("/cycles", params={"year": "abc"}, headers=json),
                422,
                "application/json",
            ),
            (await unit.get(f"{API}/export.zip", headers=json), 403, "application/json"),
            (await unit.get(f"{BASE}/nhat-ky"), 403, "text/html"),
            (await stranger.get("/kiem-tra", headers=HTML), 303, ""),  # to login
            (await auditor.post("/session/logout", headers=json), 403, "application/json"),
            (
                await stranger.post(
                    "/cycles",
                    content=b"x" * (300 * 1024),
                    headers={"Content-Type": "application/json"},
                ),
                413,
                "application/json",
            ),
        ]
        for r, status, kind in checks:
            assert r.status_code == status, (r.request.url.path, r.status_code, r.text[:300])
            assert r.headers.get("content-type", "").startswith(kind), r.request.url.path
            assert_headers(r)

        # the minutes' HTML: its inline stylesheet is the one the policy allows
        m = await auditor.get(f"{API}/minutes.html")
        assert m.status_code == 200
        assert_headers(m)
        style = re.search(r"<style>(.*?)</style>", m.text, flags=re.S)
        assert style and csp_hash(style.group(1)) in PAGE_CSP

        # static files: the same headers, kept by the browser but revalidated (ETag)
        for path in ("/static/app.js", "/static/app.css"):
            s = await stranger.get(path)
            assert s.status_code == 200 and s.headers.get("etag"), path
            assert_headers(s, cache="no-cache")
        missing = await stranger.get("/static/none.js")
        assert missing.status_code == 404
        assert_headers(missing, cache="no-cache")

        # the API's docs (no credential): every script, style and icon from this server, and a
        # policy of their own that allows no other origin, Swagger UI's inline script by hash
        docs = await stranger.get("/docs")
        assert docs.status_code == 200
        assert_headers(docs, csp=None)
        policy = docs.headers["content-security-policy"]
        assert not re.search(r"https?:|\*|//", policy), policy
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, policy
        csp = directives(policy)
        assert csp["style-src"] == "style-src 'self'"
        assert csp["script-src"].split()[:2] == ["script-src", "'self'"]
        assert all(s.startswith("'sha256-") for s in csp["script-src"].split()[2:])
        hashes = inline_script_hashes(docs.text)
        assert len(hashes) == 1 and hashes[0] in csp["script-src"]  # SwaggerUIBundle({...})
        assert "url: '/openapi.json'" in docs.text
        urls = re.findall(r"""<(?:script|link)\b[^>]*\b(?:src|href)=["']([^"']+)""", docs.text)
        assert len(urls) == 3 and all(u.startswith("/docs/assets/") for u in urls), urls
        for url in urls:  # Swagger UI's script, stylesheet and icon, from the installed package
            asset = await stranger.get(url)
            assert asset.status_code == 200 and asset.content, url
            assert_headers(asset, cache="no-cache")
        redirect = await stranger.get("/docs/oauth2-redirect")
        assert redirect.status_code == 200
        assert all(
            h in redirect.headers["content-security-policy"]
            for h in inline_script_hashes(redirect.text)
        )
        # no ReDoc: its bundle always loads its vendor's logo from another origin
        assert (await stranger.get("/redoc")).status_code in (401, 404)


async def test_a_500_carries_the_headers_and_hsts_only_over_https(site: Services) -> None:
    app = create_app(site, authenticate=static_tokens({"t-admin": Actor.admin()}))

    async def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    for scheme in ("http", "https"):
        async with httpx.AsyncClient(transport=transport, base_url=f"{scheme}://thidua") as c:
            for path, status in (("/healthz", 200), ("/dang-nhap", 200), ("/no-such", 401)):
                r = await c.get(path)
                assert r.status_code == status, (path, r.text[:300])
                assert_headers(r, https=scheme == "https")
            s = await c.get("/static/app.css")
            assert_headers(s, cache="no-cache", https=scheme == "https")
    async with httpx.AsyncClient(transport=transport, base_url="http://thidua") as c:
        r = await c.get("/boom", headers={"Authorization": "Bearer t-admin"})
        assert r.status_code == 500 and "a bug" not in r.text
        assert_headers(r)
