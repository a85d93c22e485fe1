"""The pages of one cycle, under /ky/{block}/{year}: overview, the forms of a unit (pledge,
self-score, ballot, election ballot), the chair's console, the secretariat's page of the cycle,
the result, and the live version the pages poll.

A GET reads the cycle's live state (one query of its workflow). A POST turns the form into ONE
command, sends it as the person (the same client as the JSON API) and redirects (Post/Redirect/
Get); a refusal re-renders the page with what was typed and the sentence next to the field.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from domain.errors import DomainError
from domain.payloads import RankEntry
from domain.pending import pending_actions
from domain.ranking import rank_units
from domain.rules.review import quorum
from domain.state import CycleState
from domain.values import FINDING_KINDS, Actor
from readmodels.cycles import cycle_version
from readmodels.pending import snapshot
from workflows.messages import cycle_key

from ...identity import IdentityError
from ...lookups import cycle_state
from ...words import VN, vn_number
from ..params import YEAR_MAX, YEAR_MIN
from .chart import bar_chart
from .core import (
    FormError,
    actor,
    forbidden,
    parse_score,
    redirect_after_command,
    render,
    send_command,
    services,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGES = {
    "giao-uoc": ("sign.html", ("sign_pledge",)),
    "tu-cham-diem": ("score.html", ("submit_self_score",)),
    "phieu-binh-xet": ("ballot.html", ("cast_ballot",)),
    "phieu-bau": ("election.html", ("cast_election_ballot",)),
    "dieu-hanh": ("console.html", (
        "close_pledge", "verify_score", "close_scoring", "hold_review", "correct_score",
        "close_discipline_check", "break_tie", "open_vote_round", "close_vote_round",
        "leaders_decide", "open_election", "close_election",
    )),
    "quan-ly": ("manage.html", (
        "extend_deadline", "record_finding", "withdraw_finding", "cancel_cycle",
        "appoint_leaders",
    )),
}
TITLES = {
    "giao-uoc": "Ký giao ước thi đua", "tu-cham-diem": "Tự chấm điểm",
    "phieu-binh-xet": "Phiếu bình xét", "phieu-bau": "Phiếu bầu Khối trưởng, Khối phó",
    "dieu-hanh": "Điều hành", "quan-ly": "Quản lý kỳ thi đua",
}
UNIT_PAGES = ("giao-uoc", "tu-cham-diem", "phieu-binh-xet", "phieu-bau")


async def load(request: Request, block: str, year: int) -> CycleState:
    state = await cycle_state(services(request).cycles, block, year)
    if state.block is None:
        raise DomainError("unknown_cycle", "no such cycle")
    return state


async def setup_of(request: Request, block: str, year: int) -> CycleState:
    """For a post: the cycle's block and score sheet (never changed after the start), from the
    read model's snapshot — one SQL query, no query of the workflow (the rules judge the
    command against the live state)."""
    svc = services(request)
    s = await snapshot(svc.pool, cycle_key(block, year, svc.cycles.prefix)[1])
    if s is None or s.block is None:
        return await load(request, block, year)
    return s


def may_open(page: str, who: Actor, s: CycleState) -> bool:
    """Who may open which page (the rules still judge every command sent from it)."""
    assert s.block is not None
    if page in UNIT_PAGES:
        return who.kind == "unit" and who.unit in s.members
    if page == "dieu-hanh":
        return who.kind == "unit" and who.unit in (s.block.head, s.block.deputy)
    if page == "quan-ly":
        return who.kind == "admin"
    return True


def cycle_title(s: CycleState) -> str:
    assert s.block is not None
    return s.title or f"{s.block.name} – năm {s.year}"


def context(s: CycleState, who: Actor, block: str, year: int) -> dict[str, Any]:
    """What the cycle's pages show, computed by the domain (templates hold no rules)."""
    assert s.block is not None and s.score_sheet is not None
    sections = [sec.id for sec in s.score_sheet.sections]
    ranked = rank_units(s.members, s.adopted, sections, s.tie_breaks) if s.adopted else None
    pending = pending_actions(s)
    mine = pending.get(who.unit or ("admin" if who.kind == "admin" else ""), [])
    return {
        "state": s, "block": block, "year": year, "cycle_title": cycle_title(s),
        "base": f"/ky/{block}/{year}", "pending": pending, "mine": mine,
        "rank": ranked.rank if ranked else {}, "ranked": ranked,
        "quorum_need": quorum(s) if s.ruleset else 0,
        "verify_units": [a.split(":", 1)[1] for a in mine if a.startswith("verify_score:")],
        "finding_kinds": FINDING_KINDS, "stages": _stages(s),
        "section_of": {sec.id: sec for sec in s.score_sheet.sections},
        "section_fields": [f"sections.{sid}" for sid in sections],
        "attendance_fields": [f"attendance.{u}" for u in s.members],
    }


