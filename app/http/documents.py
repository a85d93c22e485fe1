"""Auditors' documents: the minutes (biên bản) of a cycle, made from its stored events."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import Response

from workflows.messages import cycle_key

from ..documents.record import signer_of, stored_minutes
from .audit import witness_of
from .deps import Caller, Cycle, Cycles, Svc, auditors_only

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
    pdf = await stored_minutes(svc.store, stream, signer=signer,
                               witness=await asyncio.to_thread(witness_of, svc))
    name = f"bien-ban-{cycle.block}-{cycle.year}.pdf"
    return Response(
        pdf, media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@router.get("/cycles/{block}/{year}/minutes.html", response_class=Response,
            responses={200: {"content": {"text/html": {}}}})
async def minutes_html(cycle: Cycle, who: Caller, svc: Svc, cycles: Cycles) -> Response:
    """The same minutes as one HTML page (Vietnamese, printable)."""
    auditors_only(who, "the minutes")
    stream = cycle_key(cycle.block, cycle.year, cycles.prefix)[1]
    html = await stored_minutes(svc.store, stream, html=True,
                                witness=await asyncio.to_thread(witness_of, svc))
    return Response(html, media_type="text/html; charset=utf-8")


