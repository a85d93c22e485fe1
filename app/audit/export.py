"""Export one cycle's stream as a zip that an auditor verifies offline with `python3 verify.py
EXPORT.zip` (standard library only), and the same checks in Python.

The zip holds:
  events.jsonl   one line per event: the exact bytes its hash covers (canonical JSON)
  hashes.txt     the stored hash of each line, hex, one per line
  manifest.json  stream, count, first and last hash, ruleset and its version, schema versions,
                 the canonical-JSON and hash recipe, the verdict of the store at export time
  minutes.pdf    the minutes of the review, when given
  checkpoint.json  the witness's latest signed checkpoint and an inclusion proof for each of the
                 stream's events it holds (app/witness), when a witness is given
  evidence/<sha256>  each evidence file the self-scores attach (app/evidence.py), as the
                 evidence store holds it (verify.py checks it against the SHA-256 its event
                 records; one the store lacks is left out, and named by verify.py)
  verify.py      the standalone verifier (app/audit/verify_script.py)
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import IO, Any

from eventstore import EventStore
from eventstore.verify import Replay, Row, replay_rows

from .verify_script import CannotCheck, TooLarge, hashes_of, open_zip, verify_zip

__all__ = [
    "FORMAT",
    "RECIPE",
    "ExportCheck",
    "TooLarge",
    "UnknownStream",
    "compare_with_store",
    "export_bytes",
    "export_cycle",
    "unpack_problem",
    "verify_export",
]

FORMAT = "thidua-audit-export/1"
RECIPE = {
    "hash": "hash(v) = SHA-256(hash(v-1) || line(v)); hash(0) = 32 zero bytes; hashes.txt holds"
    " hash(v) in hex",
    "line": "line(v) = canonical JSON of the hashed object H(v): UTF-8, keys sorted by code"
    " point, no whitespace, non-ASCII as itself, integers only (decimals are strings);"
    " = json.dumps(H, sort_keys=True, separators=(',', ':'), ensure_ascii=False)",
    "hashed_object": [
        "actor",
        "data",
        "effective_at",
        "event_id",
        "request_id",
        "schema_version",
        "stream",
        "type",
        "version",
    ],
    "effective_at": "UTC, YYYY-MM-DDTHH:MM:SS.ffffff+00:00",
    "not_hashed": ["recorded_at", "position"],
}

MinutesHook = Callable[..., bytes]
"""app.documents.minutes.minutes_pdf(events, *, stream, head_version, head_hash, sign=None)"""


def _script() -> bytes:
    return resources.files("app.audit").joinpath("verify_script.py").read_bytes()


class UnknownStream(ValueError):
    """The stream has no events (a ValueError, `unknown_stream: …`)."""


async def export_cycle(
    store: EventStore,
    stream: str,
    out_path: str | Path,
    *,
    minutes_pdf: bytes | MinutesHook | None = None,
    witness: Any = None,
    evidence: Any = None,
) -> dict[str, Any]:
    """Write the export of `stream` to `out_path` (a .zip); returns its manifest. `minutes_pdf`
    is the PDF itself, or the function that makes it from the replayed events (called only
    when the stream verifies), e.g. app.documents.minutes.minutes_pdf."""
    data, manifest = await export_bytes(
        store, stream, minutes_pdf=minutes_pdf, witness=witness, evidence=evidence
    )
    Path(out_path).write_bytes(data)
    return manifest


async def export_bytes(
    store: EventStore,
    stream: str,
    *,
    minutes_pdf: bytes | MinutesHook | None = None,
    witness: Any = None,
    evidence: Any = None,
) -> tuple[bytes, dict[str, Any]]:
    """The export of `stream` as the zip's bytes, and its manifest (see `export_cycle`). The
    fold, the minutes and the zip are made in worker threads: an API keeps answering.
    `witness` (app.witness.check.Checked) adds its latest checkpoint and the stream's
    inclusion proofs; `evidence` (app.evidence.EvidenceStore) the files the self-scores
    attach."""
    rows = await store.rows(stream)
    if not rows:
        raise UnknownStream(f"unknown_stream: no events in stream {stream!r}")
    replay = await asyncio.to_thread(replay_rows, stream, rows)
    report = replay.report
    pdf: bytes | None
    if callable(minutes_pdf):
        # minutes only of a record whose chain holds (as `thidua audit minutes`); WeasyPrint
        # is slow and synchronous: off the event loop
        from app.documents.record import holding

        cp = holding(witness, stream, report.head_version, report.head_hash)
        more = {"checkpoint": cp} if cp is not None else {}  # the record names the checkpoint
        pdf = (
            await asyncio.to_thread(
                minutes_pdf,
                replay.events,
                stream=stream,
                head_version=report.head_version,
                head_hash=report.head_hash,
                **more,
            )
            if report.ok
            else None
        )
    else:
        pdf = minutes_pdf
    proofs = None
    if witness is not None:
        from app.witness.log import bundle

        proofs = await asyncio.to_thread(
            bundle, witness.log, witness.log.numbers()[-1], witness.public_text, stream
        )
    return await asyncio.to_thread(_pack, stream, rows, replay, pdf, proofs, evidence)


def _files(replay: Replay, evidence: Any) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """The manifest's list of the attached files, and the bytes the store holds of each."""
    from app.evidence import references

    listed: list[dict[str, Any]] = []
    held: dict[str, bytes] = {}
    for r in references(replay.events):
        if r.file.sha256 in held or any(f["sha256"] == r.file.sha256 for f in listed):
            continue
        data = evidence.get(r.file.sha256) if evidence is not None else None
        listed.append(
            {
                "file": f"evidence/{r.file.sha256}",
                **r.file.model_dump(mode="json"),
                "unit": r.unit,
                "section": r.section,
                "version": r.version,
                "in_export": data is not None,
            }
        )
        if data is not None:
            held[r.file.sha256] = data
    return listed, held


