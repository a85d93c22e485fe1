"""The pages of one cycle, under /ky/{block}/{year}: overview, the forms of a unit (pledge,
self-score, ballot, election ballot), the chair's console, the secretariat's page of the cycle,
the result, and the live version the pages poll.

A GET reads the cycle's live state (one query of its workflow). A POST turns the form into ONE
command, sends it as the person (the same client as the JSON API) and redirects (Post/Redirect/
Get); a refusal re-renders the page with what was typed and the sentence next to the field.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from domain.commands import CommandAdapter
from domain.decide import refusal
from domain.errors import DomainError
from domain.evidence import (
    EVIDENCE_MAX_BYTES,
    EVIDENCE_PER_SCORE,
    EVIDENCE_PER_SECTION,
    EvidenceFile,
)
from domain.payloads import RankEntry
from domain.pending import pending_actions
from domain.ranking import rank_units
from domain.rules.review import quorum
from domain.rules.scoring import section_problems
from domain.state import CycleState
from domain.values import FINDING_KINDS, Actor
from readmodels.cycles import cycle_version
from readmodels.pending import snapshot
from workflows.messages import cycle_key

from ... import words
from ...evidence import EvidenceRefused, accept
from ...identity import IdentityError
from ...lookups import cycle_state
from ...words import VN, rule_sentence, vn_number
from ..params import YEAR_MAX, YEAR_MIN
from .chart import bar_chart
from .core import (
    FormError,
    FormErrors,
    actor,
    flash_of,
    forbidden,
    inbox_of,
    parse_score,
    redirect_after_command,
    refuse,
    render,
    send_command,
    services,
    shape,
    unit_name,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGES = {
    "giao-uoc": ("sign.html", ("sign_pledge",)),
    "tu-cham-diem": ("score.html", ("submit_self_score",)),
    "phieu-binh-xet": ("ballot.html", ("cast_ballot",)),
    "phieu-bau": ("election.html", ("cast_election_ballot",)),
    "dieu-hanh": (
        "console.html",
        (
            "close_pledge",
            "verify_score",
            "close_scoring",
            "hold_review",
            "correct_score",
            "close_discipline_check",
            "break_tie",
            "open_vote_round",
            "close_vote_round",
            "leaders_decide",
            "open_election",
            "close_election",
        ),
    ),
    "quan-ly": (
        "manage.html",
        (
            "extend_deadline",
            "record_finding",
            "withdraw_finding",
            "cancel_cycle",
            "appoint_leaders",
        ),
    ),
}
TITLES = {
    "giao-uoc": "Ký giao ước thi đua",
    "tu-cham-diem": "Tự chấm điểm",
    "phieu-binh-xet": "Phiếu bình xét",
    "phieu-bau": "Phiếu bầu Khối trưởng, Khối phó",
    "dieu-hanh": "Điều hành",
    "quan-ly": "Quản lý kỳ thi đua",
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
    return words.cycle_title(s.title, s.block.name, s.year)


def context(s: CycleState, who: Actor, block: str, year: int) -> dict[str, Any]:
    """What the cycle's pages show, computed by the domain (templates hold no rules)."""
    assert s.block is not None and s.score_sheet is not None
    sections = [sec.id for sec in s.score_sheet.sections]
    ranked = rank_units(s.members, s.adopted, sections, s.tie_breaks) if s.adopted else None
    pending = pending_actions(s)
    mine = pending.get(who.unit or ("admin" if who.kind == "admin" else ""), [])
    return {
        "state": s,
        "block": block,
        "year": year,
        "cycle_title": cycle_title(s),
        "base": f"/ky/{block}/{year}",
        "pending": pending,
        "mine": mine,
        "rank": ranked.rank if ranked else {},
        "ranked": ranked,
        "quorum_need": quorum(s) if s.ruleset else 0,
        "verify_units": [a.split(":", 1)[1] for a in mine if a.startswith("verify_score:")],
        "finding_kinds": FINDING_KINDS,
        "stages": _stages(s),
        "section_of": {sec.id: sec for sec in s.score_sheet.sections},
        "section_fields": [f"sections.{sid}" for sid in sections],
        "evidence_fields": [f"evidence.{sid}" for sid in sections],
        "evidence_base": f"/cycles/{block}/{year}/evidence",
        "attendance_fields": [f"attendance.{u}" for u in s.members],
    }


