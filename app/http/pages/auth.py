"""Đăng nhập, đăng xuất: the identity's password sessions, as an HTML form."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...identity import IdentityError, LoginDelayed
from ...identity.sessions import COOKIE, new_csrf_token, same_token
from ...words import wait_text
from ..session import client_address, session_max_age
from .core import (
    PAGE_CSRF_COOKIE,
    FormError,
    check_csrf,
    forbidden,
    redirect,
    render,
    services,
)

__all__ = ["LOGIN_CSRF_COOKIE", "router"]

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "thidua_login_csrf"


def _next(value: Any) -> str:
    """Only a local path (never another site) after login: one "/" then no "/" or "\\"
    (browsers read "/\\host" as "//host"), printable ASCII, at most 2,000 characters."""
    if (
        isinstance(value, str)
        and value.startswith("/")
        and value[1:2] not in ("/", "\\")
        and len(value) <= 2000
        and value.isascii()
        and value.isprintable()
    ):
        return value
    return "/"


def _login_page(
    request: Request,
    *,
    status: int = 200,
    login: str = "",
    error: FormError | None = None,
    next_url: str = "",
    remember: bool = False,
) -> HTMLResponse:
    token = new_csrf_token()
    response = render(
        request,
        "login.html",
        status=status,
        login=login,
        error=error,
        login_csrf=token,
        next_url=_next(next_url),
        remember=remember,
        sso=services(request).identity.oidc is not None,
        expired=request.query_params.get("het-han") == "1",
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/dang-nhap",
        max_age=3600,
    )
    return response


@router.get("/dang-nhap")
async def login_form(request: Request) -> HTMLResponse:
    return _login_page(request, next_url=request.query_params.get("tiep", ""))


@router.post("/dang-nhap")
async def login(request: Request) -> Response:
    form = await request.form()
    login = str(form.get("login", ""))[:64]
    password = str(form.get("password", ""))[:1024]
    next_url = str(form.get("tiep", ""))
    remember = form.get("ghi-nho") == "1"
    if not same_token(str(form.get("csrf_token", "")), request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _login_page(
            request, status=403, login=login, next_url=next_url, error=FormError("csrf_failed")
        )
    if not login.strip():
        return _login_page(
            request,
            status=422,
            login=login,
            next_url=next_url,
            error=FormError("required", "login"),
        )
    identity = services(request).identity
    try:
        s = await identity.login(
            login.strip(),
            password,
            address=client_address(request),
            replacing=request.cookies.get(COOKIE),
        )
    except LoginDelayed as exc:
        wait = wait_text(exc.retry_after_seconds)
        page = _login_page(
            request,
            status=429,
            login=login,
            next_url=next_url,
            remember=remember,
            error=FormError(exc.code, "password", wait=wait),
        )
        page.headers["Retry-After"] = str(exc.retry_after_seconds)
        return page
    except IdentityError as exc:
        return _login_page(
            request,
            status=401,
            login=login,
            next_url=next_url,
            remember=remember,
            error=FormError(exc.code, "password"),
        )
    response = redirect(_next(next_url))
    secure = request.url.scheme == "https"
    age = session_max_age(identity, remember)  # None: the cookies end with the browser
    response.set_cookie(
        COOKIE, s.id, httponly=True, samesite="lax", secure=secure, path="/", max_age=age
    )
    response.set_cookie(
        PAGE_CSRF_COOKIE,
        s.csrf_token,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
        max_age=age,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/dang-nhap")
    return response


@router.post("/dang-xuat")
async def logout(request: Request) -> Response:
    form = await request.form()
    try:
        await check_csrf(request, form)
    except IdentityError as exc:
        return forbidden(request, exc.code)
    sid = request.cookies.get(COOKIE)
    if sid:
        await services(request).identity.logout(sid)
    response = redirect("/dang-nhap")
    response.delete_cookie(COOKIE, path="/")
    response.delete_cookie(PAGE_CSRF_COOKIE, path="/")
    return response


def login_redirect(path: str, query: str = "") -> str:
    target = path + (f"?{query}" if query else "")
    return f"/dang-nhap?het-han=1&tiep={quote(target, safe='')}"
