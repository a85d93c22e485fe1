"""Việc cần làm: every pending action of the person's unit across all cycles (one query on the
`pending` read model), each with its deadline, days left and the page that does it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from readmodels.cycles import acts_of_unit, cycle_heads
from readmodels.pending import pending_for

from ...words import actor_words, cycle_title
from .core import actor, forbidden, inbox_of, redirect, render, services
from .story import describe

__all__ = ["FORM_OF", "router"]

router = APIRouter(include_in_schema=False)

FORM_OF = {
    "sign_pledge": "giao-uoc",
    "submit_self_score": "tu-cham-diem",
    "cast_ballot": "phieu-binh-xet",
    "cast_election_ballot": "phieu-bau",
    "appoint_leaders": "quan-ly",
    "record_finding": "quan-ly",
}
"""The page of each action; every other action is on the chair's console (`dieu-hanh`)."""


def action_url(block: str, year: int, action: str, subject: str = "") -> str:
    page = FORM_OF.get(action, "dieu-hanh")
    anchor = f"#{action}" + (f"-{subject}" if subject else "")
    return f"/ky/{block}/{year}/{page}{anchor}"  # each form's id is its action (-subject)


@router.get("/")
async def home(request: Request) -> Response:
    who = actor(request)
    return redirect(
        "/quan-ly"
        if who.kind == "admin"
        else "/kiem-tra"
        if who.kind == "auditor"
        else "/viec-can-lam"
    )


@router.get("/viec-can-lam")
async def tasks(request: Request) -> HTMLResponse:
    who = actor(request)
    key = who.unit if who.kind == "unit" else "admin" if who.kind == "admin" else None
    svc = services(request)
    rows = await pending_for(svc.pool, key, prefix=svc.cycles.prefix) if key else []
    items = [{"row": r, "url": action_url(r.block_id, r.year, r.action, r.subject)} for r in rows]
    unit_name = rows[0].who_name if rows and who.kind == "unit" else None
    return render(request, "tasks.html", items=items, title="Việc cần làm", unit_name=unit_name)


@router.get("/viec-can-lam/so-viec")
async def inbox(request: Request) -> JSONResponse:
    """The header's task count (and the list's stamp), polled by the pages that have no cycle
    version to poll; the cycle pages get it with the version (`…/phien-ban`)."""
    got = await inbox_of(request)
    body = {"inbox": got[0], "stamp": got[1]} if got is not None else {"inbox": None}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _words(type_: str, data: dict[str, Any], names: dict[str, str], unit: str) -> str:
    """The event in words; the cycle's completion as what it gave this unit."""
    if type_ == "cycle_completed":
        mine = [n for n in data.get("outcome", {}).get("nominations", ()) if n.get("unit") == unit]
        if mine:
            return "Kỳ thi đua hoàn thành: đơn vị được đề nghị " + "; ".join(
                f"{n.get('title')} (vị trí {n.get('place')})" for n in mine
            )
    return describe(type_, data, names)


@router.get("/viec-da-lam")
async def done(request: Request) -> HTMLResponse:
    """Việc đã làm: the unit's own acts, with their times, and the answers it got (its score
    verified or corrected, a finding, being left out of a stage), newest first, by cycle —
    from the event store (one query, readmodels.cycles) and the cycles' snapshots for the
    names."""
    import orjson

    who = actor(request)
    if who.kind != "unit" or who.unit is None:
        return forbidden(request)
    svc = services(request)
    rows = await acts_of_unit(svc.pool, who.unit, prefix=svc.cycles.prefix)
    streams = list(dict.fromkeys(r["stream"] for r in rows))
    cycles: dict[str, dict[str, Any]] = {}
    for c in await cycle_heads(svc.pool, streams):
        members = orjson.loads(c[1] or "[]")
        cycles[c[0]] = {
            "names": {m["id"]: m["name"] for m in members},
            "title": cycle_title(c[2], c[3], c[4]),
            "url": f"/ky/{c[5]}/{c[4]}",
        }
    groups: dict[str, dict[str, Any]] = {}
    for r in rows:
        cyc = cycles.get(r["stream"], {"names": {}, "title": r["stream"], "url": ""})
        by = orjson.loads(r["actor"])
        data = orjson.loads(r["data"])
        mine = by.get("kind") == "unit" and by.get("unit") == who.unit
        g = groups.setdefault(r["stream"], {**cyc, "items": []})
        g["items"].append(
            {
                "at": r["effective_at"],
                "type": r["type"],
                "mine": mine,
                "words": _words(r["type"], data, cyc["names"], who.unit),
                "by": actor_words(by, cyc["names"]),
            }
        )
    unit_name = next(
        (c["names"].get(who.unit) for c in cycles.values() if who.unit in c["names"]), None
    )
    return render(
        request, "done.html", groups=list(groups.values()), title="Việc đã làm", unit_name=unit_name
    )
