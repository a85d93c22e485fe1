"""The secretariat's pages to set up a province's year: its score sheet (build or edit on the
page, or upload the .xlsx template: a preview in the form, saved only when confirmed), its
ruleset in words, and the opening of the year (which blocks start, which are refused and why,
then the province's year workflow, as `thidua year open`).

    /quan-ly/bang-diem       ?tinh=…&nam=…   the sheet's form, its saved versions
    /quan-ly/bang-diem/mau.xlsx              the template (filled with the latest version)
    /quan-ly/bang-diem/tai-len  (POST)       a filled template → the form, or its wrong cells
    /quan-ly/quy-che         ?tinh=…         the ruleset's form, its saved versions
    /quan-ly/mo-nam          ?tinh=…&nam=…   choose, preview, open
"""

from __future__ import annotations

from datetime import datetime, time
from fractions import Fraction
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from domain.errors import DomainError
from domain.setup import DEFAULT_PLACES, Ruleset, ScoreSheet
from domain.sheets import FIELD_ROWS, FIRST_ROW, SheetRow, read_sheet, sheet_rows
from domain.values import FINDING_KINDS, TEXT_MAX, canonical_decimal
from readmodels.blocks import provinces

from ...sheets import (
    MAX_XLSX,
    CellError,
    SetupStore,
    SheetFileError,
    cell_errors,
    read_xlsx,
    write_template,
)
from ...words import EXCLUSION, VN
from ..blocks import block_service
from ..params import year_of
from .core import FormError, actor, forbidden, redirect, render, services
from .cycle import day_of

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

BLANK_ROWS = 4
"""Empty rows under the sheet's rows, to add sections or criteria."""
MAX_FORM_ROWS = 400
FORM_SHEET = "Biểu mẫu"
"""The 'sheet' a wrong cell of the page's form is on (the workbook's is 'Bảng điểm')."""


def _setup(request: Request) -> SetupStore:
    svc = services(request)
    return SetupStore(svc.store, svc.cycles.prefix)


