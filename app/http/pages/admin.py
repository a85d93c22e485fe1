"""The secretariat's pages (all cycles by year; start a cycle from a scenario-format file) and
the auditor's timeline of a cycle (events in words, the chain's and the recheck's verdict, the
state as of a version or a moment, each event's JSON, download links to the minutes and the
export), and its reconciliation with the Temporal history."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from domain.errors import DomainError
from domain.recheck import recheck
from domain.scenario import ScenarioError, load_scenario
from domain.state import CycleState
from domain.views import ballot_is_private
from readmodels.blocks import member_names, registered_blocks
from readmodels.cycles import list_cycles
from readmodels.pending import late_units, pending_for
from workflows.messages import cycle_key

from ...words import VN, cycle_title, days_left, reconcile_sentence, scenario_problems
from ..audit import reconciliation
from ..blocks import block_service
from ..deps import AUDIT_READERS
from ..params import moment_of, version_of, year_of
from .core import (
    FormError,
    actor,
    flash_of,
    forbidden,
    redirect_after_command,
    refuse,
    render,
    send_command,
    services,
)
from .cycle import day_of
from .story import describe
from .tasks import action_url

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

MAX_UPLOAD = 200 * 1024
NEAR_DAYS = 7
"""A deadline this close (or past) with units still owing puts the cycle on the secretariat's
list of deadlines to watch."""


def _next_deadline(row: Any) -> tuple[str | None, int | None]:
    raw = row.deadlines.get(row.stage)
    if not raw:
        return None, None
    at = datetime.fromisoformat(raw)
    return raw, days_left(at)


async def _cycles_page(
    request: Request,
    *,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    error: FormError | None = None,
    block_error: FormError | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    who = actor(request)
    if who.kind not in AUDIT_READERS:
        return forbidden(request)
    svc = services(request)
    year_raw = request.query_params.get("nam", "")
    year = year_of(year_raw)
    rows = await list_cycles(svc.pool, year=year, prefix=svc.cycles.prefix)
    late = await _late_units(svc, [r.stream for r in rows])
    years: dict[int, list[dict[str, Any]]] = {}
    near = []
    for r in rows:
        deadline, left = _next_deadline(r)
        owing = late.get(r.stream, (0, 0))
        item = {
            "row": r,
            "deadline": deadline,
            "days_left": left,
            "late": owing[0],
            "owing": owing[1],
        }
        years.setdefault(r.year, []).append(item)
        if left is not None and left <= NEAR_DAYS and owing[1]:
            near.append(item)
    registered, unit_names = await _registered(svc, rows)
    tasks = []
    if who.kind == "admin":  # the secretariat's own tasks: findings, appointments
        tasks = [
            {"row": t, "url": action_url(t.block_id, t.year, t.action, t.subject)}
            for t in await pending_for(svc.pool, "admin", prefix=svc.cycles.prefix)
        ]
    near.sort(key=lambda it: int(str(it["days_left"])))
    return render(
        request,
        "manage_list.html",
        status=status,
        years=years,
        year=year,
        title="Quản lý các kỳ thi đua" if who.kind == "admin" else "Kiểm tra các kỳ thi đua",
        errors=errors or [],
        error=error,
        registered=registered,
        unit_names=unit_names,
        typed=typed or {},
        block_error=block_error,
        tasks=tasks,
        near=near,
        near_days=NEAR_DAYS,
    )


async def _registered(svc: Any, rows: list[Any]) -> tuple[list[Any], dict[tuple[str, str], str]]:
    """The registered blocks (for the start form) and the names of their units by (block id,
    unit id), so the list names next year's head in full (one query each)."""
    prefix = svc.cycles.prefix
    blocks = await registered_blocks(svc.pool, prefix=prefix)
    return blocks, await member_names(svc.pool, [r.block_id for r in rows], prefix=prefix)


async def _late_units(svc: Any, streams: list[str]) -> dict[str, tuple[int, int]]:
    """Per cycle, the units that still owe an action of a stage whose deadline has passed, and
    those whose deadline passes within NEAR_DAYS days or has passed (one query)."""
    try:
        return await late_units(svc.pool, streams, near_days=NEAR_DAYS)
    except Exception:
        return {}


@router.get("/quan-ly")
async def manage(request: Request) -> HTMLResponse:
    flash = flash_of(request)
    if flash is not None and flash.failed == "start_cycle":
        problems = [
            {"field": e.field or "", "code": e.code, "sentence": e.sentence}
            for e in flash.errors[1:]
        ]
        return await _cycles_page(request, status=flash.status, error=flash.error, errors=problems)
    if flash is not None and flash.failed == "start_block":
        return await _cycles_page(
            request,
            status=flash.status,
            block_error=flash.error,
            typed={k: str(v) for k, v in flash.typed.items()},
        )
    return await _cycles_page(request)


