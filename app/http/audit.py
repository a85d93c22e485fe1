"""Auditors: a cycle replayed from the store, verified, every decision recomputed; and the
auditors' pack of app/audit over HTTP (export zip, reconciliation with Temporal, verification
of every stream, verification of an uploaded export). Thin routes: the logic is app/audit's."""

from __future__ import annotations

import asyncio
import tempfile
import time
from functools import partial
from typing import IO, Annotated, Any

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import DomainError
from domain.pending import pending_actions
from domain.recheck import recheck
from domain.views import auditor_state
from workflows.messages import cycle_key

from ..audit import Reconciliation, StreamFailure, compare_with_store, reconcile_if_held, verify_all
from ..audit.export import TooLarge, UnknownStream, export_bytes, unpack_problem
from ..bootstrap import Services
from ..documents.record import cached_minutes_pdf, signer_of
from ..evidence import findings, references
from .deps import Caller, Cycle, Cycles, Svc, auditors_only
from .errors import problem
from .params import MAX_VERSION, AsOf

__all__ = ["BODY_LIMITS", "MAX_EXPORT_BYTES", "reconciliation", "router"]

router = APIRouter(tags=["audit"])
log = structlog.get_logger("thidua.audit")


@router.get("/cycles/{block}/{year}/audit")
async def audit(
    cycle: Cycle,
    who: Caller,
    svc: Svc,
    cycles: Cycles,
    as_of: AsOf = None,
    to_version: Annotated[int | None, Query(ge=1, le=MAX_VERSION)] = None,
) -> Any:
    """Replay from the event store: the state as of a moment or version, the chain's
    verification, and every decision recomputed. Auditors and the secretariat only (the state
    holds every ballot of a closed round; an open round shows who voted, not how)."""
    auditors_only(who, "the auditors' pack and the replay")
    stream = cycle_key(cycle.block, cycle.year, cycles.prefix)[1]
    replay = await svc.store.replay(stream, to_version=to_version, as_of=as_of)
    if replay.report.events == 0:
        raise DomainError("unknown_cycle", f"no events for {cycle.block} {cycle.year}")
    now = replay.state
    if (to_version is not None or as_of is not None) and (
        any(not r.closed for r in now.rounds) or now.election is not None
    ):
        now = (await svc.store.replay(stream)).state  # which rounds are still open
    return {
        "stream": stream,
        "events": replay.report.events,
        "head_hash": replay.report.head_hash.hex(),
        "problems": [str(p) for p in replay.report.problems],
        "findings": [str(f) for f in recheck(replay.events)]
        + await asyncio.to_thread(findings, svc.evidence, references(replay.events)),
        # an open round's ballots stay private, also to auditors (DOMAIN.md)
        "state": auditor_state(replay.state, now),
        "pending": pending_actions(replay.state),
    }


# ---- the auditors' pack (app/audit): export, reconciliation, verification -------------------

MAX_EXPORT_BYTES = 32 * 2**20
"""POST /audit/verify-export takes an export up to this size (the global body limit is 256 KB;
a 5,000-event cycle's export is a few MB). What it unpacks to is bounded by verify.py's limits
(app/audit/verify_script.py: members, their sizes, the total, a line's length)."""
VERIFY_AT_ONCE = 2
"""Uploaded exports one process verifies at the same time (each holds its zip spooled to a
temporary file past 1 MB, and one line at a time of what it unpacks); one more is 429
`verify_busy` with Retry-After, before its body is read. An upload that sends nothing for
`upload_idle_seconds`, or takes longer than `upload_max_seconds`, is 408 `upload_timeout` and
gives its slot back."""
SPOOL_IN_MEMORY = 2**20
BODY_LIMITS = {"/audit/verify-export": MAX_EXPORT_BYTES}
"""Paths with a body limit of their own (app/http/limits.BodyLimit)."""


