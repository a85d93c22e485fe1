"""A person's deadlines as an iCalendar feed (`icalendar`) at a secret address, and the
person's own page (`/tai-khoan`), where the address is made, shown once, and replaced.

The feed lists the open tasks of the person's unit (the secretariat's for an admin) that have a
deadline: one event at each deadline, from the `pending` read model (one query). A wrong, old
or odd token gets 404 and tells nothing; the token is looked up by its hash."""

from __future__ import annotations

import hashlib
from datetime import UTC, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from icalendar import Alarm, Calendar, Event

from readmodels.pending import PendingAction, pending_for

from ...identity.people import Person
from ...words import STAGE, TASK, cycle_title
from .core import actor, forbidden, redirect, render, services
from .tasks import action_url

__all__ = ["FEED_PREFIX", "feed", "router"]

router = APIRouter(include_in_schema=False)
FEED_PREFIX = "/lich/"
_ONCE = "thidua_calendar_once"


def feed(person: Person, rows: list[PendingAction], base: str) -> bytes:
    """The calendar of `rows` (the tasks with a deadline), each event named by the task and the
    cycle, at the deadline, linking to the task's page, with a reminder the day before."""
    cal = Calendar()
    cal.add("prodid", "-//thidua//Lich han thi dua//VI")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Hạn thi đua – {person.name}")
    cal.add("x-wr-timezone", "Asia/Ho_Chi_Minh")
    for r in rows:
        if r.deadline is None:
            continue
        what = TASK.get(r.action, r.action).replace("{unit}", r.subject_name)
        title = cycle_title(r.title, r.block_name, r.year)
        url = base + action_url(r.block_id, r.year, r.action, r.subject)
        e = Event()
        key = f"{r.stream}\x00{r.action}\x00{r.subject}\x00{r.deadline.isoformat()}"
        e.add("uid", hashlib.sha256(key.encode()).hexdigest()[:32] + "@thidua")
        e.add("dtstamp", r.deadline.astimezone(UTC))
        e.add("dtstart", r.deadline.astimezone(UTC))
        e.add("dtend", r.deadline.astimezone(UTC))
        e.add("summary", f"Hạn: {what} – {title}")
        e.add("description", f"{title}\nBước: {STAGE.get(r.stage, r.stage)}\nViệc: {what}\n{url}")
        e.add("url", url)
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Ngày mai hết hạn: {what}")
        alarm.add("trigger", timedelta(days=-1))
        e.add_component(alarm)
        cal.add_component(e)
    return bytes(cal.to_ical())


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/lich/{name}")
async def calendar(request: Request, name: str) -> Response:
    svc = services(request)
    token = name.removesuffix(".ics")
    person = await svc.identity.calendar.person(token) if name.endswith(".ics") else None
    if person is None:
        return PlainTextResponse(
            "Không tìm thấy.", status_code=404, headers={"Cache-Control": "no-store"}
        )
    key = person.unit if person.role == "unit" else "admin" if person.role == "admin" else None
    rows = await pending_for(svc.pool, key, prefix=svc.cycles.prefix) if key else []
    return Response(
        feed(person, rows, _base(request)),
        media_type="text/calendar; charset=utf-8",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": 'inline; filename="han-thi-dua.ics"',
        },
    )


@router.get("/tai-khoan")
async def account(request: Request) -> HTMLResponse:
    """The person's own page: who they are, where notices go, the calendar's address."""
    who = actor(request)
    svc = services(request)
    person = await svc.identity.people.get(who.login) if who.login else None
    if person is None:
        return forbidden(request)
    shown = request.cookies.get(_ONCE, "")
    url = f"{_base(request)}{FEED_PREFIX}{shown}.ics" if shown.startswith("thc_") else None
    page = render(
        request,
        "account.html",
        title="Tài khoản",
        person=person,
        feed_url=url,
        made_at=await svc.identity.calendar.made_at(person.login),
    )
    if shown:
        page.delete_cookie(_ONCE, path="/tai-khoan")
    return page


@router.post("/tai-khoan/lich")
async def rotate(request: Request) -> Response:
    """Make (or replace) the calendar's address, or end it; the new address is shown once, on
    the page the browser is sent to (post/redirect/get: kept for that one view in a cookie
    that only this page reads, never stored in clear on the server)."""
    who = actor(request)
    svc = services(request)
    if not who.login or await svc.identity.people.get(who.login) is None:
        return forbidden(request)
    form = await request.form()
    if form.get("do") == "revoke":
        await svc.identity.calendar.revoke(who.login)
        return redirect("/tai-khoan?da-gui=calendar_revoked")
    token = await svc.identity.calendar.rotate(who.login)
    response = redirect("/tai-khoan?da-gui=calendar_made")
    response.set_cookie(
        _ONCE,
        token,
        httponly=True,
        samesite="strict",
        max_age=300,
        secure=request.url.scheme == "https",
        path="/tai-khoan",
    )
    return response