def _stages(s: CycleState) -> list[dict[str, Any]]:
    order = ["pledge", "scoring", "review", "discipline", "vote", "election", "completed"]
    here = order.index(s.stage) if s.stage in order else -1
    return [{"stage": st, "deadline": s.deadlines.get(st),
             "state": "done" if i < here or s.stage == "completed" else
                      "now" if i == here else "later"} for i, st in enumerate(order)]


async def _page(request: Request, block: str, year: int, page: str, *, status: int = 200,
                error: FormError | None = None, failed: str = "",
                typed: dict[str, Any] | None = None, **extra: Any) -> HTMLResponse:
    try:
        s = await load(request, block, year)
    except DomainError:
        return render(request, "notfound.html", status=404, title="Không tìm thấy")
    who = actor(request)
    if not may_open(page, who, s):
        return forbidden(request, **context(s, who, block, year), page=page)
    template = PAGES[page][0] if page in PAGES else f"{page}.html"
    ctx = context(s, who, block, year)
    if page == "result":
        ctx.update(result_context(s, ctx))
    ctx.setdefault("title", TITLES.get(page, "Kỳ thi đua"))
    response = render(request, template, status=status, page=page,
                      error=error, failed=failed, typed=typed or {}, **ctx, **extra)
    if error is not None and f'data-code="{error.code}"'.encode() not in response.body:
        # the refused form is not on the page as it is now (the stage moved on): say it on top
        response = render(request, template, status=status, page=page, error=error,
                          failed=failed, typed=typed or {}, orphan_error=True, **ctx, **extra)
    return response


def result_context(s: CycleState, ctx: dict[str, Any]) -> dict[str, Any]:
    """The outcome when the cycle is complete; else the ranking so far."""
    assert s.block is not None
    names = {m.id: m.name for m in s.block.members}
    if s.outcome is not None:
        ranking = list(s.outcome.ranking)
        excluded = {u: list(r) for u, r in s.outcome.excluded.items()}
        nominations = list(s.outcome.nominations)
    else:
        excluded = dict(s.excluded or {})
        ranked = ctx["ranked"]
        ranking = []
        if ranked is not None:
            ranking = [RankEntry(unit=u, total=s.total_of(u), rank=ranked.rank[u],
                                 eligible=u not in excluded) for u in ranked.order]
            ranking += [RankEntry(unit=u, total=None, rank=None, eligible=False)
                        for u in ranked.unscored]
        nominations = list(s.nominations)
    chart = bar_chart([(names.get(e.unit, e.unit), e.total, e.eligible) for e in ranking],
                      title=f"Tổng điểm của các đơn vị – {cycle_title(s)}")
    return {"ranking": ranking, "excluded": excluded, "nominations": nominations,
            "chart": chart, "title": "Kết quả"}


@router.get("/ky/{block}/{year}")
async def overview(request: Request, block: str, year: int) -> HTMLResponse:
    return await _page(request, block, year, "cycle")


