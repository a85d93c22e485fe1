"""The secretariat's pages for blocks: the list, a new block (members one row at a time), a
block's record by year with its changes (joins, leaves, renames, appointments), and a province
from one workbook (preview, then confirm). Every change goes through BlockService (through
app/province_setup.ProvinceSetup where `unit_in_two_blocks` applies): an event of the block's
stream."""

from __future__ import annotations

import base64
import binascii
import io
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from domain.block_state import BlockState
from domain.errors import DomainError
from domain.province_book import suggest_id
from domain.province_setup import ProvincePlan
from domain.setup import Block, Member
from domain.values import ID_PATTERN
from readmodels.blocks import registered_blocks

from ...province_setup import BookError, ProvinceSetup, problem_line, write_template
from ...words import VN
from ..blocks import block_service
from ..deps import AUDIT_READERS
from ..params import year_of
from .core import FormError, actor, forbidden, redirect_after_command, render, services

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

BASE = "/quan-ly/khoi-thi-dua"
MAX_ROWS = 100
MAX_PAGE_BOOK = 512 * 1024
"""A workbook uploaded on the page (its bytes ride in the confirmation form, base64)."""

_ID_CHARS = ID_PATTERN


def _setup(request: Request) -> ProvinceSetup:
    return ProvinceSetup(block_service(request))


# ---- the list ---------------------------------------------------------------------------


