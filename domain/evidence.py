"""Evidence (minh chứng) of a self-score: the files a unit attaches to a section of its score.

An event records each file by its SHA-256, its name, its size and its media type, never its
bytes (they live in the evidence store, app/evidence.py). The media type is the one found in
the content when the file was accepted, never the one its name suggests. Pure: the limits and
the shape only; the content is checked where the bytes arrive (app/evidence.py).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from .values import LIST_MAX, Slug

__all__ = [
    "EVIDENCE_MAX_BYTES",
    "EVIDENCE_PER_SCORE",
    "EVIDENCE_PER_SECTION",
    "EVIDENCE_TYPES",
    "FILE_NAME_MAX",
    "Evidence",
    "EvidenceFile",
    "check_count",
    "file_name",
    "files_of",
]

EVIDENCE_MAX_BYTES = 10 * 2**20
"""One file at most 10 MB (a scanned decision of a few pages is 1–3 MB)."""
EVIDENCE_PER_SECTION = 5
EVIDENCE_PER_SCORE = 20
FILE_NAME_MAX = 255

EVIDENCE_TYPES: dict[str, str] = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "application/msword": "Word (.doc)",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word (.docx)",
    "application/vnd.ms-excel": "Excel (.xls)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel (.xlsx)",
    "application/vnd.oasis.opendocument.text": "OpenDocument (.odt)",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument (.ods)",
}
"""The media types accepted, as found in the content (app/evidence.py sniffs them)."""


def file_name(value: str) -> str:
    """A file's name as given by the browser or the caller: its last path part, NFC, 1–255
    characters, no control character."""
    name = unicodedata.normalize("NFC", value.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if not name or name in (".", ".."):
        raise ValueError("invalid_file_name: a file needs a name")
    if len(name) > FILE_NAME_MAX:
        raise ValueError(f"invalid_file_name: a file name has at most {FILE_NAME_MAX} characters")
    if any(not ch.isprintable() for ch in name):
        raise ValueError("invalid_file_name: a file name may not contain control characters")
    return name


def _media_type(value: str) -> str:
    if value not in EVIDENCE_TYPES:
        raise ValueError(
            "evidence_type_not_allowed: PDF, JPEG, PNG, Word, Excel or OpenDocument only"
        )
    return value


class EvidenceFile(BaseModel):
    """One stored file: what the event records of it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    name: Annotated[str, AfterValidator(file_name)]
    size: Annotated[int, Field(strict=True, ge=1, le=EVIDENCE_MAX_BYTES)]
    type: Annotated[str, AfterValidator(_media_type)]


Evidence = Annotated[
    dict[Slug, Annotated[tuple[EvidenceFile, ...], Field(max_length=EVIDENCE_PER_SECTION)]],
    Field(max_length=LIST_MAX),
]
"""`{section id: files}` of one self-score."""


def check_count(evidence: dict[str, Any]) -> None:
    n = sum(len(files) for files in evidence.values())
    if n > EVIDENCE_PER_SCORE:
        raise ValueError(
            f"too_many_evidence: at most {EVIDENCE_PER_SCORE} files in one self-score, got {n}"
        )


def files_of(evidence: dict[str, tuple[EvidenceFile, ...]]) -> list[tuple[str, EvidenceFile]]:
    """(section, file) of every file, in the order given."""
    return [(sid, f) for sid, files in evidence.items() for f in files]
