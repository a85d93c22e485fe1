"""Domain events: frozen, past tense, one discriminated union on `type`.

Every event carries its envelope (`event_id`, `at` = when it happened in the world, `actor`,
`request_id`) and its payload. `payload()` is what the event store keeps as `data`;
`ENVELOPE` names the fields it keeps in their own columns.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from .evidence import EvidenceFile
from .payloads import Absence, AdoptedScore, Nomination, Noted, Outcome, RankEntry, TallyLine
from .setup import Block, Ruleset, ScoreSheet
from .values import Actor, Score, UtcDatetime

__all__ = [
    "ENVELOPE",
    "EVENT_TYPES",
    "SCHEMA_VERSION",
    "Absence",
    "AdoptedScore",
    "Envelope",
    "Event",
    "EventAdapter",
    "Nomination",
    "Outcome",
    "RankEntry",
    "TallyLine",
]

SCHEMA_VERSION = 1
ENVELOPE = ("event_id", "at", "actor", "request_id")

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Envelope(BaseModel):
    """What every event carries (cycles, blocks, a province's year): columns of the store."""

    model_config = _FROZEN
    event_id: UUID
    at: UtcDatetime
    actor: Actor
    request_id: str | None = None

    omit_empty: ClassVar[tuple[str, ...]] = ()
    """Fields left out of the payload when empty (added later: older events keep their bytes)."""

    def payload(self) -> dict[str, Any]:
        """The event's own data (no envelope), JSON-ready."""
        data = self.model_dump(mode="json", exclude=set(ENVELOPE))
        return {k: v for k, v in data.items() if v or k not in self.omit_empty}


class _Event(Envelope):
    """A cycle's event (EVENT_TYPES lists its subclasses)."""


# ---- the events -----------------------------------------------------------------------------


class CycleStarted(_Event):
    type: Literal["cycle_started"] = "cycle_started"
    block: Block
    year: int
    ruleset: Ruleset
    score_sheet: ScoreSheet
    deadlines: dict[str, UtcDatetime] = Field(default_factory=dict)
    title: str = ""
    leaving_after_year: tuple[str, ...] = ()
    """Members that leave the block after this year (not members next year)."""
    omit_empty = ("leaving_after_year",)


class PledgeSigned(_Event):
    type: Literal["pledge_signed"] = "pledge_signed"
    unit: str


class PledgeClosed(_Event, Noted):
    type: Literal["pledge_closed"] = "pledge_closed"
    reason: Literal["all_signed", "closed_by_head", "deadline"]
    unsigned: tuple[str, ...] = ()


class SelfScoreSubmitted(_Event):
    type: Literal["self_score_submitted"] = "self_score_submitted"
    unit: str
    sections: dict[str, Score]
    evidence: dict[str, tuple[EvidenceFile, ...]] = Field(default_factory=dict)  # never bytes
    omit_empty = ("evidence",)


class ScoreVerified(_Event):
    type: Literal["score_verified"] = "score_verified"
    unit: str
    sections: dict[str, Score]
    note: str = ""
    changed: tuple[str, ...] = ()


class ScoringClosed(_Event, Noted):
    type: Literal["scoring_closed"] = "scoring_closed"
    reason: Literal["closed_by_head", "deadline"]
    not_scored: tuple[str, ...] = ()


class ReviewHeld(_Event):
    type: Literal["review_held"] = "review_held"
    held_on: date
    present: tuple[str, ...]
    absent: tuple[Absence, ...] = ()
    quorum_required: int
    adopted: dict[str, AdoptedScore]


class ScoreCorrected(_Event):
    type: Literal["score_corrected"] = "score_corrected"
    unit: str
    sections: dict[str, Score]
    total: Score
    note: str
    excluded: dict[str, tuple[str, ...]] | None = None
    """Eligibility recomputed, when the correction comes after the discipline check closed."""


class FindingRecorded(_Event):
    type: Literal["finding_recorded"] = "finding_recorded"
    unit: str
    kind: str
    reference: str
    note: str = ""


class FindingWithdrawn(_Event, Noted):
    type: Literal["finding_withdrawn"] = "finding_withdrawn"
    unit: str
    kind: str


class DisciplineCheckClosed(_Event):
    """The eligibility decision, with every excluded unit's reason codes."""

    type: Literal["discipline_check_closed"] = "discipline_check_closed"
    eligible: tuple[str, ...]
    excluded: dict[str, tuple[str, ...]]


class TieBroken(_Event):
    type: Literal["tie_broken"] = "tie_broken"
    order: tuple[str, ...]


class VoteRoundOpened(_Event):
    type: Literal["vote_round_opened"] = "vote_round_opened"
    round: int
    proposals: tuple[str, ...]
    voters: tuple[str, ...]
    ranking: tuple[RankEntry, ...]


class BallotCast(_Event):
    type: Literal["ballot_cast"] = "ballot_cast"
    round: int
    voter: str
    approve: tuple[str, ...]


class VoteRoundClosed(_Event, Noted):
    """The tally: approvals per proposal, who is confirmed and at which place."""

    type: Literal["vote_round_closed"] = "vote_round_closed"
    round: int
    voters: int
    ballots: int
    base: int
    tally: tuple[TallyLine, ...]


class LeadersDecided(_Event):
    type: Literal["leaders_decided"] = "leaders_decided"
    places: dict[int, str]
    head: str
    head_name: str
    deputy: str
    deputy_name: str


class LeadersAgreed(_Event):
    """One of the two leaders (the chair, or the other of head and deputy) agrees, by its own
    act, to fill the open places so; LeadersDecided follows when both agree on the same."""

    type: Literal["leaders_agreed"] = "leaders_agreed"
    unit: str
    places: dict[int, str]


class ElectionOpened(_Event):
    type: Literal["election_opened"] = "election_opened"
    mode: Literal["deputy_only", "both"]
    head: str | None
    voters: tuple[str, ...]
    round: int = 1
    head_candidates: tuple[str, ...] = ()
    deputy_candidates: tuple[str, ...] = ()


class ElectionBallotCast(_Event):
    type: Literal["election_ballot_cast"] = "election_ballot_cast"
    round: int
    voter: str
    head: str | None = None
    deputy: str | None = None


class ElectionRoundClosed(_Event):
    """One election round's count. When an office is still open, a run-off round opens at once
    (`runoff_*`), or, after a failed run-off, `failed` hands the choice to the admin."""

    type: Literal["election_round_closed"] = "election_round_closed"
    round: int
    ballots: int
    head_votes: dict[str, int] = Field(default_factory=dict)
    deputy_votes: dict[str, int] = Field(default_factory=dict)
    head: str | None
    deputy: str | None
    runoff_head: tuple[str, ...] = ()
    runoff_deputy: tuple[str, ...] = ()
    failed: bool = False


class LeadersAppointed(_Event):
    type: Literal["leaders_appointed"] = "leaders_appointed"
    head: str
    deputy: str


class DeadlineExtended(_Event, Noted):
    type: Literal["deadline_extended"] = "deadline_extended"
    stage: str
    until: UtcDatetime


class DeadlineMissed(_Event):
    type: Literal["deadline_missed"] = "deadline_missed"
    stage: str
    deadline: UtcDatetime
    pending: tuple[str, ...] = ()


class CycleCancelled(_Event):
    type: Literal["cycle_cancelled"] = "cycle_cancelled"
    reason: str
    stage: str


class CycleCompleted(_Event):
    type: Literal["cycle_completed"] = "cycle_completed"
    outcome: Outcome


Event = Annotated[
    CycleStarted
    | PledgeSigned
    | PledgeClosed
    | SelfScoreSubmitted
    | ScoreVerified
    | ScoringClosed
    | ReviewHeld
    | ScoreCorrected
    | FindingRecorded
    | FindingWithdrawn
    | DisciplineCheckClosed
    | TieBroken
    | VoteRoundOpened
    | BallotCast
    | VoteRoundClosed
    | LeadersAgreed
    | LeadersDecided
    | ElectionOpened
    | ElectionBallotCast
    | ElectionRoundClosed
    | LeadersAppointed
    | DeadlineExtended
    | DeadlineMissed
    | CycleCancelled
    | CycleCompleted,
    Field(discriminator="type"),
]

EventAdapter: TypeAdapter[Event] = TypeAdapter(Event)

EVENT_TYPES: tuple[str, ...] = tuple(
    cls.model_fields["type"].default for cls in _Event.__subclasses__()
)
