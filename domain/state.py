"""The state of one cycle and the single fold that builds it from events.

`fold(events)` (domain.fold) is the one definition of a cycle's state: the workflow uses it,
and so do auditors on the events read back from PostgreSQL. Decision events (eligibility, tallies,
election counts) are applied as recorded; `domain.recheck` recomputes them to prove they follow
the rules.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from . import events as ev
from .setup import Block, Ruleset, ScoreSheet
from .values import Score

__all__ = ["CycleState", "ElectionState", "Finding", "RoundState", "act_key"]


def act_key(act: str, *subject: str) -> str:
    """`self_score:u1`, `finding:u1/court_conclusion`, `extension:pledge`, …"""
    return f"{act}:{'/'.join(subject)}"


class Finding(BaseModel):
    unit: str
    kind: str
    reference: str
    note: str = ""


class RoundState(BaseModel):
    round: int
    proposals: list[str]
    voters: list[str]
    ballots: dict[str, list[str]] = Field(default_factory=dict)
    closed: bool = False
    tally: list[ev.TallyLine] = Field(default_factory=list)


class ElectionState(BaseModel):
    mode: Literal["deputy_only", "both"]
    voters: list[str]
    round: int = 1
    head: str | None = None
    deputy: str | None = None
    head_candidates: list[str] = Field(default_factory=list)
    deputy_candidates: list[str] = Field(default_factory=list)
    head_runoff_done: bool = False
    deputy_runoff_done: bool = False
    ballots: dict[str, tuple[str | None, str | None]] = Field(default_factory=dict)
    failed: bool = False
    history: list[ev.ElectionRoundClosed] = Field(default_factory=list)


class CycleState(BaseModel):
    """Everything the rules need to judge the next command."""

    version: int = 0
    stage: str = "none"
    cycle_id: str | None = None
    title: str = ""
    block: Block | None = None
    year: int | None = None
    leaving: list[str] = Field(default_factory=list)
    """Members not in the block next year (they can be neither head nor deputy then)."""
    ruleset: Ruleset | None = None
    score_sheet: ScoreSheet | None = None
    deadlines: dict[str, datetime] = Field(default_factory=dict)
    started_at: datetime | None = None
    last_at: datetime | None = None
    signed: list[str] = Field(default_factory=list)
    unsigned: list[str] = Field(default_factory=list)
    pledge_closed_by: str | None = None
    self_scores: dict[str, dict[str, Score]] = Field(default_factory=dict)
    verified: dict[str, dict[str, Score]] = Field(default_factory=dict)
    not_scored: list[str] = Field(default_factory=list)
    held_on: date | None = None
    present: list[str] = Field(default_factory=list)
    absent: list[ev.Absence] = Field(default_factory=list)
    adopted: dict[str, ev.AdoptedScore] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)
    excluded: dict[str, list[str]] | None = None
    tie_breaks: list[list[str]] = Field(default_factory=list)
    rounds: list[RoundState] = Field(default_factory=list)
    nominations: list[ev.Nomination] = Field(default_factory=list)
    rejected: list[str] = Field(default_factory=list)
    leaders_agreed: dict[str, dict[int, str]] = Field(default_factory=dict)
    leaders_decided: bool = False
    election: ElectionState | None = None
    next_head: str | None = None
    next_deputy: str | None = None
    missed: list[str] = Field(default_factory=list)
    outcome: ev.Outcome | None = None
    cancel_reason: str | None = None
    requests: dict[str, list[int]] = Field(default_factory=dict)
    acts: dict[str, int] = Field(default_factory=dict)
    """How often a repeatable act was done, by `act_key` (bounded by the ruleset's limits)."""

    # ---- derived views ---------------------------------------------------------------------

    @property
    def members(self) -> tuple[str, ...]:
        return self.block.member_ids if self.block else ()

    @property
    def is_closed(self) -> bool:
        return self.stage in ("completed", "cancelled")

    @property
    def open_round(self) -> RoundState | None:
        if self.rounds and not self.rounds[-1].closed:
            return self.rounds[-1]
        return None

    @property
    def voters(self) -> list[str]:
        """Who votes in the nomination vote and the election: the present units, plus absent
        units that sent a written opinion when the ruleset counts written opinions."""
        assert self.ruleset is not None
        extra = [
            a.unit for a in self.absent if a.written_opinion and self.ruleset.vote.written_opinions
        ]
        return [u for u in self.members if u in self.present or u in extra]

    @property
    def chair(self) -> str | None:
        """The unit that chairs: the head, or the deputy when the head unit is absent from the
        review or excluded."""
        if self.block is None:
            return None
        head = self.block.head
        if self.held_on is not None and head not in self.present:
            return self.block.deputy
        if self.excluded is not None and head in self.excluded:
            return self.block.deputy
        return head

    @property
    def leaders(self) -> tuple[str, str] | None:
        """The two who decide open places after the last round (leaders_decide): the chair,
        and the other of head and deputy."""
        if self.block is None or self.chair is None:
            return None
        head = self.chair
        other = self.block.deputy if head != self.block.deputy else self.block.head
        return head, other

    def open_places(self) -> list[int]:
        assert self.ruleset is not None
        taken = {n.place for n in self.nominations}
        return [p.place for p in self.ruleset.places if p.place not in taken]

    def acts_of(self, act: str, *subject: str) -> int:
        return self.acts.get(act_key(act, *subject), 0)

    def total_of(self, unit: str) -> Decimal | None:
        score = self.adopted.get(unit)
        return score.total if score else None