BARE_ACTS = (
    "close_pledge",
    "close_scoring",
    "close_discipline_check",
    "open_vote_round",
    "close_vote_round",
    "open_election",
    "close_election",
)
"""The console's acts without a payload: shown only when the rules would accept them now."""
NOT_NOW = frozenset(
    {
        "not_authorized",
        "wrong_stage",
        "round_open",
        "no_round_open",
        "no_open_places",
        "max_rounds_reached",
        "vote_not_held",
        "election_not_failed",
        "not_entitled_to_vote",
        "already_voted",
        "rounds_remaining",
        "already_verified",
        "not_scored",
        "no_candidates",
    }
)
"""Refusals that mean "not this person" or "not now" whatever a form's payload would be."""


def console_acts(s: CycleState, who: Actor, ranked: Any) -> dict[str, str | None]:
    """The acts the console shows this person now: `{act: None}` when the rules (domain.decide)
    would accept it, `{act: code}` when they would refuse it for a reason the person can
    change (shown as a sentence); an act absent is not shown (not this person, or not now).
    The forms with a payload are judged with a sample one (their own refusals come on send)."""
    now = datetime.now(UTC)
    out: dict[str, str | None] = {}

    def judge(act: str, body: dict[str, Any], bare: bool) -> None:
        try:
            command = CommandAdapter.validate_python(body)
        except ValueError:
            return
        err = refusal(s, command, who, now=now)
        if err is None:
            out[act] = None
        elif err.code not in NOT_NOW:
            out[act] = err.code if bare else None

    for act in BARE_ACTS:
        judge(act, {"do": act}, True)
    members = list(s.members)
    for u, own in s.self_scores.items():
        judge(
            f"verify_score:{u}",
            {"do": "verify_score", "unit": u, "sections": {k: str(v) for k, v in own.items()}},
            False,
        )
    if members:
        judge(
            "hold_review", {"do": "hold_review", "held_on": "2000-01-01", "present": members}, False
        )
    if s.adopted:
        u = next(iter(s.adopted))
        judge(
            "correct_score",
            {
                "do": "correct_score",
                "unit": u,
                "note": "x",
                "sections": {k: str(v) for k, v in s.adopted[u].sections.items()},
            },
            False,
        )
    groups = ranked.tied_groups() if ranked is not None else []
    if groups:  # a tie to order
        judge("break_tie", {"do": "break_tie", "order": list(groups[0])}, False)
    if s.ruleset is not None and s.open_places() and members:
        place = next(iter(s.open_places()))
        judge(
            "leaders_decide",
            {"do": "leaders_decide", "places": [{"place": place, "unit": members[0]}]},
            False,
        )
    return out


def _stages(s: CycleState) -> list[dict[str, Any]]:
    order = ["pledge", "scoring", "review", "discipline", "vote", "election", "completed"]
    here = order.index(s.stage) if s.stage in order else -1
    return [
        {
            "stage": st,
            "deadline": s.deadlines.get(st),
            "state": "done"
            if i < here or s.stage == "completed"
            else "now"
            if i == here
            else "later",
        }
        for i, st in enumerate(order)
    ]