def _int(text: str) -> int | None:
    """A small non-negative integer typed in ASCII digits, else None."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None


def _province(raw: Any) -> str:
    text = str(raw or "").strip()
    return text if 0 < len(text) <= 200 and text.isprintable() else ""


async def _provinces(request: Request) -> list[str]:
    svc = services(request)
    return await provinces(svc.pool, prefix=svc.cycles.prefix)


# ---- score sheets -----------------------------------------------------------------------


def _form_rows(sheet: ScoreSheet | None) -> tuple[dict[str, str], list[SheetRow]]:
    if sheet is None:
        fields: dict[str, str] = {"title": "", "max_total": "1000", "decimals": "2"}
        rows: list[SheetRow] = []
    else:
        fields, rows = sheet_rows(sheet)
    n = FIRST_ROW + len(rows)
    rows += [SheetRow(n + i) for i in range(BLANK_ROWS)]
    return fields, rows


async def _sheet_page(
    request: Request,
    province: str,
    year: int | None,
    *,
    status: int = 200,
    fields: dict[str, str] | None = None,
    rows: list[SheetRow] | None = None,
    errors: list[CellError] | None = None,
    file_error: str | None = None,
    preview: bool = False,
    saved: str | None = None,
) -> HTMLResponse:
    versions: list[ScoreSheet] = []
    if province and year is not None:
        versions = await _setup(request).sheets(province, year)
    earlier = None
    if fields is None or rows is None:
        if not versions and province and year is not None:
            # a new year starts from the last sheet of the year before, to edit
            earlier = await _setup(request).sheet(province, year - 1)
        fields, rows = _form_rows(versions[-1] if versions else earlier)
    bad = {(e.row, e.column): e for e in errors or []}
    return render(
        request,
        "setup_sheet.html",
        status=status,
        title="Bảng điểm thi đua",
        province=province,
        year=year,
        fields=fields,
        rows=rows,
        errors=errors or [],
        bad=bad,
        file_error=file_error,
        preview=preview,
        versions=versions,
        saved=saved,
        provinces=await _provinces(request),
        FIELD_ROWS=FIELD_ROWS,
        earlier=earlier,
        dec=canonical_decimal,
    )


@router.get("/quan-ly/bang-diem")
async def sheet_page(request: Request) -> Response:
    if actor(request).kind != "admin":
        return forbidden(request)
    q = request.query_params
    return await _sheet_page(
        request,
        _province(q.get("tinh")),
        year_of(q.get("nam", "")),
        saved=str(_int(q.get("da-luu") or "") or "") or None,
    )


def _typed_rows(form: Any) -> tuple[dict[str, str], list[SheetRow]]:
    fields = {k: str(form.get(k) or "")[: TEXT_MAX + 1] for k in FIELD_ROWS}
    rows = []
    for i in range(MAX_FORM_ROWS):
        if f"section_{i}" not in form:
            break
        cells = [
            str(form.get(f"{k}_{i}") or "")[: TEXT_MAX + 1]
            for k in ("section", "criterion", "title", "max")
        ]
        rows.append(SheetRow(FIRST_ROW + i, *(c or None for c in cells)))
    return fields, rows


@router.post("/quan-ly/bang-diem")
async def save_sheet(request: Request) -> Response:
    """Save the form as the next version of the province's sheet of the year (the same content
    as the latest: nothing new)."""
    who = actor(request)
    if who.kind != "admin":
        return forbidden(request)
    form = await request.form()
    province, year = _province(form.get("tinh")), year_of(str(form.get("nam") or ""))
    fields, rows = _typed_rows(form)
    if form.get("action") == "them-dong":  # more empty rows; nothing saved
        n = FIRST_ROW + len(rows)
        rows += [SheetRow(n + i) for i in range(BLANK_ROWS)]
        return await _sheet_page(request, province, year, fields=fields, rows=rows)
    if not province or year is None:
        return await _sheet_page(
            request,
            province,
            year,
            status=422,
            fields=fields,
            rows=rows,
            file_error="Hãy chọn tỉnh và năm của bảng điểm.",
        )
    sheet, problems = read_sheet(fields, rows)
    if sheet is None:
        return await _sheet_page(
            request,
            province,
            year,
            status=422,
            fields=fields,
            rows=rows,
            errors=cell_errors(problems, FORM_SHEET),
        )
    pinned, _ = await _setup(request).save_sheet(province, year, sheet, who)
    return redirect(f"/quan-ly/bang-diem?tinh={_q(province)}&nam={year}&da-luu={pinned.version}")


@router.post("/quan-ly/bang-diem/tai-len")
async def upload_sheet(request: Request) -> Response:
    """A filled template: its sheet in the form, to check and save (nothing saved here), or
    each wrong cell of the workbook named."""
    if actor(request).kind != "admin":
        return forbidden(request)
    form = await request.form()
    province, year = _province(form.get("tinh")), year_of(str(form.get("nam") or ""))
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        return await _sheet_page(
            request, province, year, status=422, file_error="Hãy chọn tệp .xlsx của bảng điểm."
        )
    data = await upload.read(MAX_XLSX + 1)
    try:
        sheet, errors = read_xlsx(data)
    except SheetFileError as exc:
        return await _sheet_page(request, province, year, status=422, file_error=exc.sentence)
    if sheet is None:
        return await _sheet_page(
            request,
            province,
            year,
            status=422,
            errors=errors,
            file_error="Tệp có ô chưa hợp lệ; chưa lưu gì.",
        )
    fields, rows = _form_rows(sheet)
    return await _sheet_page(request, province, year, fields=fields, rows=rows, preview=True)


@router.get("/quan-ly/bang-diem/mau.xlsx")
async def sheet_template(request: Request) -> Response:
    if actor(request).kind != "admin":
        return forbidden(request)
    q = request.query_params
    province, year = _province(q.get("tinh")), year_of(q.get("nam", ""))
    sheet = await _setup(request).sheet(province, year) if province and year else None
    return Response(
        write_template(sheet),
        media_type=("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        headers={
            "Content-Disposition": 'attachment; filename="bang-diem.xlsx"',
            "Cache-Control": "no-store",
        },
    )


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


# ---- rulesets ---------------------------------------------------------------------------

PLACE_ROWS = 5
BASE_WORDS = {"voters": "số người bỏ phiếu của vòng", "members": "số thành viên của khối"}
COMPARE_WORDS = {"more_than": "nhiều hơn", "at_least": "ít nhất bằng"}
ROTATION_WORDS = {
    "deputy_succeeds": "Khối phó năm nay làm Khối trưởng năm sau; bầu Khối phó",
    "elect_both": "Bầu cả Khối trưởng và Khối phó",
}
FIELD_WORDS = {
    "quorum": "Tỷ lệ tối thiểu thành viên dự hội nghị (ví dụ 2/3)",
    "vote.threshold": "Tỷ lệ phiếu đồng ý để được suy tôn (ví dụ 1/2)",
    "vote.max_rounds": "Số vòng bỏ phiếu tối đa",
    "places": "Danh hiệu theo thứ hạng",
    "reminder_days": "Nhắc hạn trước (ngày, cách nhau bởi dấu phẩy)",
    "max_extensions": "Số lần gia hạn tối đa mỗi bước",
}


CHOOSE = "Hãy chọn một giá trị trong danh sách."


def _ruleset_form(r: Ruleset) -> dict[str, Any]:
    titles = [p.title for p in r.places] + [""] * (PLACE_ROWS - len(r.places))
    return {
        "quorum": str(r.quorum),
        "require_pledge": r.require_pledge,
        "excluding": set(r.excluding_findings),
        "titles": titles[: max(PLACE_ROWS, len(titles))],
        "threshold": str(r.vote.threshold),
        "base": r.vote.base,
        "compare": r.vote.compare,
        "written_opinions": r.vote.written_opinions,
        "max_rounds": str(r.vote.max_rounds),
        "rotation": r.rotation,
        "reminder_days": ", ".join(str(d) for d in r.reminder_days),
        "max_extensions": str(r.max_extensions),
        "area_floor": ", ".join(f"{k}={canonical_decimal(v)}" for k, v in r.area_floor.items()),
    }


def _ruleset_of(
    form: Any, base: Ruleset
) -> tuple[Ruleset | None, dict[str, Any], str | None, str | None]:
    """The ruleset of the form (its other parameters from `base`), what was typed, and the
    field that breaks a rule with its sentence."""
    g = {
        k: str(form.get(k) or "").strip()[:200]
        for k in (
            "quorum",
            "threshold",
            "base",
            "compare",
            "max_rounds",
            "rotation",
            "reminder_days",
            "max_extensions",
            "area_floor",
        )
    }
    typed: dict[str, Any] = {
        **g,
        "require_pledge": form.get("require_pledge") == "1",
        "written_opinions": form.get("written_opinions") == "1",
        "excluding": {k for k in form.getlist("excluding") if k in FINDING_KINDS},
        "titles": [str(form.get(f"title_{i}") or "").strip()[:TEXT_MAX] for i in range(PLACE_ROWS)],
    }
    try:
        days = tuple(int(d) for d in g["reminder_days"].replace(";", ",").split(",") if d.strip())
        if not all(d.strip().isascii() for d in g["reminder_days"].split(",")):
            raise ValueError
    except ValueError:
        return None, typed, "reminder_days", "Ghi các số ngày, cách nhau bởi dấu phẩy (ví dụ 7, 1)."
    floors: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in g["area_floor"].split(","))):
        sid, _, value = part.partition("=")
        floors[sid.strip()] = value.strip()
    titles = [t for t in typed["titles"] if t]
    data = {
        **base.model_dump(mode="json"),
        "quorum": g["quorum"],
        "require_pledge": typed["require_pledge"],
        "excluding_findings": [k for k in FINDING_KINDS if k in typed["excluding"]],
        "places": [{"place": i, "title": t} for i, t in enumerate(titles, start=1)],
        "vote": {
            **base.vote.model_dump(mode="json"),
            "threshold": g["threshold"],
            "base": g["base"],
            "compare": g["compare"],
            "written_opinions": typed["written_opinions"],
            "max_rounds": _int(g["max_rounds"]) or -1,
        },
        "rotation": g["rotation"],
        "reminder_days": list(days),
        "max_extensions": -1 if _int(g["max_extensions"]) is None else _int(g["max_extensions"]),
        "area_floor": floors,
    }
    try:
        return Ruleset.model_validate(data), typed, None, None
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        field = next(
            (
                f
                for f in (
                    "quorum",
                    "vote.threshold",
                    "vote.max_rounds",
                    "vote.base",
                    "vote.compare",
                    "rotation",
                    "reminder_days",
                    "max_extensions",
                    "area_floor",
                    "places",
                )
                if loc.startswith(f)
            ),
            "places",
        )
        sentence = {
            "quorum": "Ghi một phân số lớn hơn 0 và không quá 1, ví dụ 2/3.",
            "vote.threshold": "Ghi một phân số lớn hơn 0 và không quá 1, ví dụ 1/2.",
            "vote.max_rounds": "Số vòng là một số nguyên từ 1 đến 10.",
            "reminder_days": "Mỗi số ngày từ 0 đến 365, tối đa 10 số.",
            "max_extensions": "Số lần gia hạn là một số nguyên từ 0 đến 1000.",
            "area_floor": "Ghi mã nội dung=điểm sàn, cách nhau bởi dấu phẩy (ví dụ c1=300).",
            "places": "Cần ít nhất một danh hiệu, ghi theo thứ hạng 1, 2, 3…; mỗi danh hiệu "
            "tối đa 2000 ký tự.",
            "vote.base": CHOOSE,
            "vote.compare": CHOOSE,
            "rotation": CHOOSE,
        }[field]
        return None, typed, field, sentence


async def _ruleset_page(
    request: Request,
    province: str,
    *,
    status: int = 200,
    typed: dict[str, Any] | None = None,
    error: tuple[str, str] | None = None,
    saved: str | None = None,
) -> HTMLResponse:
    versions = await _setup(request).rulesets(province) if province else []
    current = versions[-1] if versions else Ruleset()
    return render(
        request,
        "setup_ruleset.html",
        status=status,
        title="Quy chế thi đua",
        province=province,
        versions=versions,
        current=current,
        f=typed or _ruleset_form(current),
        error=error,
        saved=saved,
        provinces=await _provinces(request),
        FINDING_KINDS=FINDING_KINDS,
        EXCLUSION=EXCLUSION,
        BASE_WORDS=BASE_WORDS,
        COMPARE_WORDS=COMPARE_WORDS,
        ROTATION_WORDS=ROTATION_WORDS,
        FIELD_WORDS=FIELD_WORDS,
        defaults=_ruleset_form(Ruleset()),
        PLACE_ROWS=PLACE_ROWS,
        default_places=DEFAULT_PLACES,
        pct=_percent,
    )


def _percent(fraction: str) -> str:
    f = Fraction(fraction)
    return f"{float(f) * 100:.4g}%".replace(".", ",")


@router.get("/quan-ly/quy-che")
async def ruleset_page(request: Request) -> Response:
    if actor(request).kind != "admin":
        return forbidden(request)
    q = request.query_params
    return await _ruleset_page(
        request, _province(q.get("tinh")), saved=str(_int(q.get("da-luu") or "") or "") or None
    )


@router.post("/quan-ly/quy-che")
async def save_ruleset(request: Request) -> Response:
    who = actor(request)
    if who.kind != "admin":
        return forbidden(request)
    form = await request.form()
    province = _province(form.get("tinh"))
    if not province:
        return await _ruleset_page(
            request, "", status=422, error=("tinh", "Hãy chọn tỉnh của quy chế.")
        )
    setup = _setup(request)
    base = await setup.ruleset(province) or Ruleset()
    ruleset, typed, field, sentence = _ruleset_of(form, base)
    if ruleset is None:
        assert field is not None and sentence is not None
        return await _ruleset_page(
            request, province, status=422, typed=typed, error=(field, sentence)
        )
    pinned, _ = await setup.save_ruleset(province, ruleset, who)
    return redirect(f"/quan-ly/quy-che?tinh={_q(province)}&da-luu={pinned.version}")


# ---- opening the year -------------------------------------------------------------------


async def _open_page(
    request: Request,
    typed: dict[str, str],
    *,
    status: int = 200,
    plan: list[dict[str, Any]] | None = None,
    error: tuple[str, str] | None = None,
) -> HTMLResponse:
    province, year = _province(typed.get("tinh")), year_of(typed.get("nam", ""))
    setup = _setup(request)
    sheets = await setup.sheets(province, year) if province and year else []
    rulesets = await setup.rulesets(province) if province else []
    return render(
        request,
        "setup_open.html",
        status=status,
        title="Mở năm thi đua",
        typed=typed,
        province=province,
        year=year,
        sheets=sheets,
        rulesets=rulesets,
        plan=plan,
        error=error,
        provinces=await _provinces(request),
    )


NO_MEMBERS = "Khối chưa có đủ thành viên trong năm này (cần ít nhất 3 đơn vị)."
_OPEN_FIELDS = ("tinh", "nam", "sheet", "ruleset", "pledge", "scoring")


@router.get("/quan-ly/mo-nam")
async def open_page(request: Request) -> Response:
    if actor(request).kind != "admin":
        return forbidden(request)
    typed = {k: request.query_params.get(k, "")[:200] for k in _OPEN_FIELDS}
    return await _open_page(request, typed)


@router.post("/quan-ly/mo-nam")
async def open_year(request: Request) -> Response:
    """`xem`: which blocks would start and which are refused, and why; `mo`: open the year
    (the province's year workflow starts every block that can start)."""
    who = actor(request)
    if who.kind != "admin":
        return forbidden(request)
    form = await request.form()
    typed = {k: str(form.get(k) or "").strip()[:200] for k in _OPEN_FIELDS}
    province, year = _province(typed["tinh"]), year_of(typed["nam"])
    if not province:
        return await _open_page(request, typed, status=422, error=("tinh", "Hãy chọn tỉnh."))
    if year is None:
        return await _open_page(
            request, typed, status=422, error=("nam", "Năm là một số từ 1945 đến 2200.")
        )
    setup = _setup(request)
    sheet_version = _int(typed["sheet"])
    sheet = await setup.sheet(province, year, sheet_version) if sheet_version is not None else None
    if sheet is None:
        return await _open_page(
            request,
            typed,
            status=422,
            error=("sheet", "Hãy chọn một bảng điểm đã lưu của năm (trang Bảng điểm thi đua)."),
        )
    if typed["ruleset"] == "mac-dinh":
        ruleset: Ruleset | None = Ruleset()
    else:
        ruleset_version = _int(typed["ruleset"])
        ruleset = (
            await setup.ruleset(province, ruleset_version) if ruleset_version is not None else None
        )
    if ruleset is None:
        return await _open_page(request, typed, status=422, error=("ruleset", "Hãy chọn quy chế."))
    deadlines: dict[str, datetime] = {}
    for stage in ("pledge", "scoring"):
        if typed[stage]:
            try:
                day = day_of(typed[stage], stage)  # 31/01/2019, as every date field reads
            except FormError as err:
                return await _open_page(request, typed, status=422, error=(stage, err.sentence))
            deadlines[stage] = datetime.combine(day, time(17, 0), tzinfo=VN)
    blocks = block_service(request)
    plan = []
    for block_id in await blocks.blocks_of(province):
        row: dict[str, Any] = {"block": block_id, "name": block_id, "members": 0}
        try:
            state = await blocks.state(block_id)
            row["name"] = state.name
            start = await blocks.start_command(
                block_id, year, ruleset=ruleset, score_sheet=sheet, deadlines=deadlines
            )
            row.update(
                ok=True,
                members=len(start.block.members),
                head=start.block.name_of(start.block.head),
                deputy=start.block.name_of(start.block.deputy),
            )
        except DomainError as exc:
            from ...words import rule_sentence

            row.update(
                ok=False,
                code=exc.code,
                sentence=NO_MEMBERS if exc.code == "invalid_block" else rule_sentence(exc.code),
            )
        plan.append(row)
    if form.get("action") != "mo":
        return await _open_page(request, typed, plan=plan)
    if not any(r["ok"] for r in plan):
        return await _open_page(
            request,
            typed,
            status=409,
            plan=plan,
            error=("nam", "Không khối nào của tỉnh khởi tạo được kỳ thi đua năm này."),
        )
    try:
        await blocks.open_year(
            province, year, ruleset=ruleset, score_sheet=sheet, deadlines=deadlines, actor=who
        )
    except DomainError as exc:
        from ...words import rule_sentence

        return await _open_page(
            request, typed, status=409, plan=plan, error=("nam", rule_sentence(exc.code))
        )
    return redirect(f"/quan-ly?nam={year}")
