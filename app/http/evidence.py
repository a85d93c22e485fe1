"""Evidence files of self-scores (app/evidence.py) over HTTP.

    POST /cycles/{block}/{year}/evidence?name=FILE   the file as the raw body (a unit of the
         cycle): checked by its content, stored by its SHA-256; answers what a self-score's
         `evidence` lists for it ({sha256, name, size, type}). Writes no event.
    GET  /cycles/{block}/{year}/evidence/{sha256}     the file, to those who may open it:
         auditors and the secretariat, the head, the deputy for the head unit's files, and the
         unit that attached it; another caller 403, a file no self-score of the cycle attaches
         404.

A self-score names its files by hash (`evidence: {section: [{sha256, name, size, type}]}`);
`app.evidence.check_attached` makes sure each is stored with that size and type before the command is sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from domain.errors import AuthorizationError, DomainError
from domain.evidence import EVIDENCE_MAX_BYTES
from workflows.messages import cycle_key

from ..evidence import EvidenceRefused, accept, may_open, references
from .deps import Caller, Cycle, Cycles, Svc

__all__ = ["BODY_PATTERNS", "STATUS", "router"]

router = APIRouter(tags=["evidence"])

UPLOAD_PATH = re.compile(r"^/cycles/[^/]+/[^/]+/evidence$")
FORM_PATH = re.compile(r"^/ky/[^/]+/[^/]+/tu-cham-diem$")
FORM_MAX_BYTES = 60 * 2**20
"""The self-score form with its files (each at most EVIDENCE_MAX_BYTES)."""
BODY_PATTERNS = ((UPLOAD_PATH, EVIDENCE_MAX_BYTES + 64 * 1024), (FORM_PATH, FORM_MAX_BYTES))
"""Paths with a body limit of their own (app/http/limits.BodyLimit)."""

STATUS = {
    "evidence_too_large": 413,
    "evidence_empty": 422,
    "evidence_type_not_allowed": 415,
    "evidence_damaged": 422,
    "invalid_file_name": 422,
    "evidence_not_uploaded": 422,
    "evidence_mismatch": 422,
    "unknown_evidence": 404,
}
_SHA = re.compile(r"^[0-9a-f]{64}$")


def refused(exc: EvidenceRefused, field: str) -> DomainError:
    return DomainError(exc.code, exc.message, field)


async def _member(svc: Any, block: str, year: int, who: Any) -> None:
    from readmodels.pending import snapshot

    from ..lookups import cycle_state

    s = await snapshot(svc.pool, cycle_key(block, year, svc.cycles.prefix)[1])
    if s is None or s.block is None:
        s = await cycle_state(svc.cycles, block, year)  # the read model a moment behind
    if s.block is None:
        raise DomainError("unknown_cycle", f"no cycle {block} {year}")
    if who.kind != "unit" or who.unit not in s.members:
        raise AuthorizationError("evidence is uploaded by the units of the cycle")


@router.post(
    "/cycles/{block}/{year}/evidence",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload(
    request: Request,
    cycle: Cycle,
    who: Caller,
    svc: Svc,
    name: Annotated[
        str,
        Query(min_length=1, max_length=255, description="the file's name, as the unit calls it"),
    ],
) -> dict[str, Any]:
    """A unit of the cycle stores one evidence file (the raw body, at most 10 MB: PDF, JPEG,
    PNG, Word, Excel or OpenDocument, found by the content, not the name). The answer is the
    entry to list under the self-score's `evidence.SECTION`. The same bytes again change
    nothing."""
    await _member(svc, cycle.block, cycle.year, who)
    data = await request.body()
    try:
        found = accept(data, name)
    except EvidenceRefused as exc:
        raise refused(exc, "name" if exc.code == "invalid_file_name" else "body") from None
    await asyncio.to_thread(svc.evidence.put, data)
    return found.model_dump(mode="json")


@router.get(
    "/cycles/{block}/{year}/evidence/{sha256}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download(cycle: Cycle, sha256: str, who: Caller, svc: Svc, cycles: Cycles) -> Response:
    """An evidence file of the cycle, to who may open it (auditors, the secretariat, the
    head, the deputy for the head unit's files, the unit that attached it)."""
    if not _SHA.match(sha256):
        raise DomainError("unknown_evidence", "no such evidence file", "sha256")
    stream = cycle_key(cycle.block, cycle.year, cycles.prefix)[1]
    replay = await svc.store.replay(stream)
    if replay.report.events == 0 or replay.state.block is None:
        raise DomainError("unknown_cycle", f"no cycle {cycle.block} {cycle.year}")
    refs = [r for r in references(replay.events) if r.file.sha256 == sha256]
    if not refs:
        raise DomainError(
            "unknown_evidence", "no self-score of this cycle attaches this file", "sha256"
        )
    block = replay.state.block
    if not may_open(who, {r.unit for r in refs}, block.head, block.deputy):
        raise AuthorizationError(
            "evidence is opened by auditors, the secretariat, the head "
            "and the unit that attached it"
        )
    data = await asyncio.to_thread(svc.evidence.get, sha256)
    f = refs[-1].file
    if data is None:
        raise DomainError("evidence_missing", "the file is not in the evidence store", "sha256")
    if hashlib.sha256(data).hexdigest() != sha256:
        raise DomainError("evidence_altered", "the stored file is not the one attached", "sha256")
    inline = f.type in ("application/pdf", "image/jpeg", "image/png")
    disposition = (
        "inline" if inline else "attachment"
    ) + f"; filename*=UTF-8''{quote(f.name, safe='')}"
    return Response(data, media_type=f.type, headers={"Content-Disposition": disposition})