async def _list_page(
    request: Request,
    *,
    status: int = 200,
    error: FormError | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    svc = services(request)
    prefix = svc.cycles.prefix
    await svc.readmodels.catch_up()
    rows = await registered_blocks(svc.pool, prefix=prefix)
    return render(
        request,
        "setup_blocks.html",
        status=status,
        title="Khối thi đua",
        blocks=rows,
        error=error,
        typed=typed or {},
    )


@router.get(BASE)
async def blocks_list(request: Request) -> HTMLResponse:
    if actor(request).kind not in AUDIT_READERS:
        return forbidden(request)
    return await _list_page(request)


@router.get(BASE + "/mau.xlsx")
async def template(request: Request) -> Response:
    if actor(request).kind not in AUDIT_READERS:
        return forbidden(request)
    buf = io.BytesIO()
    write_template(buf)
    return Response(
        buf.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="khoi-thi-dua-mau.xlsx"'},
    )


# ---- a new block ------------------------------------------------------------------------


def _typed_rows(form: Any) -> list[dict[str, str]]:
    rows = []
    for i in range(MAX_ROWS):
        if f"unit-{i}" not in form and f"name-{i}" not in form:
            break
        rows.append(
            {
                "unit": str(form.get(f"unit-{i}") or "").strip(),
                "name": " ".join(str(form.get(f"name-{i}") or "").split()),
            }
        )
    return rows


def _new_page(
    request: Request, typed: dict[str, Any], *, status: int = 200, error: FormError | None = None
) -> HTMLResponse:
    return render(
        request,
        "setup_block_new.html",
        status=status,
        title="Đăng ký khối thi đua",
        typed=typed,
        error=error,
    )


@router.get(BASE + "/moi")
async def new_block(request: Request) -> HTMLResponse:
    if actor(request).kind != "admin":
        return forbidden(request)
    return _new_page(request, {"rows": [{"unit": "", "name": ""}], "head": "", "deputy": ""})


@router.post(BASE + "/moi")
async def new_block_post(request: Request) -> Response:
    who = actor(request)
    if who.kind != "admin":
        return forbidden(request)
    form = await request.form()
    typed: dict[str, Any] = {
        k: " ".join(str(form.get(k) or "").split())
        for k in ("name", "id", "province", "head", "deputy")
    }
    rows = _typed_rows(form)
    typed["rows"] = rows or [{"unit": "", "name": ""}]
    if not typed["id"] and typed["name"]:
        typed["id"] = suggest_id(typed["name"])  # suggested from the name, shown to be kept
    if form.get("do") == "add_row":
        if len(rows) < MAX_ROWS:
            typed["rows"] = [*rows, {"unit": "", "name": ""}]
        typed["focus"] = len(typed["rows"]) - 1
        return _new_page(request, typed)
    try:
        block = _block_of(typed)
        await _setup(request).register(block, who)
    except FormError as err:
        return _new_page(request, typed, status=422, error=err)
    except DomainError as exc:
        field = exc.field or "id"
        field = {"block.id": "id", "block.name": "name", "block": "id"}.get(field, field)
        if field.startswith("block.members."):
            field = f"unit-{field.split('.')[2]}"
        return _new_page(request, typed, status=409, error=FormError(exc.code, field))
    return redirect_after_command(request, f"{BASE}/{block.id}?da-gui=register_block")


def _block_of(typed: dict[str, Any]) -> Block:
    """The block the form describes; FormError naming the first wrong field."""
    import re

    for key in ("name", "province"):
        if not typed[key]:
            raise FormError("required", key)
    if not typed["id"]:
        raise FormError("required", "id")
    if not re.fullmatch(_ID_CHARS, typed["id"]):
        raise FormError("invalid_id", "id")
    members: list[Member] = []
    index: dict[int, int] = {}
    seen: set[str] = set()
    for i, row in enumerate(typed["rows"]):
        if not row["unit"] and not row["name"]:
            continue
        if not row["name"]:
            raise FormError("required", f"name-{i}")
        if not row["unit"]:
            row["unit"] = suggest_id(row["name"])
        if not re.fullmatch(_ID_CHARS, row["unit"]):
            raise FormError("invalid_id", f"unit-{i}")
        if row["unit"] in seen:
            raise FormError("duplicate_unit", f"unit-{i}")
        if len(row["name"]) > 2000:
            raise FormError("text_too_long", f"name-{i}")
        seen.add(row["unit"])
        index[i] = len(members)
        members.append(Member(id=row["unit"], name=row["name"]))
    if len(members) < 3:
        raise FormError("too_few_members", "members")
    picks = {}
    for role in ("head", "deputy"):
        raw = typed[role]
        if not raw.isdigit() or int(raw) not in index:
            raise FormError("required", role)
        picks[role] = members[index[int(raw)]].id
    if picks["head"] == picks["deputy"]:
        raise FormError("head_is_deputy", "deputy")
    if len(typed["name"]) > 2000 or len(typed["province"]) > 2000:
        raise FormError("text_too_long", "name")
    return Block(
        id=typed["id"],
        name=typed["name"],
        province=typed["province"],
        members=tuple(members),
        head=picks["head"],
        deputy=picks["deputy"],
    )


# ---- a province from one workbook -------------------------------------------------------


def _preview_page(
    request: Request, plan: ProvincePlan, data: bytes, *, status: int = 200, note: str = ""
) -> HTMLResponse:
    return render(
        request,
        "setup_book.html",
        status=status,
        title="Xem trước danh sách khối",
        plan=plan,
        problems=[problem_line(p) for p in plan.problems],
        cells=plan.problems,
        digest=plan.digest(),
        note=note,
        data=base64.b64encode(data).decode(),
    )


async def _book_of(request: Request, form: Any) -> tuple[bytes | None, int | None, str]:
    """The workbook (an upload, or the bytes a preview carried) and the year."""
    year = year_of(str(form.get("year") or "").strip())
    upload = form.get("file")
    if upload is not None and not isinstance(upload, str):
        data = await upload.read(MAX_PAGE_BOOK + 1)
    else:
        try:
            data = base64.b64decode(str(form.get("data") or ""), validate=True)
        except (binascii.Error, ValueError):
            data = b""
    if not data:
        return None, year, "file"
    if len(data) > MAX_PAGE_BOOK:
        return None, year, "too_large"
    return data, year, ""


@router.post(BASE + "/nhap")
async def book_preview(request: Request) -> Response:
    """Read the uploaded workbook and show what it would change; nothing is written."""
    if actor(request).kind != "admin":
        return forbidden(request)
    form = await request.form()
    typed = {"year": str(form.get("year") or "").strip()[:10]}
    data, year, missing = await _book_of(request, form)
    if year is None:
        return await _list_page(
            request, status=422, error=FormError("invalid_year", "year"), typed=typed
        )
    if data is None:
        code = "file_too_large" if missing == "too_large" else "required"
        return await _list_page(
            request,
            status=413 if missing == "too_large" else 422,
            error=FormError(code, "file"),
            typed=typed,
        )
    try:
        plan = await _setup(request).preview(data, year)
    except BookError as exc:
        return await _list_page(
            request, status=422, typed=typed, error=FormError(exc.problems[0].code, "file")
        )
    return _preview_page(request, plan, data, status=422 if plan.problems else 200)


@router.post(BASE + "/nhap/ghi")
async def book_apply(request: Request) -> Response:
    """Write what the preview showed (the same workbook, the same plan), or show it again."""
    who = actor(request)
    if who.kind != "admin":
        return forbidden(request)
    form = await request.form()
    data, year, _ = await _book_of(request, form)
    if data is None or year is None:
        return await _list_page(request, status=422, error=FormError("required", "file"))
    setup = _setup(request)
    try:
        plan = await setup.preview(data, year)
    except BookError as exc:
        return await _list_page(request, status=422, error=FormError(exc.problems[0].code, "file"))
    if plan.problems or plan.digest() != str(form.get("digest") or ""):
        return _preview_page(
            request,
            plan,
            data,
            status=409,
            note="Hồ sơ đã thay đổi từ lúc xem trước; hãy xem lại rồi xác nhận.",
        )
    try:
        written = await setup.apply(plan, who)
    except DomainError as exc:
        return _preview_page(
            request, plan, data, status=409, note=f"Không ghi được: {FormError(exc.code).sentence}"
        )
    return redirect_after_command(request, f"{BASE}?da-gui=import_blocks&so={written}")


# ---- a block's record by year (last: `/{block}` would otherwise take `/nhap`) ----


async def _record_page(
    request: Request,
    block: str,
    *,
    status: int = 200,
    error: FormError | None = None,
    failed: str = "",
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    try:
        state = await block_service(request).state(block)
    except DomainError:
        return render(request, "notfound.html", status=404, title="Không tìm thấy")
    year = year_of(request.query_params.get("nam", "")) or _default_year(state)
    names = {m.unit: m.name for m in state.memberships}
    try:
        head, deputy = state.leaders_in(year)
    except AssertionError:
        head = deputy = ""
    return render(
        request,
        "setup_block.html",
        status=status,
        title="Hồ sơ khối thi đua",
        cycle_title=state.name,
        s=state,
        year=year,
        members=state.members_in(year),
        head=head,
        deputy=deputy,
        names=names,
        leaders=sorted(state.leaders.items()),
        error=error,
        failed=failed,
        typed=typed or {},
        sent=request.query_params.get("da-gui", ""),
    )


def _default_year(state: BlockState) -> int:
    years = [y for m in state.memberships for y in (m.from_year, m.after_year) if y]
    years += list(state.leaders)
    return max(years) if years else datetime.now(VN).year


@router.get(BASE + "/{block}")
async def record(request: Request, block: str) -> HTMLResponse:
    if actor(request).kind not in AUDIT_READERS:
        return forbidden(request)
    return await _record_page(request, block)


_FIELDS = {
    "rename": ("name",),
    "join": ("unit", "name", "from_year"),
    "leave": ("unit", "after_year"),
    "appoint": ("year", "head", "deputy", "reason"),
}


@router.post(BASE + "/{block}")
async def change(request: Request, block: str) -> Response:
    who = actor(request)
    if who.kind != "admin":
        return forbidden(request)
    form = await request.form()
    do = str(form.get("do") or "")
    if do not in _FIELDS:
        return await _record_page(
            request, block, status=422, error=FormError("invalid_request"), failed=""
        )
    typed = {k: " ".join(str(form.get(k) or "").split()) for k in _FIELDS[do]}
    blocks = block_service(request)
    try:
        for k, v in typed.items():
            if not v:
                raise FormError("required", k)
        years = {}
        for k in ("from_year", "after_year", "year"):
            if k in typed:
                y = year_of(typed[k])
                if y is None:
                    raise FormError("invalid_year", k)
                years[k] = y
        if do == "rename":
            await blocks.rename(block, typed["name"], who)
        elif do == "join":
            await _setup(request).join(block, typed["unit"], typed["name"], years["from_year"], who)
        elif do == "leave":
            await blocks.leave(block, typed["unit"], years["after_year"], who)
        else:
            await blocks.appoint_leaders(
                block, years["year"], typed["head"], typed["deputy"], typed["reason"], who
            )
    except FormError as err:
        return await _record_page(request, block, status=422, error=err, failed=do, typed=typed)
    except DomainError as exc:
        field = exc.field if exc.field in _FIELDS[do] else None
        if exc.code == "unknown_block":
            return render(request, "notfound.html", status=404, title="Không tìm thấy")
        return await _record_page(
            request,
            block,
            status=403 if exc.code == "not_authorized" else 409,
            error=FormError(exc.code, field),
            failed=do,
            typed=typed,
        )
    year = years.get("year") or years.get("from_year") or request.query_params.get("nam", "")
    return redirect_after_command(request, f"{BASE}/{block}?nam={year}&da-gui={do}")