@router.get("/ky/{block}/{year}/ket-qua")
async def result(request: Request, block: str, year: int) -> HTMLResponse:
    return await _page(request, block, year, "result")


@router.get("/ky/{block}/{year}/phien-ban")
async def version(request: Request, block: str, year: int) -> JSONResponse:
    """The cycle's version from the read model: what the pages poll to know it changed."""
    svc = services(request)
    stream = cycle_key(block, year, svc.cycles.prefix)[1]
    v = await cycle_version(svc.pool, stream)
    return JSONResponse({"version": v}, headers={"Cache-Control": "no-store"})


@router.get("/ky/{block}/{year}/{page}")
async def form_page(request: Request, block: str, year: int, page: str) -> HTMLResponse:
    if page not in PAGES:
        return render(request, "notfound.html", status=404, title="Không tìm thấy")
    return await _page(request, block, year, page)


@router.post("/ky/{block}/{year}/{page}")
async def post_form(request: Request, block: str, year: int, page: str) -> Response:
    if page not in PAGES:
        return render(request, "notfound.html", status=404, title="Không tìm thấy")
    form = await request.form()
    typed = {k: _printable(form.getlist(k)) if len(form.getlist(k)) > 1 else
             _printable(form.get(k)) for k in form}
    typed.pop("csrf_token", None)
    do = str(form.get("do", ""))
    if do not in PAGES[page][1]:
        return await _page(request, block, year, page, status=422, typed=typed, failed=do,
                           error=FormError("invalid_request", "do"))
    who = actor(request)
    try:
        s = await setup_of(request, block, year)
    except DomainError:
        return render(request, "notfound.html", status=404, title="Không tìm thấy")
    if not may_open(page, who, s):
        return forbidden(request, **context(s, who, block, year), page=page)
    per_unit = ("verify_score", "withdraw_finding")  # one form per unit on the page
    failed = do + (f":{form.get('unit')}" if do in per_unit and form.get("unit") else "")
    try:
        body = build(do, form, s, who)
        if page in UNIT_PAGES and body.get("unit", who.unit) != who.unit:
            return forbidden(request, **context(s, who, block, year), page=page)
        await send_command(request, block, year, body)
    except IdentityError:
        raise
    except FormError as err:
        if err.code == "not_authorized":
            return forbidden(request, **context(s, who, block, year), page=page)
        sentence_values = _values(err, s)
        if sentence_values:
            err = FormError(err.code, err.field, **sentence_values)
        return await _page(request, block, year, page, status=409, error=err, failed=failed,
                           typed=typed)
    target = f"/ky/{block}/{year}" if page in UNIT_PAGES else f"/ky/{block}/{year}/{page}"
    return redirect_after_command(request, target + "?da-gui=" + do)


def _printable(value: Any) -> Any:
    """What was typed, kept in its field after a refusal, without control characters (a NUL
    is refused by the rules; it is not sent back in the page)."""
    if isinstance(value, list):
        return [_printable(v) for v in value]
    if isinstance(value, str):
        return "".join(ch for ch in value if ch.isprintable() or ch in "\n\t")
    return value


def _values(err: FormError, s: CycleState) -> dict[str, Any]:
    """Numbers a rule's sentence names: the section's maximum, the quorum."""
    if err.code == "score_above_max" and err.field and s.score_sheet is not None:
        sid = err.field.rsplit(".", 1)[-1]
        for sec in s.score_sheet.sections:
            if sec.id == sid:
                return {"max": vn_number(sec.max)}
    if err.code == "quorum_not_met" and s.ruleset is not None:
        return {"need": quorum(s), "members": len(s.members)}
    return {}


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _sections(form: Any, s: CycleState) -> dict[str, str]:
    assert s.score_sheet is not None
    out = {}
    for sec in s.score_sheet.sections:
        field = f"sections.{sec.id}"
        out[sec.id] = str(parse_score(form.get(field), field))
    return out