def _pack(
    stream: str,
    rows: list[Row],
    replay: Replay,
    pdf: bytes | None,
    proofs: dict[str, Any] | None = None,
    evidence: Any = None,
) -> tuple[bytes, dict[str, Any]]:
    listed, held = _files(replay, evidence) if evidence is not None else ([], {})
    report = replay.report
    events = b"".join(bytes(body) + b"\n" for _, body, _ in rows)
    hashes = "".join(bytes(h).hex() + "\n" for _, _, h in rows)
    ruleset = replay.state.ruleset
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "stream": stream,
        "count": len(rows),
        "first_version": rows[0][0],
        "last_version": rows[-1][0],
        "first_hash": bytes(rows[0][2]).hex(),
        "last_hash": bytes(rows[-1][2]).hex(),
        "ruleset": {"id": ruleset.id, "version": ruleset.version} if ruleset else None,
        "schema_versions": sorted({json.loads(b)["schema_version"] for _, b, _ in rows}),
        "recipe": RECIPE,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "store_verdict": {
            "ok": report.ok,
            "problems": [f"{p.kind} at version {p.version}: {p.detail}" for p in report.problems],
        },
        "events_sha256": hashlib.sha256(events).hexdigest(),
        "minutes": (
            {"file": "minutes.pdf", "sha256": hashlib.sha256(pdf).hexdigest()}
            if pdf is not None
            else None
        ),
        "checkpoint": (
            {
                "file": "checkpoint.json",
                "public_key": proofs["public_key"],
                "events": len(proofs["leaves"]),
            }
            if proofs is not None
            else None
        ),
    }
    if listed:
        manifest["evidence"] = listed
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
        z.writestr("events.jsonl", events)
        z.writestr("hashes.txt", hashes)
        z.writestr("verify.py", _script())
        if pdf is not None:
            z.writestr("minutes.pdf", pdf)
        if proofs is not None:
            z.writestr("checkpoint.json", json.dumps(proofs, ensure_ascii=False, indent=1))
        for sha, data in held.items():
            z.writestr(f"evidence/{sha}", data)
    return buf.getvalue(), manifest


