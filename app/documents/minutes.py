"""The auditors' minutes (biên bản) of one cycle, from its events alone: HTML and PDF/A-3b.

    minutes_html(events, stream=…, head_version=…, head_hash=…)  -> str
    minutes_pdf(events, stream=…, head_version=…, head_hash=…, sign=None) -> bytes

`events` are the cycle's domain events in stream order (as `EventStore.replay(stream).events`
gives them); `stream`, `head_version` and `head_hash` name the record the minutes were made
from. Every page's footer carries them, in words and as a QR code (`record_uri`), so a paper
copy can be matched to the record. The PDF is PDF/A-3b, its fonts embedded, with the events
attached as `events.jsonl`: one line per event, the exact canonical JSON its hash covers
(eventstore.chain), so anyone can recompute the chain up to the footer's hash from the PDF
alone. With `sign`, the PDF is signed (PAdES) by the agency's key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from functools import cache
from importlib import resources
from pathlib import Path

import segno
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from domain.codec import to_record
from domain.events import Event
from eventstore.chain import record_body

from .model import Minutes, build_minutes
from .signing import Signer

__all__ = [
    "ATTACHMENT_NAME",
    "events_jsonl",
    "minutes_css",
    "minutes_html",
    "minutes_pdf",
    "record_uri",
]

ATTACHMENT_NAME = "events.jsonl"


@cache
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("app.documents", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def minutes_css() -> str:
    """The minutes' stylesheet, inlined in their HTML (the pages' CSP allows its hash)."""
    return resources.files("app.documents").joinpath("templates/minutes.css").read_text("utf-8")


def _fonts_dir() -> Path:
    # The package is installed as files (editable or wheel), so the directory is a real path.
    return Path(str(resources.files("app.documents").joinpath("fonts")))


Checkpoint = tuple[int, bytes]
"""(tree size, root) of the witness's signed checkpoint that holds the record's head."""


def record_uri(
    stream: str, head_version: int, head_hash: bytes, checkpoint: Checkpoint | None = None
) -> str:
    """What the footer's QR code carries: `thidua:STREAM@VERSION#HASH` (hash in hex), and,
    when a signed checkpoint of the witness holds the head, `;cp=SIZE:ROOT` (its tree size and
    root in hex: `thidua audit checkpoint verify --record` checks it against the witness)."""
    cp = f";cp={checkpoint[0]}:{checkpoint[1].hex()}" if checkpoint is not None else ""
    return f"thidua:{stream}@{head_version}#{head_hash.hex()}{cp}"


def _qr_svg(data: str) -> Markup:
    qr = segno.make(data, error="m")
    # omitsize: a viewBox instead of a fixed size, so CSS sets the printed size.
    svg = qr.svg_inline(scale=1, border=2, omitsize=True)
    return Markup(svg)  # segno writes only path data, never our text


def _render(minutes: Minutes, *, created: str | None, checkpoint: Checkpoint | None = None) -> str:
    template = _env().get_template("minutes.html.j2")
    record = record_uri(
        minutes.stream, minutes.head_version, bytes.fromhex(minutes.head_hash), checkpoint
    )
    return template.render(
        m=minutes, css=Markup(minutes_css()), qr_svg=_qr_svg(record), record=record, created=created
    )


def _created(events: Sequence[Event]) -> str | None:
    # The document's date is the record's last event, so the same record gives the same PDF.
    if not events:
        return None
    return events[-1].at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def minutes_html(
    events: Sequence[Event],
    *,
    stream: str,
    head_version: int,
    head_hash: bytes,
    checkpoint: Checkpoint | None = None,
) -> str:
    """The three minutes (review conference, vote count, election) as one HTML document."""
    minutes = build_minutes(events, stream=stream, head_version=head_version, head_hash=head_hash)
    return _render(minutes, created=_created(events), checkpoint=checkpoint)


def events_jsonl(events: Sequence[Event], *, stream: str, first_version: int = 1) -> bytes:
    """The events as canonical JSON lines, each exactly what its chain hash covers."""
    lines = []
    for version, event in enumerate(events, start=first_version):
        lines.append(record_body(stream, version, to_record(event)))
    return b"".join(line + b"\n" for line in lines)


def minutes_pdf(
    events: Sequence[Event],
    *,
    stream: str,
    head_version: int,
    head_hash: bytes,
    sign: Signer | None = None,
    checkpoint: Checkpoint | None = None,
) -> bytes:
    """The minutes as a PDF/A-3b with `events.jsonl` attached; signed when `sign` is given;
    `checkpoint` goes into the record its footer and QR code name."""
    # WeasyPrint loads pango and its fonts on import: only the PDF path pays for it.
    from weasyprint import CSS, HTML, Attachment

    html = minutes_html(
        events, stream=stream, head_version=head_version, head_hash=head_hash, checkpoint=checkpoint
    )
    fonts = _fonts_dir()
    first = head_version - len(events) + 1
    last = events[-1].at if events else None
    attachment = Attachment(
        string=events_jsonl(events, stream=stream, first_version=first),
        name=ATTACHMENT_NAME,
        description=f"Các sự kiện của luồng {stream}, phiên bản {first}–{head_version}",
        relationship="Source",
        created=last,
        modified=last,
    )
    pdf = HTML(string=html, base_url=str(fonts)).write_pdf(
        stylesheets=[CSS(filename=str(fonts / "fonts.css"))],
        pdf_variant="pdf/a-3b",
        attachments=[attachment],
        pdf_identifier=head_hash[:16] or None,
        custom_metadata=True,
    )
    assert pdf is not None
    return sign.sign(pdf) if sign is not None else pdf