def day_of(raw: str, field: str) -> date:
    """A day typed as 08/3/2019 or given by a date field (2019-03-08); `invalid_date`."""
    raw = raw.strip()
    try:
        if len(raw) > 10 or not raw.isascii():
            raise ValueError
        if "/" in raw:
            d, m, y = (int(p) for p in raw.split("/"))
            day = date(y, m, d)
        else:
            day = date.fromisoformat(raw)
    except (ValueError, OverflowError):
        raise FormError("invalid_date", field) from None
    if not YEAR_MIN <= day.year <= YEAR_MAX:
        raise FormError("invalid_date", field)
    return day


def build(do: str, form: Any, s: CycleState, who: Actor) -> dict[str, Any]:
    """The command a form asks for. Only the shape is checked here; the rules judge it."""
    body: dict[str, Any] = {"do": do}
    if do == "sign_pledge":
        if form.get("confirm") != "1":
            raise FormError("confirm_required", "confirm")
        body["unit"] = _text(form, "unit") or who.unit
    elif do == "submit_self_score":
        body["unit"] = _text(form, "unit") or who.unit
        body["sections"] = _sections(form, s)
    elif do in ("verify_score", "correct_score"):
        body["unit"] = _text(form, "unit")
        body["sections"] = _sections(form, s)
        body["note"] = _text(form, "note")
    elif do == "hold_review":
        held = _text(form, "held_on")
        if not held:
            raise FormError("required", "held_on")
        body["held_on"] = day_of(held, "held_on").isoformat()
        present, absent = [], []
        for u in s.members:
            mark = _text(form, f"attendance.{u}")
            if mark == "present":
                present.append(u)
            elif mark in ("notice", "no_notice", "written"):
                absent.append({"unit": u, "with_notice": mark != "no_notice",
                               "written_opinion": mark == "written"})
            else:
                raise FormError("invalid_attendance", f"attendance.{u}")
        body["present"], body["absent"] = present, absent
    elif do == "record_finding":
        for name in ("unit", "kind", "reference"):
            if not _text(form, name):
                raise FormError("required", name)
        body.update(unit=_text(form, "unit"), kind=_text(form, "kind"),
                    reference=_text(form, "reference"), note=_text(form, "note"))
    elif do == "withdraw_finding":
        body.update(unit=_text(form, "unit"), kind=_text(form, "kind"))
    elif do == "break_tie":
        order = [u for u in form.getlist("order") if isinstance(u, str) and u]
        if len(order) < 2:
            raise FormError("required", "order")
        body["order"] = order
    elif do == "cast_ballot":
        body["approve"] = [u for u in form.getlist("approve") if isinstance(u, str)]
    elif do == "leaders_decide":
        places = []
        for key in form:
            if key.startswith("place.") and _text(form, key):
                place = key.split(".", 1)[1]
                if not (place.isascii() and place.isdigit() and len(place) <= 3):
                    raise FormError("invalid_request", "places")
                places.append({"place": int(place), "unit": _text(form, key)})
        if not places:
            raise FormError("required", "places")
        body["places"] = places
    elif do == "cast_election_ballot":
        body["head"] = _text(form, "head") or None
        body["deputy"] = _text(form, "deputy") or None
    elif do == "appoint_leaders":
        body.update(head=_text(form, "head"), deputy=_text(form, "deputy"))
    elif do == "extend_deadline":
        day = _text(form, "until")
        if not day:
            raise FormError("required", "until")
        until = datetime.combine(day_of(day, "until"), time(23, 59), tzinfo=VN)
        body.update(stage=_text(form, "stage"), until=until.isoformat())
    elif do == "cancel_cycle":
        if not _text(form, "reason"):
            raise FormError("reason_required", "reason")
        body["reason"] = _text(form, "reason")
    return body