@router.get(
    "/cycles/{block}/{year}/export.zip",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
async def export_zip(cycle: Cycle, who: Caller, svc: Svc, cycles: Cycles) -> Response:
    """The auditors' export of a cycle (as `thidua audit export`): events.jsonl, hashes.txt,
    manifest.json, verify.py and the minutes PDF (signed when a key is configured; left out
    when the stream fails verification — the manifest then says so). 404 for an unknown cycle,
    503 when the signing key cannot be opened."""
    auditors_only(who, "the auditors' pack and the replay")
    stream = cycle_key(cycle.block, cycle.year, cycles.prefix)[1]
    signer = signer_of(svc.settings)  # SigningKeyError → 503 (app/http/errors.py)
    try:
        data, _ = await export_bytes(
            svc.store,
            stream,
            minutes_pdf=partial(cached_minutes_pdf, sign=signer),
            witness=await asyncio.to_thread(witness_of, svc),
            evidence=svc.evidence,
        )
    except UnknownStream:
        raise DomainError("unknown_cycle", f"no events for {cycle.block} {cycle.year}") from None
    name = f"thidua-{cycle.block}-{cycle.year}.zip"
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def witness_of(svc: Services) -> Any:
    """The witness (app/witness) whose checkpoint an export carries; None when there is none
    here or it cannot be checked (the manifest's `checkpoint` is then null)."""
    from ..witness import WitnessError
    from ..witness.check import load_checked

    try:
        return load_checked(svc.settings)
    except (WitnessError, OSError) as exc:
        log.warning("export.no_witness", error=str(exc))
        return None


async def reconciliation(svc: Services, prefix: str, block: str, year: int) -> Reconciliation:
    """The cycle's Temporal history against its stream (app.audit.reconcile). Rule codes:
    `unknown_cycle` (no events), `temporal_unavailable` (no client, or it cannot be reached),
    `unknown_workflow` (the store has the cycle, Temporal no longer has its history)."""
    workflow_id, stream = cycle_key(block, year, prefix)
    if await svc.store.head(stream) == 0:
        raise DomainError("unknown_cycle", f"no events for {block} {year}")
    if svc.temporal is None:
        raise DomainError(
            "temporal_unavailable",
            "this service runs without a Temporal client: no history to compare",
        )
    try:
        r = await reconcile_if_held(svc.temporal, svc.store, workflow_id, stream)
    except RPCError as exc:
        if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            raise DomainError(
                "temporal_unavailable", "Temporal cannot be reached; try again later"
            ) from None
        raise
    if not r.history:
        raise DomainError(
            "unknown_workflow",
            f"Temporal holds no history of {workflow_id} "
            "(past its retention, or started elsewhere)",
        )
    return r


@router.get("/cycles/{block}/{year}/reconcile")
async def reconcile_cycle(cycle: Cycle, who: Caller, svc: Svc, cycles: Cycles) -> Any:
    """The cycle's Temporal history (every run, accepted updates, appends, deadlines) against
    its event stream, as `thidua audit reconcile`: `differences` lists what disagrees."""
    auditors_only(who, "the auditors' pack and the replay")
    r = await reconciliation(svc, cycles.prefix, cycle.block, cycle.year)
    return {
        "workflow_id": r.workflow_id,
        "stream": r.stream,
        "runs": list(r.runs),
        "updates": r.updates,
        "workflow_version": r.workflow_version,
        "store_version": r.store_version,
        "ok": r.ok,
        "differences": list(r.differences),
    }


@router.get("/audit/verify")
async def verify_streams(
    who: Caller,
    svc: Svc,
    year: Annotated[int | None, Query(ge=1945, le=2200)] = None,
    parse: Annotated[bool, Query(description="also parse every event (slower)")] = False,
) -> Any:
    """Verify the chain of every stream (or one year's) and the store against the witness's
    latest signed checkpoint, as `thidua audit verify --all` (without Temporal's histories: see
    `…/reconcile`): the failing streams with their first problem; `witness` says what was
    checked against (null when there is no witness here or it cannot be checked) and what
    the witness itself says is wrong."""
    auditors_only(who, "the auditors' pack and the replay")
    total = 0

    def progress(done: int, n: int, stream: str) -> None:
        nonlocal total
        total = n

    witness = await asyncio.to_thread(witness_of, svc)
    witnessed = witness.log.by_stream(witness.latest.size) if witness is not None else None
    failures = await verify_all(
        svc.store, year, progress, parse=parse, witnessed=witnessed, evidence=svc.evidence
    )
    findings = list(witness.findings) if witness is not None else []
    return {
        "streams": total,
        "ok": not failures and not findings,
        "failures": [{"stream": f.stream, "problem": _first_problem(f)} for f in failures],
        "witness": (
            {
                "checkpoint_events": witness.latest.size,
                "public_key": witness.public_text,
                "findings": findings,
            }
            if witness is not None
            else None
        ),
    }


def _first_problem(f: StreamFailure) -> str:
    if f.witness and f.report.ok:
        return f.witness[0]
    if f.evidence and f.report.ok:
        return f.evidence[0]
    p = f.report.first
    if p is None:
        return "the read model lists it, the store holds no event of it"
    return f"{p.kind} at version {p.version}: {p.detail}"


class UploadTimeout(Exception):
    """The upload stalled or took too long (408 `upload_timeout`)."""


async def _spool(request: Request, out: IO[bytes], idle: float, whole: float) -> None:
    """The request body into `out`, chunk by chunk: UploadTimeout when no chunk comes for
    `idle` seconds or the body is not in after `whole` seconds."""
    chunks = request.stream().__aiter__()
    deadline = time.monotonic() + whole
    size = 0
    while True:
        wait = min(idle, deadline - time.monotonic())
        try:
            async with asyncio.timeout(max(wait, 0)):
                chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise UploadTimeout(
                f"the upload sent nothing for {idle:g} s"
                if wait == idle
                else f"the upload took longer than {whole:g} s"
            ) from None
        size += len(chunk)
        if size > MAX_EXPORT_BYTES:  # more than its Content-Length said (BodyLimit)
            raise TooLarge(
                "body_too_large",
                f"the request body is larger than {MAX_EXPORT_BYTES // 2**20} MB",
                None,
                MAX_EXPORT_BYTES,
            )
        out.write(chunk)


_BOUND_STATUS = {"line_too_long": 422, "unsupported_compression": 422}
"""TooLarge codes answered 422; the others (the sizes) are 413."""


@router.post(
    "/audit/verify-export",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
    responses={
        408: {
            "description": "`upload_timeout`: the upload stalled (nothing sent for "
            "UPLOAD_IDLE_SECONDS) or took longer than UPLOAD_MAX_SECONDS",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        },
        429: {
            "description": "`verify_busy`: other exports are being verified; send it "
            "again after Retry-After seconds"
        },
    },
)
async def verify_uploaded_export(request: Request, who: Caller, svc: Svc) -> Any:
    """Verify an export an auditor holds: the raw zip as the body (`Content-Type:
    application/zip` or `application/octet-stream`, at most 32 MB, with a Content-Length). The
    checks of its verify.py, then against the store now (a deleted tail, a rewritten past).
    Writes nothing. 422 `invalid_export` (field `body`) for a body that is not an export's zip;
    413 (`member_too_large`, `export_too_large`, `too_many_members`) or 422 (`line_too_long`,
    `unsupported_compression`) past the bounds, naming the member; 408 `upload_timeout` for
    an upload that stalls."""
    auditors_only(who, "the auditors' pack and the replay")
    if request.headers.get("content-type", "").startswith("multipart/"):
        raise DomainError(
            "invalid_export",
            "send the zip itself as the body (Content-Type: application/zip), not as a form",
            "body",
        )
    state = request.app.state
    busy = getattr(state, "verifying_exports", 0)
    if busy >= VERIFY_AT_ONCE:
        seconds = 5
        return problem(
            429,
            "verify_busy",
            f"{busy} exports are being verified; send this one again in {seconds} s",
            headers={"Retry-After": str(seconds)},
            retry_after_seconds=seconds,
        )
    state.verifying_exports = busy + 1
    settings = svc.settings
    try:
        with tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY) as body:
            await _spool(request, body, settings.upload_idle_seconds, settings.upload_max_seconds)
            bad = await asyncio.to_thread(unpack_problem, body)
            if bad is not None:
                raise DomainError(
                    "invalid_export", f"the body is not an audit export: {bad}", "body"
                )
            check = await compare_with_store(svc.store, body)
    except UploadTimeout as exc:
        log.info("verify_export.upload_timeout", reason=str(exc))
        return problem(
            408,
            "upload_timeout",
            f"{exc}; the upload was dropped",
            "body",
            headers={"Connection": "close"},
        )
    except TooLarge as exc:
        return problem(
            _BOUND_STATUS.get(exc.code, 413),
            exc.code,
            f"the export is refused: {exc}",
            "body",
            member=exc.member,
            limit=exc.limit,
        )
    finally:
        state.verifying_exports -= 1
    m = check.manifest
    return {
        "ok": check.ok,
        "stream": m.get("stream"),
        "count": m.get("count"),
        "last_hash": m.get("last_hash"),
        "problems": list(check.problems),
    }
