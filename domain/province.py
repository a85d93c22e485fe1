"""A province's year: the list of proposals its blocks send to the provincial emulation council.

When every cycle of the year has completed or been cancelled, the proposals are compiled: for
each block, the units its cycle proposes (place, title, adopted total, tally). A cancelled
cycle proposes nothing (its vote, if any, was never concluded by a review of the whole cycle);
it is listed with its reason so the council sees every block. The compiled list is one event,
`ProposalsCompiled`, in the stream `province-{slug}-{year}`; the Vietnamese document is
rendered from it (app/documents/proposals.py).
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, TypeAdapter

from .events import Envelope
from .state import CycleState
from .values import Score

__all__ = [
    "BlockProposals",
    "ProposalsCompiled",
    "ProposedUnit",
    "ProvinceEventAdapter",
    "ProvinceProposals",
    "compile_proposals",
    "proposals_compiled_id",
    "province_slug",
    "province_stream",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_IDS = uuid.UUID("0f7d0a44-8b43-4b53-8a3e-3f4f3a6f2c21")


def province_slug(province: str) -> str:
    """ "Kiên Giang" → "kien-giang" (ids and streams; the name keeps its diacritics)."""
    return slug(province) or "province"


def slug(name: str) -> str:
    """A name in lower-case ASCII letters and digits joined by dashes, without its diacritics
    ("Khối thi đua số 2" → "khoi-thi-dua-so-2"; "" when nothing is left)."""
    text = name.strip().lower().replace("đ", "d")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    out, dash = [], False
    for c in text:
        if c.isascii() and c.isalnum():
            out.append(c)
            dash = False
        elif not dash and out:
            out.append("-")
            dash = True
    return "".join(out).strip("-")


def province_stream(province: str, year: int, prefix: str = "") -> str:
    return f"{prefix}province-{province_slug(province)}-{year}"


def proposals_compiled_id(stream: str) -> UUID:
    """One compilation per province and year, whoever writes it and however often."""
    return uuid.uuid5(_IDS, f"{stream}:proposals_compiled")


class ProposedUnit(BaseModel):
    model_config = _FROZEN
    place: int
    unit: str
    name: str
    title: str
    total: Score | None
    approvals: int | None
    voters: int | None
    round: int | None
    decided_by: Literal["vote", "leaders"]


class BlockProposals(BaseModel):
    model_config = _FROZEN
    block_id: str
    block_name: str
    cycle_id: str
    status: Literal["completed", "cancelled"]
    proposals: tuple[ProposedUnit, ...] = ()
    cancel_reason: str | None = None
    held_on: date | None = None
    """The day the block's review conference was held (None before one was held)."""


class ProvinceProposals(BaseModel):
    model_config = _FROZEN
    province: str
    year: int
    blocks: tuple[BlockProposals, ...]

    @property
    def proposed(self) -> list[ProposedUnit]:
        return [p for b in self.blocks for p in b.proposals]


class ProposalsCompiled(Envelope):
    type: Literal["proposals_compiled"] = "proposals_compiled"
    proposals: ProvinceProposals

    def payload(self) -> dict[str, Any]:
        data = super().payload()
        for block in data["proposals"]["blocks"]:
            if block.get("held_on") is None:
                # absent when unknown: a list compiled before the field existed keeps its bytes
                block.pop("held_on", None)
        return data


ProvinceEventAdapter: TypeAdapter[ProposalsCompiled] = TypeAdapter(ProposalsCompiled)
"""A province's events (one kind), for domain.codec.from_record."""


def compile_proposals(province: str, year: int, cycles: Iterable[CycleState]) -> ProvinceProposals:
    """The province's list from its closed cycles (blocks in id order)."""
    blocks = []
    for s in sorted(cycles, key=lambda c: c.block.id if c.block else ""):
        if s.block is None or s.stage not in ("completed", "cancelled"):
            raise ValueError(f"cycle {s.cycle_id} is not closed ({s.stage})")
        proposed: tuple[ProposedUnit, ...] = ()
        if s.stage == "completed" and s.outcome is not None:
            totals = {r.unit: r.total for r in s.outcome.ranking}
            proposed = tuple(
                ProposedUnit(
                    place=n.place,
                    unit=n.unit,
                    name=s.block.name_of(n.unit),
                    title=n.title,
                    total=totals.get(n.unit),
                    approvals=n.approvals,
                    voters=n.voters,
                    round=n.round,
                    decided_by=n.decided_by,
                )
                for n in sorted(s.outcome.nominations, key=lambda n: n.place)
            )
        blocks.append(
            BlockProposals(
                block_id=s.block.id,
                block_name=s.block.name,
                cycle_id=s.cycle_id or "",
                status="completed" if s.stage == "completed" else "cancelled",
                proposals=proposed,
                cancel_reason=s.cancel_reason if s.stage == "cancelled" else None,
                held_on=s.held_on,
            )
        )
    return ProvinceProposals(province=province, year=year, blocks=tuple(blocks))
