"""Who is calling: people's API tokens and web sessions (app/identity), and the routes that log
in and out.

Authentication (`identity_authenticator`, run by the AuthGate before any route):

- `Authorization: Bearer thd_…` — a person's API token (hash lookup, constant-time compare;
  revoked, expired or of a disabled person → 401);
- the `thidua_session` cookie — a live server-side session; a request that changes something
  (not GET/HEAD/OPTIONS) must carry the session's CSRF token in `X-CSRF-Token` (else 403
  `csrf_failed`); a request the page makes on its own (`passive`: the version poll) does not
  restart the session's idle clock;
- `THIDUA_API_TOKENS` — fixed development tokens, only when that setting is given.

The session cookie has no Max-Age (it ends with the browser) unless "remember me" was chosen at
login; then it lasts the session's absolute limit. The server-side limits are the same either way.

The address the login throttle counts by is the ASGI client's (the TCP peer); X-Forwarded-For is
believed only from the proxies named in THIDUA_TRUSTED_PROXIES (create_app).

The actor is the person's: role, unit, login, name and position come from the person, never
from the request.

Routes (public: the gate lets them through; each checks what it needs):

    GET  /session/csrf          a login-form CSRF token (also set as the `thidua_csrf` cookie)
    POST /session               form: login, password, csrf_token, remember → a new session
                                (new id); 429 `login_delayed` with Retry-After while the login
                                throttle delays this login from this address
    POST /session/logout        ends the session (CSRF token in the form or X-CSRF-Token)
    GET  /session/me            the caller (any authentication)
    GET  /session/oidc          single sign-on: off to the province's provider
    GET  /session/oidc/callback back from it: a new session for the person the claim names
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse

from domain.values import Actor

from ..identity import Identity, IdentityError, NewSession
from ..identity.sessions import COOKIE, CSRF_COOKIE, new_csrf_token, same_token
from ..identity.tokens import PREFIX
from .deps import Caller, Svc

__all__ = ["PUBLIC", "client_address", "identity_authenticator", "router", "session_max_age"]

PUBLIC = ("/session", "/session/csrf", "/session/logout", "/session/oidc", "/session/oidc/callback")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
OIDC_COOKIE = "thidua_oidc"

router = APIRouter(tags=["session"])


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _cookie(scope: dict[str, Any], name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header authenticates nobody
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


def identity_authenticator(
    identity: Identity,
    dev_tokens: dict[str, Actor] | None = None,
    form_csrf: Callable[[str], bool] = lambda path: False,
    passive: Callable[[str, str], bool] = lambda method, path: False,
) -> Any:
    """`form_csrf(path)`: the page forms whose CSRF token comes as the form field
    `csrf_token`, checked by the pages before any handler (app/http/pages).
    `passive(method, path)`: requests a page makes on its own (the version poll), which do not
    count as the person's use of the session (its idle clock goes on)."""
    dev = dict(dev_tokens or {})

    async def authenticate(scope: dict[str, Any]) -> Actor | None:
        auth = _header(scope, b"authorization")
        if auth is not None:
            scheme, _, token = auth.partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                return None
            if token.startswith(PREFIX):
                try:
                    return (await identity.bearer(token)).actor()
                except IdentityError:
                    return None
            for known, actor in dev.items():
                if hmac.compare_digest(known.encode(), token.encode()):
                    return actor
            return None
        sid = _cookie(scope, COOKIE)
        if not sid:
            return None
        try:
            touch = not passive(scope.get("method", ""), scope.get("path", ""))
            person = await identity.sessions.resolve(sid, touch=touch)
        except IdentityError:
            return None
        if scope.get("method") not in SAFE_METHODS and not form_csrf(scope.get("path", "")):
            await identity.sessions.check_csrf(sid, _header(scope, b"x-csrf-token"))
        return person.actor()

    return authenticate


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def client_address(request: Request) -> str:
    """The caller's network address, as the login throttle counts it: the ASGI client (the TCP
    peer, or what a trusted proxy said; see create_app)."""
    return request.client.host if request.client and request.client.host else "unknown"


def session_max_age(identity: Identity, remember: bool) -> int | None:
    """The session cookie's Max-Age: none (ends with the browser) unless "remember me"; then the
    session's absolute limit."""
    return int(identity.sessions.absolute.total_seconds()) if remember else None


