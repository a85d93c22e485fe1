"""Documents made from a cycle's stored events: the auditors' minutes (biên bản); the block's
own documents (summary report, proposal to the council, news item) as .docx or PDF for the chair
and the secretariat; the cycle's Excel workbook."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import Response

from domain.errors import AuthorizationError, DomainError
from domain.fold import fold_into
from domain.state import CycleState
from domain.values import Actor
from workflows.messages import cycle_key

from ..documents.record import signer_of, stored_minutes, verified_events
from .audit import witness_of
from .deps import AUDIT_READERS, Caller, Cycle, Cycles, Svc, auditors_only

__all__ = ["router"]

router = APIRouter(tags=["audit"])


@router.get(
    "/cycles/{block}/{year}/minutes.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def minutes_pdf(cycle: Cycle, who: Caller, svc: Svc, cycles: Cycles) -> Response:
    """The minutes as PDF/A-3b with the events attached (`events.jsonl`), signed with the
    agency's key when one is configured. 404 for an unknown cycle, 409 `record_not_verified`
    when the stream fails verification, 503 when the signing key cannot be opened."""
    auditors_only(who, "the minutes")
    stream = cycle_key(cycle.block, cycle.year, cycles.prefix)[1]
    signer = signer_of(svc.settings)  # SigningKeyError → 503 (app/http/errors.py)
    pdf = await stored_minutes(
        svc.store, stream, signer=signer, witness=await asyncio.to_thread(witness_of, svc)
    )
    name = f"bien-ban-{cycle.block}-{cycle.year}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@router.get(
    "/cycles/{block}/{year}/minutes.html",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}}},
)
async def minutes_html(cycle: Cycle, who: Caller, svc: Svc, cycles: Cycles) -> Response:
    """The same minutes as one HTML page (Vietnamese, printable)."""
    auditors_only(who, "the minutes")
    stream = cycle_key(cycle.block, cycle.year, cycles.prefix)[1]
    html = await stored_minutes(
        svc.store, stream, html=True, witness=await asyncio.to_thread(witness_of, svc)
    )
    return Response(html, media_type="text/html; charset=utf-8")


def _may_draft(who: Actor, s: CycleState) -> None:
    """The block's documents are for its chair (this year's head or deputy unit), the
    secretariat and auditors."""
    if who.kind in AUDIT_READERS:
        return
    if s.block is not None and who.kind == "unit" and who.unit in (s.block.head, s.block.deputy):
        return
    raise AuthorizationError("the block's documents are for its chair and the secretariat")


_DOC_KINDS = ("report", "proposal", "news")


@router.get(
    "/cycles/{block}/{year}/documents/{kind}.{fmt}",
    response_class=Response,
    responses={
        200: {
            "content": {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {},
                "application/pdf": {},
            }
        }
    },
)
async def block_document(
    cycle: Cycle, kind: str, fmt: str, who: Caller, svc: Svc, cycles: Cycles
) -> Response:
    """The block's document `kind` (report: báo cáo tổng kết; proposal: tờ trình; news: tin bài)
    as `fmt` (docx or pdf), drafted from the cycle's verified events. For the block's head and
    deputy units, the secretariat and auditors; 404 for an unknown cycle or document, 409
    `record_not_verified` when the stream fails verification."""
    from ..documents.block_docs import KINDS, build_document
    from ..documents.render import FORMATS, document_bytes

    if kind not in _DOC_KINDS or fmt not in FORMATS:
        raise DomainError(
            "unknown_stream", "no such document: report, proposal or news, as .docx or .pdf"
        )
    stream = cycle_key(cycle.block, cycle.year, cycles.prefix)[1]
    events, version, head = await verified_events(svc.store, stream)
    state = CycleState()
    fold_into(state, events)
    _may_draft(who, state)
    doc = build_document(kind, events, stream=stream, head_version=version, head_hash=head)
    body = await asyncio.to_thread(document_bytes, doc, fmt)
    name = f"{KINDS[kind]}-{cycle.block}-{cycle.year}.{fmt}"
    return Response(
        body,
        media_type=FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/cycles/{block}/{year}/export.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
async def cycle_xlsx(cycle: Cycle, who: Caller, svc: Svc, cycles: Cycles) -> Response:
    """The cycle's ranking, scores by section, exclusions, votes and election as an Excel
    workbook (what the result page shows, with the tallies), for anyone who may see the
    result page."""
    from ..documents.record import stored_workbook

    stream = cycle_key(cycle.block, cycle.year, cycles.prefix)[1]
    body = await stored_workbook(svc.store, stream)
    name = f"ket-qua-{cycle.block}-{cycle.year}.xlsx"
    return Response(
        body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
