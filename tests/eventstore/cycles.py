"""Completed cycles made by the pure domain, as the rows the store would hold: for the fast
fold's equality tests, the audit tests and bench/audit.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from uuid import UUID, uuid4

from domain.codec import EventRecord, to_record
from domain.events import Event
from domain.scenario import load_scenario, run_pure
from eventstore.chain import GENESIS, chain_hash, record_body
from eventstore.verify import Row

REFERENCE = Path(__file__).resolve().parents[2] / "app" / "scenarios" / "kg-khoi-2-2018.json"


def reference_events(*, unique_ids: bool = False) -> list[Event]:
    """The reference cycle (kg-khoi-2 2018) driven through the pure domain."""
    scenario = load_scenario(REFERENCE.read_bytes())
    t0 = datetime(2018, 1, 2, 8, 0, tzinfo=UTC)
    ticks = count()
    ids = count(1)
    _, events, _ = run_pure(
        scenario,
        now=lambda: t0 + timedelta(minutes=next(ticks)),
        ids=(uuid4 if unique_ids else lambda: UUID(int=next(ids))),
    )
    return events


def rows_of(stream: str, events: list[Event]) -> list[Row]:
    """(version, body, hash) rows as the store would write them."""
    rows: list[Row] = []
    prev = GENESIS
    for version, r in enumerate(records(events), start=1):
        body = record_body(stream, version, r)
        prev = chain_hash(prev, body)
        rows.append((version, body, prev))
    return rows


def records(events: list[Event]) -> Iterator[EventRecord]:
    return (to_record(e) for e in events)
