"""Verify every stream of the store (or of one year) and list the failing ones; with a witness
(app/witness), also against its latest signed checkpoint: every stream it knows still exists,
with at least as many events and the same hashes."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from domain.block import BLOCK_EVENT_TYPES, BlockEventAdapter
from domain.person import PEOPLE_EVENT_TYPES, fold_person
from domain.province import ProposalsCompiled
from domain.setup_events import SETUP_EVENT_TYPES, SetupEventAdapter
from eventstore import EventStore
from eventstore.fastfold import event_input
from eventstore.verify import Problem, Row, VerifyReport, verify_rows

from ..witness.log import Leaf

__all__ = ["Progress", "StreamFailure", "compare_with_witness", "verify_all"]

Progress = Callable[[int, int, str], None]
"""progress(done, total, stream) after each stream."""


@dataclass(frozen=True)
class StreamFailure:
    stream: str
    report: VerifyReport
    witness: tuple[str, ...] = field(default=())
    """What differs from the witness's latest checkpoint (a cut, a rewrite, a dropped stream)."""
    evidence: tuple[str, ...] = field(default=())
    """Evidence files the stream's self-scores attach that the store lacks or holds altered."""

    def __str__(self) -> str:
        if self.witness or self.evidence:
            chain = [] if self.report.ok else [str(self.report).split(": ", 1)[1]]
            return f"{self.stream}: " + "; ".join([*chain, *self.witness, *self.evidence])
        if self.report.events == 0:
            return f"{self.stream}: the read model lists it, the store holds no event of it"
        return str(self.report)


def compare_with_witness(stream: str, rows: list[Row], witnessed: list[Leaf]) -> list[str]:
    """What the store's rows of `stream` lack against the leaves a signed checkpoint holds."""
    if not witnessed:
        return []
    last = witnessed[-1].version
    if not rows:
        return [
            f"the signed checkpoint holds {len(witnessed)} events of it (to version {last}),"
            " the store none (a dropped stream)"
        ]
    stored = {v: bytes(h) for v, _, h in rows}
    out = []
    head = rows[-1][0]
    if head < last:
        out.append(
            f"the store ends at version {head}, the signed checkpoint holds version {last} (a cut)"
        )
    for leaf in witnessed:
        h = stored.get(leaf.version)
        if h is not None and h != leaf.hash:
            out.append(
                f"version {leaf.version}: the stored hash differs from the signed "
                "checkpoint's (a rewrite)"
            )
            break
    return out


def _kind(rows: list[Row]) -> str:
    """The stream's kind, from its first event: cycle, block, province, setup or person."""
    first = orjson.loads(rows[0][1]).get("type")
    if first in BLOCK_EVENT_TYPES:
        return "block"
    if first == "proposals_compiled":
        return "province"
    if first in SETUP_EVENT_TYPES:
        return "setup"
    if first in PEOPLE_EVENT_TYPES:
        return "person"
    return "cycle"


def _parse_other(kind: str, rows: list[Row]) -> list[Problem]:
    """Every event of a block, province or person stream read as its kind's event."""
    problems, person = [], None
    for version, body, _ in rows:
        obj = orjson.loads(body)
        try:
            if kind == "block":
                BlockEventAdapter.validate_python(event_input(obj))
            elif kind == "province":
                ProposalsCompiled.model_validate(event_input(obj))
            elif kind == "setup":
                SetupEventAdapter.validate_python(event_input(obj))
            else:
                person = fold_person(person, obj["type"], obj["data"], version)
        except (ValidationError, ValueError, KeyError, TypeError) as exc:
            detail = str(exc).splitlines()[0]
            problems.append(
                Problem("unreadable", version, f"does not parse as a {kind} event: {detail}")
            )
    return problems


def _verify_one(stream: str, rows: list[Row], parse: bool) -> VerifyReport:
    kind = _kind(rows) if rows else "cycle"
    report = verify_rows(stream, rows, parse=parse and kind == "cycle")
    if parse and kind != "cycle":
        more = _parse_other(kind, rows)
        if more:
            report = VerifyReport(
                stream=report.stream,
                events=report.events,
                head_version=report.head_version,
                head_hash=report.head_hash,
                problems=tuple(sorted((*report.problems, *more), key=lambda p: p.version)),
            )
    return report


def _verify_batch(names: list[str], rows: dict[str, list[Row]], parse: bool) -> list[VerifyReport]:
    return [_verify_one(s, rows[s], parse) for s in names]


def evidence_problems(store: Any, rows: list[Row]) -> list[str]:
    """The evidence findings (app/evidence.findings) of a cycle stream's stored bodies."""
    from domain.evidence import EvidenceFile

    from ..evidence import Reference, findings

    refs = []
    for version, body, _ in rows:
        raw = bytes(body)
        if b'"self_score_submitted"' not in raw or b'"evidence"' not in raw:
            continue
        try:
            obj = orjson.loads(raw)
            data = obj["data"]
            refs += [
                Reference(version, str(data["unit"]), sid, EvidenceFile.model_validate(f))
                for sid, files in data.get("evidence", {}).items()
                for f in files
            ]
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # not readable: the chain's or the parse's finding
    return findings(store, refs)


def of_year(streams: Iterable[str], year: int | None) -> list[str]:
    if year is None:
        return list(streams)
    return [s for s in streams if re.search(rf"-{year}$", s)]


async def verify_all(
    store: EventStore,
    year: int | None = None,
    progress: Progress | None = None,
    *,
    parse: bool = False,
    batch: int = 100,
    witnessed: dict[str, list[Leaf]] | None = None,
    also: Iterable[str] = (),
    evidence: Any = None,
) -> list[StreamFailure]:
    """Verify every stream: the chain over the stored bodies (every link, so a changed event is
    named at its version), contiguous versions, each hashed object naming its stream and version;
    with `parse` also that every event reads as an event of its stream's kind (cycle, block,
    province, person; ~4x slower). With `witnessed` (stream -> leaves of the latest signed
    checkpoint) every stream it holds must still hold those events with the same hashes.
    Streams come from the store, the read models, the checkpoint and `also` (e.g. the cycles
    Temporal knows). With `evidence` (app.evidence.EvidenceStore) each file a self-score
    attaches must be stored with its hash. Returns the failing streams; a stream named anywhere
    with no events in the store fails too."""
    witnessed = witnessed or {}
    names_all = sorted(
        {*await store.streams(year), *of_year(witnessed, year), *of_year(also, year)}
    )
    failures: list[StreamFailure] = []
    done = 0
    for start in range(0, len(names_all), batch):
        names = names_all[start : start + batch]
        rows = await store.rows_of_streams(names)
        # hashing (and parsing) a batch is CPU work: in a worker thread, so an API serving
        # GET /audit/verify keeps answering meanwhile
        reports = await asyncio.to_thread(_verify_batch, names, rows, parse)
        for stream, report in zip(names, reports, strict=True):
            against = compare_with_witness(stream, rows[stream], witnessed.get(stream, []))
            files = (
                await asyncio.to_thread(evidence_problems, evidence, rows[stream])
                if evidence is not None
                else []
            )
            if not report.ok or not rows[stream] or against or files:
                failures.append(StreamFailure(stream, report, tuple(against), tuple(files)))
            done += 1
            if progress is not None:
                progress(done, len(names_all), stream)
    return failures
