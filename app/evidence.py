"""Evidence files (minh chứng): checked by their content, stored by their SHA-256.

- `accept(data, name)`: the file's media type found in its bytes (the `filetype` library),
  one of domain.evidence.EVIDENCE_TYPES, within the size limit; an office document (a zip) must
  hold the parts of its kind (OOXML: `[Content_Types].xml` and the main part; OpenDocument:
  its `mimetype` member). Refused with an EvidenceRefused naming the rule; nothing is stored.
- `EvidenceStore`: the interface (put / get / has); `FileEvidenceStore` keeps each file at
  `DIR/ab/cdef…` (its hex SHA-256 split after two characters), written to a temporary file in
  the same folder and renamed into place, so a file is there whole or not at all, and storing
  the same bytes again changes nothing. An object store (S3 with object lock, MinIO) is another
  implementation of the same three methods.
- `references(events)`, `findings(store, events)`, `may_open(...)`: what a cycle's events
  attach, what of it the store lacks or holds altered, who may open a file.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import filetype

from domain import commands as c
from domain import events as ev
from domain.errors import DomainError
from domain.evidence import EVIDENCE_MAX_BYTES, EVIDENCE_TYPES, EvidenceFile, file_name
from domain.values import Actor

__all__ = [
    "EvidenceRefused",
    "EvidenceStore",
    "FileEvidenceStore",
    "Reference",
    "accept",
    "check_attached",
    "findings",
    "may_open",
    "references",
]

_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "word/document.xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xl/workbook.xml",
}
_ODF = {
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
}
_ZIP_MEMBERS_MAX = 10_000


class EvidenceRefused(ValueError):
    """A file that is not taken: `code` the rule (evidence_empty, evidence_too_large,
    evidence_type_not_allowed, evidence_damaged, invalid_file_name), `message` in English."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def _office_ok(data: bytes, media: str) -> bool:
    """The minimal inner structure of a zip-based office document (no member is inflated but
    ODF's `mimetype`, which is stored uncompressed and a few bytes long)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            if len(infos) > _ZIP_MEMBERS_MAX:
                return False
            names = {i.filename for i in infos}
            if media in _OOXML_MAIN:
                return "[Content_Types].xml" in names and _OOXML_MAIN[media] in names
            first = infos[0] if infos else None
            if first is None or first.filename != "mimetype" or first.file_size > 100:
                return False
            with z.open(first) as f:
                return f.read(101).decode("ascii", "replace").strip() == media
    except (
        zipfile.BadZipFile,
        OSError,
        ValueError,
        EOFError,
        NotImplementedError,
        RuntimeError,
        zlib.error,
    ):  # (an encrypted member is a RuntimeError)
        return False


def accept(data: bytes, name: str) -> EvidenceFile:
    """What an event records of `data` (a file called `name`), or EvidenceRefused."""
    try:
        clean = file_name(name)
    except ValueError as exc:
        raise EvidenceRefused("invalid_file_name", str(exc).split(": ", 1)[-1]) from None
    if not data:
        raise EvidenceRefused("evidence_empty", "the file is empty")
    if len(data) > EVIDENCE_MAX_BYTES:
        raise EvidenceRefused(
            "evidence_too_large", f"a file is at most {EVIDENCE_MAX_BYTES // 2**20} MB"
        )
    kind = filetype.guess(data)
    media = kind.mime if kind is not None else None
    if media not in EVIDENCE_TYPES:
        raise EvidenceRefused(
            "evidence_type_not_allowed", "only PDF, JPEG, PNG, Word, Excel or OpenDocument files"
        )
    if (media in _OOXML_MAIN or media in _ODF) and not _office_ok(data, media):
        raise EvidenceRefused("evidence_damaged", "the office document lacks the parts of its kind")
    return EvidenceFile(
        sha256=hashlib.sha256(data).hexdigest(), name=clean, size=len(data), type=media
    )


class EvidenceStore(Protocol):
    """Content-addressed storage of evidence files, by their hex SHA-256."""

    def put(self, data: bytes) -> str:
        """Store `data` (idempotent: the same bytes again change nothing); its hex SHA-256."""
        ...

    def get(self, sha256: str) -> bytes | None:
        """The stored bytes (as stored: the caller checks them against the hash), or None."""
        ...

    def has(self, sha256: str) -> bool: ...


def _hex(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a hex SHA-256")
    return sha256


class FileEvidenceStore:
    """Files under a folder, `ab/cdef…` by their SHA-256 (THIDUA_HOME/evidence by default)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        h = _hex(sha256)
        return self.root / h[:2] / h[2:]

    def put(self, data: bytes) -> str:
        h = hashlib.sha256(data).hexdigest()
        target = self.path(h)
        try:
            if hashlib.sha256(target.read_bytes()).hexdigest() == h:
                return h  # already there, whole: nothing to write
        except FileNotFoundError:
            pass  # (a file there with other bytes is replaced by the right ones)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o440)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return h

    def get(self, sha256: str) -> bytes | None:
        try:
            return self.path(sha256).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()


