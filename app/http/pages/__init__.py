"""The web pages (Vietnamese, server-rendered with Jinja2; a few lines of plain JavaScript):
login, my tasks, a cycle's forms, the chair's console, the secretariat's pages, the result and
the auditor's timeline. PAGES.md lists each page, who may open it, its buttons and fields.

Page form posts carry the session's CSRF token as the form field `csrf_token` (checked here,
against the session's stored hash, before any handler runs); the JSON API keeps its
`X-CSRF-Token` header.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from ...identity import IdentityError
from ..params import is_id, version_of, year_of
from . import admin, auth, calendar, cycle, setup_blocks, setup_year, tasks
from .core import HERE, check_csrf, forbidden, inbox_of, own_unit_name, render

__all__ = [
    "PAGE_PREFIXES",
    "PUBLIC_PAGES",
    "PUBLIC_PREFIXES",
    "STATIC_PREFIX",
    "is_page_post",
    "is_poll",
    "mount_pages",
]

PUBLIC_PAGES = ("/dang-nhap",)
STATIC_PREFIX = "/static/"
PUBLIC_PREFIXES = (STATIC_PREFIX, calendar.FEED_PREFIX)
"""Served without a session: the static files, and the calendar feeds (their secret token in the
path is the key)."""
PAGE_PREFIXES = (
    "/ky/",
    "/quan-ly",
    "/kiem-tra",
    "/viec-can-lam",
    "/viec-da-lam",
    "/tai-khoan",
    "/dang-xuat",
)
"""Paths whose posts are page forms (their CSRF token comes in the form, checked here)."""


class PageRefused(Exception):
    """A page's form refused before its handler (a missing or wrong CSRF token)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class PageNotFound(Exception):
    """A page's path names no cycle (or no event): its block is not an id, its year not a year
    from 1945 to 2200, its version not one of a stream (app/http/params.py)."""


async def _known_path(request: Request) -> None:
    p = request.path_params
    if "block" in p and not is_id(p["block"]):
        raise PageNotFound
    if "year" in p and year_of(p["year"]) is None:
        raise PageNotFound
    if "version" in p and version_of(p["version"]) is None:
        raise PageNotFound


async def _form_csrf(request: Request) -> None:
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        try:
            await check_csrf(request, await request.form())
        except IdentityError as exc:
            raise PageRefused(exc.code) from None


async def _inbox(request: Request) -> None:
    """The header's task count, for a page about to be shown (not for a form's post), and the
    name of the person's unit (every page's header names it, a 403 or 404 page too)."""
    if is_poll(request.method, request.url.path) or request.url.path.startswith(
        calendar.FEED_PREFIX
    ):
        return
    if request.method == "GET":
        request.state.inbox = await inbox_of(request)
    request.state.unit_name = await own_unit_name(request)


def mount_pages(app: object) -> None:
    from fastapi import FastAPI

    assert isinstance(app, FastAPI)

    @app.exception_handler(PageRefused)
    async def refused(request: Request, exc: PageRefused) -> Response:
        return forbidden(request, exc.code)

    @app.exception_handler(PageNotFound)
    async def not_found(request: Request, exc: PageNotFound) -> Response:
        if request.url.path.endswith(".json"):
            return JSONResponse(
                {"code": "unknown_event", "field": None, "message": "no such event"},
                status_code=404,
            )
        return render(request, "notfound.html", status=404, title="Không tìm thấy")

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(auth.router)
    guarded = APIRouter(
        dependencies=[Depends(_inbox), Depends(_form_csrf), Depends(_known_path)],
        include_in_schema=False,
    )
    guarded.include_router(tasks.router)
    guarded.include_router(setup_blocks.router)
    guarded.include_router(setup_year.router)
    guarded.include_router(calendar.router)
    guarded.include_router(admin.router)  # before cycle: /ky/{b}/{y}/nhat-ky is not a form
    guarded.include_router(cycle.router)
    app.include_router(guarded)


def is_page_post(path: str) -> bool:
    return path.startswith(PAGE_PREFIXES)


_POLL = re.compile(r"^(/ky/[^/]+/[^/]+/phien-ban|/viec-can-lam/so-viec)$")


def is_poll(method: str, path: str) -> bool:
    """The version poll the cycle pages (and the task count the other pages) send every few
    seconds on their own (app.js): not the person's use of the session, so it does not restart
    the session's idle clock."""
    return method in ("GET", "HEAD") and _POLL.match(path) is not None
