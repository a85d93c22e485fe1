"""Việc cần làm: every pending action of the person's unit across all cycles (one query on the
`pending` read model), each with its deadline, days left and the page that does it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from readmodels.pending import pending_for

from .core import actor, redirect, render, services

__all__ = ["FORM_OF", "router"]

router = APIRouter(include_in_schema=False)

FORM_OF = {
    "sign_pledge": "giao-uoc",
    "submit_self_score": "tu-cham-diem",
    "cast_ballot": "phieu-binh-xet",
    "cast_election_ballot": "phieu-bau",
    "appoint_leaders": "quan-ly",
}
"""The page of each action; every other action is on the chair's console (`dieu-hanh`)."""


def action_url(block: str, year: int, action: str, subject: str = "") -> str:
    page = FORM_OF.get(action, "dieu-hanh")
    anchor = f"#{action}" + (f"-{subject}" if subject else "")
    return f"/ky/{block}/{year}/{page}" + ("" if page in FORM_OF.values() else anchor)


@router.get("/")
async def home(request: Request) -> Response:
    who = actor(request)
    return redirect("/quan-ly" if who.kind == "admin" else
                    "/kiem-tra" if who.kind == "auditor" else "/viec-can-lam")


@router.get("/viec-can-lam")
async def tasks(request: Request) -> HTMLResponse:
    who = actor(request)
    key = who.unit if who.kind == "unit" else "admin" if who.kind == "admin" else None
    svc = services(request)
    rows = await pending_for(svc.pool, key, prefix=svc.cycles.prefix) if key else []
    items = [
        {"row": r, "url": action_url(r.block_id, r.year, r.action, r.subject)} for r in rows
    ]
    unit_name = rows[0].who_name if rows and who.kind == "unit" else None
    return render(request, "tasks.html", items=items, title="Việc cần làm", unit_name=unit_name)
