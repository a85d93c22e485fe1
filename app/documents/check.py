"""Checking a minutes PDF against itself, with nothing but the file: the record it names (its
keywords, as in the footer's QR code) and the events attached to it must agree.

    check_minutes(pdf) -> MinutesCheck     problems empty = the events rebuild the named head
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from io import BytesIO

from pyhanko.pdf_utils.reader import PdfFileReader

from app.witness.note import RECORD
from eventstore.chain import GENESIS

from .minutes import ATTACHMENT_NAME

__all__ = ["MinutesCheck", "check_minutes"]

_RECORD = RECORD  # thidua:STREAM@VERSION#HASH[;cp=SIZE:ROOT] (app.witness.note)


@dataclass
class MinutesCheck:
    stream: str | None = None
    head_version: int | None = None
    head_hash: str | None = None
    checkpoint: tuple[int, str] | None = None
    """(tree size, root hex) of the witness's checkpoint the record names, if any."""
    events: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _attachment(reader: PdfFileReader) -> bytes | None:
    try:
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    except KeyError:
        return None
    for i in range(0, len(names), 2):
        if str(names[i]) == ATTACHMENT_NAME:
            data: bytes = names[i + 1].get_object()["/EF"]["/F"].get_object().data
            return data
    return None


def check_minutes(pdf: bytes) -> MinutesCheck:
    """Read the record named in the PDF's keywords and recompute the hash chain over the
    attached `events.jsonl`: every line is one event's hashed body (eventstore.chain)."""
    result = MinutesCheck()
    try:
        reader = PdfFileReader(BytesIO(pdf))
        info = reader.trailer["/Info"]
        keywords = str(info.get("/Keywords", ""))
    except Exception as exc:  # any unreadable file is one finding, not a crash
        result.problems.append(f"not a readable PDF: {exc}")
        return result
    named = _RECORD.match(keywords.strip())
    if named is None:
        result.problems.append("the PDF names no record (keywords thidua:STREAM@VERSION#HASH)")
        return result
    result.stream, result.head_hash = named["stream"], named["hash"]
    result.head_version = int(named["version"])
    if named["cp_size"]:
        result.checkpoint = (int(named["cp_size"]), named["cp_root"])
    data = _attachment(reader)
    if data is None:
        result.problems.append(f"no {ATTACHMENT_NAME} attached")
        return result
    head = GENESIS
    lines = data.splitlines()
    for n, line in enumerate(lines, start=1):
        try:
            body = json.loads(line)
        except ValueError:
            result.problems.append(f"line {n} of {ATTACHMENT_NAME} is not JSON")
            return result
        if body.get("stream") != result.stream:
            result.problems.append(f"line {n} belongs to stream {body.get('stream')!r}")
        head = hashlib.sha256(head + line).digest()
    result.events = len(lines)
    last = json.loads(lines[-1]).get("version") if lines else 0
    if last != result.head_version:
        result.problems.append(f"the events end at version {last}, not {result.head_version}")
    if head.hex() != result.head_hash:
        result.problems.append("the attached events do not rebuild the head hash the PDF names")
    return result