async def _page(
    request: Request,
    block: str,
    year: int,
    page: str,
    *,
    status: int = 200,
    error: FormError | None = None,
    failed: str = "",
    typed: dict[str, Any] | None = None,
    **extra: Any,
) -> HTMLResponse:
    try:
        s = await load(request, block, year)
    except DomainError:
        return render(request, "notfound.html", status=404, title="Không tìm thấy")
    who = actor(request)
    if not may_open(page, who, s):
        return forbidden(request, **context(s, who, block, year), page=page)
    template = PAGES[page][0] if page in PAGES else f"{page}.html"
    ctx = context(s, who, block, year)
    errors = list(getattr(error, "errors", [error] if error else []))
    flash = flash_of(request) if error is None else None
    if flash is not None:
        error, errors, failed, typed, status = (
            flash.error,
            flash.errors,
            flash.failed,
            flash.typed,
            flash.status,
        )
    confirming, asks = "", None
    asked = bool(typed) and (typed or {}).get("confirm") == "1"
    if error is not None and (error.code == "confirm_needed" or asked):
        confirming = failed
        asks = consequence(failed.split(":")[0], s, _typed_body(failed, typed or {}))
        if error.code == "confirm_needed":
            errors = []
            if asks is None:  # nothing to confirm any more (the stage moved on): ask again
                confirming, error = "", None
    extra.update(errors=errors, confirming=confirming, consequence=asks)
    if s.stage == "scoring" and page in ("tu-cham-diem", "dieu-hanh"):
        latest = await latest_evidence(request, block, year)
        ctx["attached"] = latest.get(who.unit or "", {})
        ctx["attached_of"] = {u: latest.get(u, {}) for u in ctx["verify_units"]}
    if page == "result":
        ctx.update(
            result_context(s, ctx), may_draft=may_draft(who, s), api=f"/cycles/{block}/{year}"
        )
    ctx.setdefault("title", TITLES.get(page, "Kỳ thi đua"))
    if page == "dieu-hanh":
        ctx["acts"] = console_acts(s, who, ctx["ranked"])

    def show(**more: Any) -> HTMLResponse:
        return render(
            request,
            template,
            status=status,
            page=page,
            error=error,
            failed=failed,
            typed=typed or {},
            **ctx,
            **extra,
            **more,
        )

    response = show()
    if (
        error is not None
        and not (error.code == "confirm_needed" and not confirming)
        and f'data-code="{error.code}"'.encode() not in response.body
    ):
        # the refused form is not on the page as it is now (the stage moved on): say it on top
        response = show(orphan_error=True)
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
            ranking = [
                RankEntry(
                    unit=u, total=s.total_of(u), rank=ranked.rank[u], eligible=u not in excluded
                )
                for u in ranked.order
            ]
            ranking += [
                RankEntry(unit=u, total=None, rank=None, eligible=False) for u in ranked.unscored
            ]
        nominations = list(s.nominations)
    chart = bar_chart(
        [(names.get(e.unit, e.unit), e.total, e.eligible) for e in ranking],
        title=f"Tổng điểm của các đơn vị – {cycle_title(s)}",
    )
    assert s.score_sheet is not None
    scores = {u: a.sections for u, a in s.adopted.items()}
    return {
        "ranking": ranking,
        "excluded": excluded,
        "nominations": nominations,
        "chart": chart,
        "title": "Kết quả",
        "sections": list(s.score_sheet.sections),
        "section_scores": scores,
    }


def may_draft(who: Actor, s: CycleState) -> bool:
    """Who gets the block's documents (report, proposal, news) from the result page: the
    block's head and deputy units, the secretariat, auditors (app/http/documents.py)."""
    assert s.block is not None
    return who.kind in ("admin", "auditor") or (
        who.kind == "unit" and who.unit in (s.block.head, s.block.deputy)
    )


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
    got = await inbox_of(request)  # the header's task count rides on the same poll
    return JSONResponse(
        {"version": v or 0, "inbox": got[0] if got else None}, headers={"Cache-Control": "no-store"}
    )