def _upload_refused(errors: list[FormError], status: int) -> Response:
    """Post/Redirect/Get: the list page shows why the file was refused (the problems come
    after the file's own error)."""
    return refuse("/quan-ly", errors, "start_cycle", {}, status)


@router.post("/quan-ly")
async def start_cycle(request: Request) -> Response:
    """Start a cycle from an uploaded scenario-format file (its steps are not run)."""
    who = actor(request)
    if who.kind != "admin":
        return forbidden(request)
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        return _upload_refused([FormError("required", "file")], 422)
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return _upload_refused([FormError("invalid_scenario", "file")], 413)
    try:
        scenario = load_scenario(data)
    except ScenarioError as exc:
        problems = [
            FormError(p["code"], p["field"], p["sentence"]) for p in scenario_problems(exc.problems)
        ]
        return _upload_refused([FormError("invalid_scenario", "file"), *problems], 422)
    except (ValueError, RecursionError):  # the loader names its problems; never the internals
        return _upload_refused([FormError("invalid_scenario", "file")], 422)
    start = scenario.start_command()
    try:
        # as `thidua cycle start FILE`: a new block is registered, so that its next years can
        # be started from the register (the form below)
        await block_service(request).ensure_registered(scenario.block, who)
        await send_command(request, start.block.id, start.year, start.model_dump(mode="json"))
    except DomainError as exc:
        return _upload_refused([FormError(exc.code, "file")], 409)
    except FormError as err:
        return _upload_refused([err], 409)
    return redirect_after_command(request, f"/ky/{start.block.id}/{start.year}?da-gui=start_cycle")


@router.post("/quan-ly/khoi")
async def start_block_cycle(request: Request) -> Response:
    """Start a registered block's cycle of a year from a form: its members and leaders of that
    year from the register, ruleset and score sheet from its previous cycle, the deadlines
    typed (optional)."""
    who = actor(request)
    if who.kind != "admin":
        return forbidden(request)
    form = await request.form()
    typed = {k: str(form.get(k) or "").strip() for k in ("block", "year", "pledge", "scoring")}

    async def refused(err: FormError, status: int = 422) -> Response:
        return refuse("/quan-ly", [err], "start_block", typed, status)

    if not typed["block"]:
        return await refused(FormError("required", "block"))
    year = year_of(typed["year"])
    if year is None:
        return await refused(FormError("invalid_year", "year"))
    deadlines: dict[str, datetime] = {}
    try:
        for stage in ("pledge", "scoring"):
            if typed[stage]:
                deadlines[stage] = datetime.combine(
                    day_of(typed[stage], stage), time(17, 0), tzinfo=VN
                )
    except FormError as err:
        return await refused(err)
    blocks = block_service(request)
    try:
        start = await blocks.start_command(typed["block"], year, deadlines=deadlines)
    except DomainError as exc:
        field = exc.field if exc.field in ("block", "year") else "block"
        return await refused(FormError(exc.code, field), 409)
    try:
        await send_command(request, typed["block"], year, start.model_dump(mode="json"))
    except FormError as err:
        err.field = err.field if err.field in ("block", "year", "pledge", "scoring") else "year"
        return await refused(err, 409)
    return redirect_after_command(request, f"/ky/{typed['block']}/{year}?da-gui=start_cycle")


@router.get("/kiem-tra")
async def audit_list(request: Request) -> HTMLResponse:
    return await _cycles_page(request)


def as_of_typed(request: Request) -> str:
    """The moment as typed, kept in its field only when it could be a datetime-local value."""
    typed = request.query_params.get("thoi-diem", "")
    return typed if len(typed) <= 40 and typed.isascii() and typed.isprintable() else ""


def _cycle_title(state: CycleState, block: str, year: int) -> str:
    """The cycle's title, else its block's name (or id) and year."""
    return cycle_title(state.title, state.block.name if state.block else block, year)


@router.get("/ky/{block}/{year}/nhat-ky")
async def timeline(request: Request, block: str, year: int) -> HTMLResponse:
    who = actor(request)
    if who.kind not in AUDIT_READERS:
        return forbidden(request)
    svc = services(request)
    stream = cycle_key(block, year, svc.cycles.prefix)[1]
    full = await svc.store.replay(stream)
    if full.report.events == 0:
        return render(request, "notfound.html", status=404, title="Không tìm thấy")
    stored = await svc.store.read_stream(stream)
    findings = recheck(full.events)
    to_version, as_of, picker_error = _picker(request)
    asof = full
    if to_version is not None or as_of is not None:
        asof = await svc.store.replay(stream, to_version=to_version, as_of=as_of)
    state = full.state
    names = {m.id: m.name for m in state.block.members} if state.block else {}
    rows = [
        {
            "e": e,
            "words": describe(e.type, e.data, names),
            "hash": e.hash.hex(),
            "unit_name": names.get(e.actor.get("unit") or "", ""),
        }
        for e in stored
    ]
    return render(
        request,
        "timeline.html",
        status=422 if picker_error else 200,
        block=block,
        year=year,
        base=f"/ky/{block}/{year}",
        state=state,
        cycle_title=_cycle_title(state, block, year),
        title="Nhật ký kiểm tra",
        rows=rows,
        report=full.report,
        findings=findings,
        asof=asof.state,
        asof_version=asof.report.head_version,
        to_version=to_version,
        as_of=as_of_typed(request),
        picker_error=picker_error,
        api=f"/cycles/{block}/{year}",
    )