def _session_response(
    request: Request,
    identity: Identity,
    s: NewSession,
    response: Any = None,
    *,
    remember: bool = False,
) -> Any:
    p = s.person
    response = response or JSONResponse(
        {
            "login": p.login,
            "name": p.name,
            "position": p.position,
            "role": p.role,
            "unit": p.unit,
            "csrf_token": s.csrf_token,
        }
    )
    response.set_cookie(
        COOKIE,
        s.id,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
        max_age=session_max_age(identity, remember),
    )
    response.delete_cookie(CSRF_COOKIE, path="/session")
    return response


@router.get("/session/csrf")
async def login_csrf(request: Request) -> JSONResponse:
    """A CSRF token for the login form: send it back as the form's `csrf_token` (the same
    value is set as a cookie; both must match)."""
    token = new_csrf_token()
    response = JSONResponse({"csrf_token": token})
    response.set_cookie(
        CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/session",
        max_age=3600,
    )
    return response


@router.post("/session")
async def login(
    request: Request,
    services: Svc,
    login: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    remember: Annotated[bool, Form()] = False,
) -> Any:
    """Log in with a password: a new session (a new id, the browser's old one ends). The cookie
    ends with the browser unless `remember` is true."""
    if not same_token(csrf_token, request.cookies.get(CSRF_COOKIE)):
        raise IdentityError(
            "csrf_failed", "the form's CSRF token is missing or wrong", "csrf_token"
        )
    identity = services.identity
    s = await identity.login(
        login, password, address=client_address(request), replacing=request.cookies.get(COOKIE)
    )
    return _session_response(request, identity, s, remember=remember)


@router.post("/session/logout")
async def logout(request: Request, services: Svc) -> JSONResponse:
    """End the session at once."""
    sid = request.cookies.get(COOKIE)
    csrf = request.headers.get("x-csrf-token")
    if csrf is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        csrf = value if isinstance(value, str) else None
    identity = services.identity
    await identity.sessions.resolve(sid)
    await identity.sessions.check_csrf(sid, csrf)
    await identity.logout(sid)  # type: ignore[arg-type]
    response = JSONResponse({"status": "logged out"})
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/session/me")
async def me(who: Caller) -> Any:
    """Who the caller is, as the rules and the events see them."""
    return who.model_dump(mode="json")


@router.get("/session/oidc")
async def oidc_start(request: Request, services: Svc) -> Any:
    """Single sign-on: to the province's OpenID Connect provider."""
    sso = services.identity.oidc
    if sso is None:
        raise IdentityError("sso_disabled", "single sign-on is not configured (OIDC_ISSUER)")
    start = await sso.authorization_url(str(request.url_for("oidc_callback")))
    response = RedirectResponse(start.url, status_code=302)
    response.set_cookie(
        OIDC_COOKIE,
        f"{start.state}.{start.nonce}",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/session/oidc",
        max_age=600,
    )
    return response


@router.get("/session/oidc/callback", name="oidc_callback")
async def oidc_callback(request: Request, services: Svc, code: str = "", state: str = "") -> Any:
    """Back from the provider: a session for the person the configured claim names."""
    identity = services.identity
    if identity.oidc is None:
        raise IdentityError("sso_disabled", "single sign-on is not configured (OIDC_ISSUER)")
    kept_state, _, nonce = (request.cookies.get(OIDC_COOKIE) or "").partition(".")
    if not code or not same_token(state, kept_state):
        raise IdentityError("oidc_failed", "the sign-on's state does not match this browser's")
    person = await identity.oidc.exchange(
        code, redirect_uri=str(request.url_for("oidc_callback")), nonce=nonce
    )
    s = await identity.sessions.start(person, replacing=request.cookies.get(COOKIE))
    if "text/html" in request.headers.get("accept", ""):
        # a person's browser: on to the pages, with the form token the pages put in forms
        from .pages.core import PAGE_CSRF_COOKIE

        response = _session_response(
            request, identity, s, RedirectResponse("/", status_code=303)
        )  # each role's own page
        response.set_cookie(
            PAGE_CSRF_COOKIE,
            s.csrf_token,
            httponly=True,
            samesite="lax",
            secure=_secure(request),
            path="/",
        )
    else:
        response = _session_response(request, identity, s)
    response.delete_cookie(OIDC_COOKIE, path="/session/oidc")
    return response