@router.get("/ky/{block}/{year}/tu-cham-diem/mau.xlsx")
async def score_template_file(request: Request, block: str, year: int) -> Response:
    """The score sheet as an .xlsx template for the unit's person, filled with the unit's
    self-score when it sent one."""
    from ...documents.score_template import score_template

    try:
        s = await load(request, block, year)
    except DomainError:
        return render(request, "notfound.html", status=404, title="Không tìm thấy")
    who = actor(request)
    if not may_open("tu-cham-diem", who, s):
        return forbidden(request, **context(s, who, block, year), page="tu-cham-diem")
    assert s.block is not None and s.score_sheet is not None and who.unit is not None
    body = score_template(
        s.score_sheet,
        block=s.block.name,
        year=year,
        unit=s.block.name_of(who.unit),
        prefill=s.self_scores.get(who.unit),
    )
    name = f"mau-tu-cham-diem-{block}-{year}-{who.unit}.xlsx"
    return Response(
        body,
        media_type=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/ky/{block}/{year}/tu-cham-diem/tep")
async def score_from_file(request: Request, block: str, year: int) -> Response:
    """Fill the self-score form from an uploaded template: the page comes back with the scores
    in its fields (nothing is sent: the person checks them and sends the form), or with every
    wrong cell named (422)."""
    from ...documents.score_template import (
        MAX_TEMPLATE_BYTES,
        CellProblem,
        TemplateError,
        read_score_template,
    )

    try:
        s = await setup_of(request, block, year)
    except DomainError:
        return render(request, "notfound.html", status=404, title="Không tìm thấy")
    who = actor(request)
    if not may_open("tu-cham-diem", who, s):
        return forbidden(request, **context(s, who, block, year), page="tu-cham-diem")
    assert s.score_sheet is not None
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        problems = [CellProblem("", "Chưa chọn tệp bảng tính đã điền.")]
        return await _page(
            request, block, year, "tu-cham-diem", status=422, template_problems=problems
        )
    data = await upload.read(MAX_TEMPLATE_BYTES + 1)
    try:
        scores = read_score_template(data, s.score_sheet)
    except TemplateError as exc:
        return await _page(
            request, block, year, "tu-cham-diem", status=422, template_problems=exc.problems[:50]
        )
    typed = {f"sections.{sid}": vn_number(v, grouped=False) for sid, v in scores.items()}
    return await _page(
        request,
        block,
        year,
        "tu-cham-diem",
        failed="submit_self_score",
        typed=typed,
        template_filled=True,
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    typed = {
        k: _printable(form.getlist(k)) if len(form.getlist(k)) > 1 else _printable(form.get(k))
        for k in form
        if all(isinstance(v, str) for v in form.getlist(k))
    }  # not the files
    typed.pop("csrf_token", None)
    do = str(form.get("do", ""))
    here = f"/ky/{block}/{year}/{page}"
    if do not in PAGES[page][1]:
        return refuse(here, [FormError("invalid_request", "do")], do, typed, 422)
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
        shape(body)  # a malformed form is refused before any confirm step
        asks = consequence(do, s, body)
        if asks is not None and form.get("confirm") != "1":
            # the confirm step: nothing is sent; the page names the consequence and asks
            return refuse(here, [FormError("confirm_needed", "confirm", asks)], failed, typed, 200)
        if do in NOTED and (asks is not None or do in ("withdraw_finding", "extend_deadline")):
            if not _text(form, "note"):
                raise FormError("reason_required", "note")
            body["note"] = _text(form, "note")
        if do == "submit_self_score":
            body["evidence"] = await evidence_of_form(request, form, s, block, year, who)
        await send_command(request, block, year, body)
    except IdentityError:
        raise
    except FormError as err:
        if err.code == "not_authorized":
            return forbidden(request, **context(s, who, block, year), page=page)
        if isinstance(err, FormErrors):
            return refuse(here, err.errors, failed, typed, 409)
        sentence_values = _values(err, s)
        if sentence_values:
            err = FormError(err.code, err.field, **sentence_values)
        if err.code == "no_round_open" and not s.rounds:  # none held yet: say so
            err = FormError(err.code, err.field, words.rule_sentence("no_round_yet"))
        return refuse(here, [err], failed, typed, 409)
    target = f"/ky/{block}/{year}" if page in UNIT_PAGES else f"/ky/{block}/{year}/{page}"
    return redirect_after_command(request, target + "?da-gui=" + do)


NOTED = ("close_pledge", "close_scoring", "close_vote_round", "withdraw_finding", "extend_deadline")
"""Acts whose reason the page requires (for a close: only an early one), recorded in the event."""


def consequence(do: str, s: CycleState, body: dict[str, Any]) -> str | None:
    """What an act that cannot be undone does, with counts, when it needs a confirmation (an
    early close, an empty or partial ballot, cancelling, withdrawing a finding); else None."""
    n = len(s.members)
    if do == "close_pledge" and s.stage == "pledge" and len(s.signed) < n:
        left = n - len(s.signed)
        return f"{len(s.signed)}/{n} đơn vị đã ký; {left} đơn vị sẽ không đủ điều kiện suy tôn."
    if (
        do == "close_scoring"
        and s.stage == "scoring"
        and (len(s.self_scores) < n or len(s.verified) < len(s.self_scores))
    ):
        left = n - len(s.self_scores)
        return (
            f"{len(s.self_scores)}/{n} đơn vị đã gửi bản tự chấm điểm, "
            f"{len(s.verified)}/{n} đã được thẩm định; {left} đơn vị sẽ không đủ điều "
            "kiện suy tôn."
        )
    r = s.open_round
    if do == "close_vote_round" and r is not None and len(r.ballots) < len(r.voters):
        return (
            f"{len(r.ballots)}/{len(r.voters)} đơn vị đã gửi phiếu; "
            f"{len(r.voters) - len(r.ballots)} phiếu chưa gửi sẽ không được tính."
        )
    el = s.election
    if (
        do == "close_election"
        and el is not None
        and not el.failed
        and len(el.ballots) < len(el.voters)
    ):
        return (
            f"{len(el.ballots)}/{len(el.voters)} đơn vị đã gửi phiếu bầu; "
            f"{len(el.voters) - len(el.ballots)} phiếu chưa gửi sẽ không được tính."
        )
    if do == "cast_ballot" and r is not None and len(body.get("approve", ())) < len(r.proposals):
        k = len(body.get("approve", ()))
        return (
            f"Phiếu đồng ý {k}/{len(r.proposals)} đơn vị được đề nghị"
            f"{' (phiếu trống)' if k == 0 else ''}; phiếu đã gửi không thể sửa."
        )
    if (
        do == "cast_election_ballot"
        and el is not None
        and (
            (not el.head and el.head_candidates and not body.get("head"))
            or (not el.deputy and el.deputy_candidates and not body.get("deputy"))
        )
    ):
        return "Phiếu bầu còn để trống một vị trí; phiếu đã gửi không thể sửa."
    if do == "withdraw_finding":
        return (
            f"{unit_name(s, body.get('unit'))} sẽ được xét điều kiện suy tôn trở lại; "
            "việc rút ghi nhận được ghi vào nhật ký."
        )
    if do == "cancel_cycle":
        return (
            f"Kỳ thi đua của {n} đơn vị dừng hẳn ở bước hiện tại; không thể tiếp tục hay khôi phục."
        )
    return None


def _typed_body(failed: str, typed: dict[str, Any]) -> dict[str, Any]:
    """The command's parts a consequence counts, from what was typed (the confirm step)."""
    approve = typed.get("approve", [])
    return {
        "approve": [approve] if isinstance(approve, str) else list(approve),
        "head": typed.get("head"),
        "deputy": typed.get("deputy"),
        "unit": failed.split(":", 1)[1] if ":" in failed else typed.get("unit"),
    }


async def latest_evidence(
    request: Request, block: str, year: int
) -> dict[str, dict[str, tuple[EvidenceFile, ...]]]:
    """Each unit's files as its latest self-score attaches them, from the store."""
    svc = services(request)
    stream = cycle_key(block, year, svc.cycles.prefix)[1]
    out: dict[str, dict[str, tuple[EvidenceFile, ...]]] = {}
    for e in await svc.store.read_stream(stream):
        if e.type == "self_score_submitted":
            out[str(e.data["unit"])] = {
                sid: tuple(EvidenceFile.model_validate(f) for f in files)
                for sid, files in (e.data.get("evidence") or {}).items()
            }
    return out


def _evidence_error(code: str, field: str, title: str | None = None) -> FormError:
    sentence = rule_sentence(code)
    if title is not None:
        sentence = f"Minh chứng của mục “{title}”: {sentence[0].lower()}{sentence[1:]}"
    return FormError(code, field, sentence=sentence)


async def evidence_of_form(
    request: Request, form: Any, s: CycleState, block: str, year: int, who: Actor
) -> dict[str, list[dict[str, Any]]]:
    """The self-score's files: those of the unit's latest self-score it keeps (`keep.SECTION`)
    and the new ones (`evidence.SECTION`), each checked by its content (app/evidence.py). A
    refused file is named with its section; nothing is stored then. The new files are stored
    (by their SHA-256) before the command is sent."""
    assert s.score_sheet is not None
    from starlette.datastructures import UploadFile

    svc = services(request)
    previous = (await latest_evidence(request, block, year)).get(who.unit or "", {})
    chosen: dict[str, list[EvidenceFile]] = {}
    new: list[bytes] = []
    for sec in s.score_sheet.sections:
        field = f"evidence.{sec.id}"
        keep = {v for v in form.getlist(f"keep.{sec.id}") if isinstance(v, str)}
        files = [f for f in previous.get(sec.id, ()) if f.sha256 in keep]
        for f in files:
            if not await asyncio.to_thread(svc.evidence.has, f.sha256):
                raise _evidence_error("evidence_not_uploaded", field, sec.title)
        for up in form.getlist(field):
            if not isinstance(up, UploadFile) or not up.filename:
                continue  # a file field left empty
            data = await up.read(EVIDENCE_MAX_BYTES + 1)
            try:
                found = accept(data, up.filename)
            except EvidenceRefused as exc:
                raise _evidence_error(exc.code, field, sec.title) from None
            if all(f.sha256 != found.sha256 for f in files):
                files.append(found)
                new.append(data)
        if len(files) > EVIDENCE_PER_SECTION:
            raise _evidence_error("too_many_evidence", field, sec.title)
        if files:
            chosen[sec.id] = files
    if sum(len(f) for f in chosen.values()) > EVIDENCE_PER_SCORE:
        raise _evidence_error("too_many_evidence", "evidence")
    for data in new:
        await asyncio.to_thread(svc.evidence.put, data)
    return {sid: [f.model_dump(mode="json") for f in files] for sid, files in chosen.items()}


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
    """Each section's score; every field's problem at once (FormErrors), in the sheet's order:
    not a number, missing, and the rules' range and places (domain.rules.scoring)."""
    assert s.score_sheet is not None
    parsed, errors = {}, {}
    for sec in s.score_sheet.sections:
        field = f"sections.{sec.id}"
        try:
            parsed[sec.id] = parse_score(form.get(field), field)
        except FormError as err:
            errors[field] = err
    for problem in section_problems(s.score_sheet, parsed):
        if problem.field and problem.field not in errors and problem.code != "missing_section":
            said = FormError(problem.code, problem.field)
            errors[problem.field] = FormError(said.code, said.field, **_values(said, s))
    if errors:
        order = [f"sections.{sec.id}" for sec in s.score_sheet.sections]
        raise FormErrors(sorted(errors.values(), key=lambda e: order.index(e.field or "")))
    return {sid: str(v) for sid, v in parsed.items()}


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
                absent.append(
                    {
                        "unit": u,
                        "with_notice": mark != "no_notice",
                        "written_opinion": mark == "written",
                    }
                )
            else:
                raise FormError("invalid_attendance", f"attendance.{u}")
        body["present"], body["absent"] = present, absent
    elif do == "record_finding":
        for name in ("unit", "kind", "reference"):
            if not _text(form, name):
                raise FormError("required", name)
        body.update(
            unit=_text(form, "unit"),
            kind=_text(form, "kind"),
            reference=_text(form, "reference"),
            note=_text(form, "note"),
        )
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