def check_attached(store: EvidenceStore, command: c.Command) -> None:
    """Every file a self-score names is stored, with the size and type it names
    (`evidence_not_uploaded`, `evidence_mismatch`, naming `evidence.SECTION.N`)."""
    if not isinstance(command, c.SubmitSelfScore):
        return
    for sid, files in command.evidence.items():
        for i, f in enumerate(files):
            where = f"evidence.{sid}.{i}"
            data = store.get(f.sha256)
            if data is None:
                raise DomainError(
                    "evidence_not_uploaded",
                    "no file with this SHA-256 was uploaded (POST …/evidence first)",
                    f"{where}.sha256",
                )
            try:
                found = accept(data, f.name)
            except EvidenceRefused as exc:
                raise DomainError(exc.code, exc.message, where) from None
            if (found.sha256, found.size, found.type) != (f.sha256, f.size, f.type):
                raise DomainError(
                    "evidence_mismatch", "size or type differ from the stored file's", where
                )


@dataclass(frozen=True)
class Reference:
    """A file an event attaches: at which version, by which unit, to which section."""

    version: int
    unit: str
    section: str
    file: EvidenceFile


def references(events: Iterable[ev.Event]) -> list[Reference]:
    """Every file the self-scores of a cycle attach, in stream order (version from 1)."""
    out: list[Reference] = []
    for version, e in enumerate(events, start=1):
        if isinstance(e, ev.SelfScoreSubmitted):
            for sid, files in e.evidence.items():
                out.extend(Reference(version, e.unit, sid, f) for f in files)
    return out


def findings(store: EvidenceStore, refs: Iterable[Reference]) -> list[str]:
    """`version N: evidence_missing|evidence_altered: …` for each attached file the store lacks
    or holds with other bytes (each file checked once)."""
    out, seen = [], set()
    for r in refs:
        if r.file.sha256 in seen:
            continue
        seen.add(r.file.sha256)
        data = store.get(r.file.sha256)
        where = (
            f"version {r.version}: {{}}: {r.unit}, section {r.section}: {r.file.name!r} "
            f"(sha256 {r.file.sha256})"
        )
        if data is None:
            out.append(where.format("evidence_missing") + " is not in the evidence store")
        elif hashlib.sha256(data).hexdigest() != r.file.sha256 or len(data) != r.file.size:
            out.append(where.format("evidence_altered") + " is stored with other content")
    return out


def may_open(who: Actor, units: set[str], head: str | None, deputy: str | None) -> bool:
    """Who opens a file the self-scores of `units` attach: auditors and the secretariat, the
    head (who verifies the scores), the deputy for the head unit's files (the deputy verifies
    those), and the units that attached it."""
    if who.kind in ("auditor", "admin"):
        return True
    if who.kind != "unit" or who.unit is None:
        return False
    return who.unit in units or who.unit == head or (who.unit == deputy and head in units)