@dataclass(frozen=True)
class ExportCheck:
    """The verdict on an export: `problems[0]` names the first bad line."""

    problems: tuple[str, ...]
    manifest: dict[str, Any]

    @property
    def ok(self) -> bool:
        return not self.problems


Source = str | Path | bytes | IO[bytes]
"""An export: a path to the zip, the zip's bytes, or an open binary file (an upload spooled)."""


def _open(source: Source) -> str | IO[bytes]:
    if isinstance(source, bytes):
        return io.BytesIO(source)
    if isinstance(source, str | Path):
        return str(source)
    source.seek(0)
    return source


def unpack_problem(source: Source) -> str | None:
    """Why `source` cannot be taken as an export before any member is read: not a zip (None
    when it is one). TooLarge for a zip past the bounds of verify.py (a zip bomb: too many
    members, a member or all of them unpacking to more than their bound, another
    compression), before anything is inflated."""
    try:
        open_zip(_open(source)).close()
    except TooLarge:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return "not a zip file"
    return None


def verify_export(source: Source) -> ExportCheck:
    """The checks of verify.py, in Python (the same code). TooLarge for an export past its
    bounds (a zip bomb, an over-long line)."""
    try:
        problems, manifest = verify_zip(_open(source))
    except TooLarge:
        raise
    except CannotCheck as exc:
        return ExportCheck((f"cannot check the witness: {exc}",), {})
    return ExportCheck(tuple(problems), manifest)


def _manifest_problem(m: dict[str, Any]) -> str | None:
    for key, kind in (("stream", str), ("first_version", int), ("last_version", int)):
        if not isinstance(m.get(key), kind) or isinstance(m.get(key), bool):
            return f"manifest: {key} is missing or not a{'n integer' if kind is int else ' string'}"
    return None


def _first_difference(source: Source, first: int, now: dict[int, str]) -> int | None:
    """The first exported version whose hash the store holds differently (hashes.txt read
    line by line)."""
    with open_zip(_open(source)) as z:
        for n, h in enumerate(hashes_of(z), start=first):
            if n in now and now[n] != h:
                return n
    return None


async def compare_with_store(store: EventStore, source: Source) -> ExportCheck:
    """An (older) export against the store now: the store must still hold every exported event
    with the same hash — a deleted or rewritten tail, or a rewritten past, shows up here. The
    checks of the zip and of the stream run in worker threads (an export can be MBs), within
    the bounds of verify.py (TooLarge)."""
    check = await asyncio.to_thread(verify_export, source)
    if not check.manifest:
        return check
    m = check.manifest
    problems = list(check.problems)
    bad = _manifest_problem(m)
    if bad is not None:
        return ExportCheck((*problems, bad), m)
    rows = await store.rows(m["stream"])
    if not rows:
        return ExportCheck((*problems, f"the store holds no stream {m['stream']}"), m)
    now = {version: bytes(h).hex() for version, _, h in rows}
    head = max(now, default=0)
    if head < m["last_version"]:
        problems.append(
            f"the store's stream {m['stream']} ends at version {head}; the export of "
            f"{m.get('exported_at')} recorded {m['last_version']} events "
            "(a deleted tail)"
        )
    try:
        differs = await asyncio.to_thread(_first_difference, source, m["first_version"], now)
    except (ValueError, zipfile.BadZipFile, zlib.error, OSError) as exc:
        problems.append(f"unreadable export: {exc}")
        differs = None
    if differs is not None:
        problems.append(f"version {differs}: the store's hash differs from the exported one")
    report = (await asyncio.to_thread(replay_rows, m["stream"], rows)).report
    problems += [f"store: {p.kind} at version {p.version}: {p.detail}" for p in report.problems]
    return ExportCheck(tuple(problems), m)
