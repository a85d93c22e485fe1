"""The reference case's events, made by the pure domain (no services), and its minutes once per
session: rendering a PDF is the slow part, so every test reads the same file."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from app.documents import events_jsonl, minutes_pdf
from app.runner import reference_scenario
from domain.events import Event
from domain.scenario import Scenario, load_scenario, run_pure
from eventstore.chain import GENESIS

SCENARIOS = Path(__file__).parents[1] / "workflows" / "scenarios"
OUT = Path("/tmp/thidua-minutes")
"""Where the rendered minutes are left for people to look at."""


@dataclass(frozen=True)
class Record:
    events: list[Event]
    stream: str
    head_version: int
    head_hash: bytes

    @property
    def kw(self) -> dict[str, object]:
        return {
            "stream": self.stream,
            "head_version": self.head_version,
            "head_hash": self.head_hash,
        }


def clock(start: datetime) -> tuple[Callable[[], datetime], Callable[[], UUID]]:
    t = [start]

    def now() -> datetime:
        t[0] += timedelta(minutes=1)
        return t[0]

    # Event ids are unique across the whole store: fresh ones for every record.
    return now, uuid4


def chain(lines: bytes) -> bytes:
    """The head hash of the stream whose hashed bodies are `lines` (eventstore.chain)."""
    h = GENESIS
    for line in lines.splitlines():
        h = hashlib.sha256(h + line).digest()
    return h


def record_of(sc: Scenario, *, upto: int | None = None) -> Record:
    now, ids = clock(datetime(2019, 3, 8, 1, 0, tzinfo=UTC))
    _, events, results = run_pure(sc, now=now, ids=ids)
    assert all(r["ok"] for r in results), results
    events = events[:upto] if upto is not None else events
    stream = f"cycle-{sc.block.id}-{sc.year}"
    head = chain(events_jsonl(events, stream=stream))
    return Record(events, stream, len(events), head)


def scenario(name: str) -> Scenario:
    return load_scenario((SCENARIOS / f"{name}.json").read_bytes())


def scenario_with(**replace: str) -> Scenario:
    """The reference scenario with some text replaced (e.g. a unit's name)."""
    raw = (Path(__file__).parents[2] / "app" / "scenarios" / "kg-khoi-2-2018.json").read_text(
        "utf-8"
    )
    for old, new in replace.items():
        raw = raw.replace(old, new)
    return load_scenario(raw)


@pytest.fixture(scope="session")
def reference() -> Record:
    return record_of(reference_scenario())


@pytest.fixture(scope="session")
def reference_pdf(reference: Record) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "minutes.pdf"
    path.write_bytes(minutes_pdf(reference.events, **reference.kw))  # type: ignore[arg-type]
    return path