@router.get("/ky/{block}/{year}/doi-chieu")
async def reconcile_page(request: Request, block: str, year: int) -> HTMLResponse:
    """The cycle's Temporal history against its stream (GET …/reconcile, in words)."""
    who = actor(request)
    if who.kind not in AUDIT_READERS:
        return forbidden(request)
    svc = services(request)
    try:
        r = await reconciliation(svc, svc.cycles.prefix, block, year)
    except DomainError as exc:
        if exc.code == "unknown_cycle":
            return render(request, "notfound.html", status=404, title="Không tìm thấy")
        if exc.code not in ("temporal_unavailable", "unknown_workflow"):
            raise
        return render(
            request,
            "reconcile.html",
            status=503 if exc.code == "temporal_unavailable" else 404,
            block=block,
            year=year,
            base=f"/ky/{block}/{year}",
            api=f"/cycles/{block}/{year}",
            title="Đối chiếu với lịch sử Temporal",
            cycle_title=f"{block} – năm {year}",
            r=None,
            error=FormError(exc.code),
        )
    stream = cycle_key(block, year, svc.cycles.prefix)[1]
    state = (await svc.store.replay(stream)).state
    return render(
        request,
        "reconcile.html",
        block=block,
        year=year,
        base=f"/ky/{block}/{year}",
        api=f"/cycles/{block}/{year}",
        title="Đối chiếu với lịch sử Temporal",
        cycle_title=_cycle_title(state, block, year),
        r=r,
        error=None,
        sentences=[(d.code, reconcile_sentence(d.code, d.facts, d)) for d in r.differences],
    )


_TYPED_MOMENT = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2}))?$")


def _iso_of_typed(text: str) -> str:
    """`08/3/2019 14:05` (or `08/3/2019`: the start of that day), Vietnam time, as typed in the
    page whatever the browser's language → ISO 8601 for app/http/params.moment_of; anything
    else as it is (an ISO moment is still understood)."""
    m = _TYPED_MOMENT.match(text)
    if m is None:
        return text
    d, mo, y, h, mi = (int(g) if g else 0 for g in m.groups())
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}"


def _picker(request: Request) -> tuple[int | None, datetime | None, FormError | None]:
    """The version or moment the auditor asked for (bounded by app/http/params)."""
    q = request.query_params
    v, t = q.get("phien-ban", "").strip(), q.get("thoi-diem", "").strip()
    version = version_of(v) if v else None
    if v and version is None:
        return None, None, FormError("invalid_version", "phien-ban")
    moment = moment_of(_iso_of_typed(t), VN) if t else None
    if t and moment is None:
        return version, None, FormError("invalid_moment", "thoi-diem")
    return version, moment, None


@router.get("/ky/{block}/{year}/nhat-ky/{version}.json")
async def event_json(request: Request, block: str, year: int, version: int) -> JSONResponse:
    who = actor(request)
    if who.kind not in AUDIT_READERS:
        return JSONResponse({"code": "not_authorized"}, status_code=403)
    svc = services(request)
    stream = cycle_key(block, year, svc.cycles.prefix)[1]
    events = await svc.store.read_stream(stream, to_version=version)
    e = next((x for x in events if x.version == version), None)
    if e is None:
        return JSONResponse(
            {"code": "unknown_event", "field": None, "message": "no such event"}, status_code=404
        )
    data = e.data
    if e.type in ("ballot_cast", "election_ballot_cast") and ballot_is_private(
        (await svc.store.replay(stream)).state, e.type, e.data
    ):
        # a ballot of a round still open: who voted, not how (DOMAIN.md), also to auditors
        data = {
            "round": e.data.get("round"),
            "voter": e.data.get("voter"),
            "private": "the round is still open: how this unit voted is shown once it closes",
        }
    return JSONResponse(
        {
            "stream": e.stream,
            "version": e.version,
            "position": e.position,
            "event_id": str(e.event_id),
            "type": e.type,
            "schema_version": e.schema_version,
            "data": data,
            "actor": e.actor,
            "effective_at": e.effective_at.isoformat(),
            "recorded_at": e.recorded_at.isoformat(),
            "request_id": e.request_id,
            "hash": e.hash.hex(),
        }
    )
