"""The minutes of a stored cycle: read the stream back, check its chain, render (and sign).

What the CLI (`thidua audit minutes`) and the HTTP API (`GET …/minutes.pdf`) call; rendering
runs in a worker thread, so an API process keeps answering while a PDF is laid out.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from domain.errors import DomainError
from domain.events import Event
from eventstore import EventStore

from ..settings import Settings
from .minutes import Checkpoint, minutes_html, minutes_pdf
from .signing import Signer

__all__ = [
    "cached_minutes_pdf",
    "holding",
    "signer_of",
    "stored_document",
    "stored_minutes",
    "stored_workbook",
    "verified_events",
]

# The minutes of a record at a given head never change: keep the last few PDFs, so an auditor's
# repeated request is not laid out again (a layout takes seconds).
_CACHE: OrderedDict[tuple[str, bytes, bytes | None, Checkpoint | None], bytes] = OrderedDict()
_CACHE_SIZE = 16
_LOCK = threading.Lock()  # the PDF is made in worker threads


def cached_minutes_pdf(
    events: Sequence[Event],
    *,
    stream: str,
    head_version: int,
    head_hash: bytes,
    sign: Signer | None = None,
    checkpoint: Checkpoint | None = None,
) -> bytes:
    """app.documents.minutes.minutes_pdf through the cache of the last few PDFs (blocking: call
    it in a worker thread). The same record and signer give the same file."""
    key = (stream, head_hash, sign.fingerprint if sign is not None else None, checkpoint)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    pdf = minutes_pdf(
        events,
        stream=stream,
        head_version=head_version,
        head_hash=head_hash,
        sign=sign,
        checkpoint=checkpoint,
    )
    with _LOCK:
        _CACHE[key] = pdf
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return pdf


def holding(witness: Any, stream: str, head_version: int, head_hash: bytes) -> Checkpoint | None:
    """(size, root) of the witness's latest checkpoint when it holds the record's head event
    (app.witness.check.Checked), else None."""
    if witness is None or witness.findings:
        return None
    held = witness.log.by_stream(witness.latest.size).get(stream, [])
    if held and held[-1].version == head_version and held[-1].hash == bytes(head_hash):
        return witness.latest.size, witness.latest.root
    return None


def signer_of(settings: Settings) -> Signer | None:
    """The agency's signer when THIDUA_SIGN_P12 is set (SigningKeyError when it cannot be
    opened), else None: the minutes are then left unsigned."""
    if settings.sign_p12 is None:
        return None
    password = settings.sign_p12_password
    return Signer.from_p12(
        settings.sign_p12, password.get_secret_value() if password is not None else None
    )


async def stored_minutes(
    store: EventStore,
    stream: str,
    *,
    html: bool = False,
    signer: Signer | None = None,
    witness: Any = None,
) -> bytes:
    """The minutes of `stream` as a PDF (signed when `signer` is given), or as UTF-8 HTML; with
    `witness` (app.witness.check.Checked) whose latest checkpoint holds the head, the record
    they name carries that checkpoint.

    A stream with no events is `unknown_stream`; one that fails verification is
    `record_not_verified`: minutes are made only of a record whose chain holds."""
    events, head_version, head_hash = await verified_events(store, stream)
    kw = {
        "stream": stream,
        "head_version": head_version,
        "head_hash": head_hash,
        "checkpoint": holding(witness, stream, head_version, head_hash),
    }
    if html:
        return minutes_html(events, **kw).encode("utf-8")  # type: ignore[arg-type]
    return await asyncio.to_thread(cached_minutes_pdf, events, **kw, sign=signer)  # type: ignore[arg-type]


async def verified_events(store: EventStore, stream: str) -> tuple[list[Event], int, bytes]:
    """(events, head version, head hash) of `stream` once its chain verifies: `unknown_stream`
    when it has no events, `record_not_verified` when it fails verification."""
    replay = await store.replay(stream)
    report = replay.report
    if report.events == 0:
        raise DomainError("unknown_stream", f"no events in stream {stream}")
    if not report.ok:
        raise DomainError(
            "record_not_verified",
            f"stream {stream} fails verification ({report.first}); run `thidua audit verify`",
        )
    return list(replay.events), report.head_version, report.head_hash


async def stored_document(store: EventStore, stream: str, kind: str, fmt: str) -> bytes:
    """The block's document `kind` (report, proposal, news; app/documents/block_docs.py) of
    `stream` as `fmt` (docx or pdf), drafted from its verified events; laid out in a worker
    thread."""
    from .block_docs import build_document
    from .render import document_bytes

    events, version, head = await verified_events(store, stream)
    doc = build_document(kind, events, stream=stream, head_version=version, head_hash=head)
    return await asyncio.to_thread(document_bytes, doc, fmt)


async def stored_workbook(store: EventStore, stream: str) -> bytes:
    """The cycle's workbook (.xlsx, app/documents/workbook.py) from its verified events."""
    from .workbook import cycle_workbook

    events, version, head = await verified_events(store, stream)
    return await asyncio.to_thread(
        cycle_workbook, events, stream=stream, head_version=version, head_hash=head
    )
