"""Commands: imperative, one discriminated union on `do` (the names of the scenario format).

Every field is bounded and strict (domain.values): ids, texts, lists, scores and the year are
refused here, naming the field, before any rule is judged."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    model_serializer,
    model_validator,
)

from .events import Absence
from .evidence import Evidence, check_count
from .setup import Block, Ruleset, ScoreSheet
from .values import LIST_MAX, FindingKind, Score, Slug, Text, UtcDatetime, Year

__all__ = ["COMMAND_NAMES", "Command", "CommandAdapter"]

_CMD = ConfigDict(frozen=True, extra="forbid")


def _absent(value: object) -> bool:
    return value is None


Sections = Annotated[dict[Slug, Score], Field(max_length=LIST_MAX)]
"""`{section id: score}` of one unit."""


class StartCycle(BaseModel):
    model_config = _CMD
    do: Literal["start_cycle"] = "start_cycle"
    block: Block
    year: Year
    ruleset: Ruleset = Ruleset()
    score_sheet: ScoreSheet
    deadlines: dict[Slug, UtcDatetime] = Field(default_factory=dict, max_length=10)
    title: Text = ""
    leaving_after_year: tuple[Slug, ...] = Field(default=(), max_length=LIST_MAX)
    """Members that leave the block after this year: "not a member next year" (DOMAIN.md)."""


class SignPledge(BaseModel):
    model_config = _CMD
    do: Literal["sign_pledge"] = "sign_pledge"
    unit: Slug


class ClosePledge(BaseModel):
    model_config = _CMD
    do: Literal["close_pledge"] = "close_pledge"
    note: Text | None = Field(default=None, exclude_if=_absent)
    """Why (recorded in the event); the pages require it, the rules do not. Absent from the
    command's JSON when not given (its idempotency binding stays as before)."""


class SubmitSelfScore(BaseModel):
    model_config = _CMD
    do: Literal["submit_self_score"] = "submit_self_score"
    unit: Slug
    sections: Sections
    evidence: Evidence = Field(default_factory=dict)
    """Files attached per section (domain.evidence), by hash: stored before the command."""

    @model_validator(mode="after")
    def _bounded(self) -> SubmitSelfScore:
        check_count(self.evidence)
        return self

    @model_serializer(mode="wrap")
    def _drop_empty_evidence(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # absent when empty: a command of before evidence serialises (and binds its request
        # id, workflows/idempotency.py) as it did
        data: dict[str, Any] = handler(self)
        if not self.evidence:
            data.pop("evidence", None)
        return data


class VerifyScore(BaseModel):
    model_config = _CMD
    do: Literal["verify_score"] = "verify_score"
    unit: Slug
    sections: Sections
    note: Text = ""


class CloseScoring(BaseModel):
    model_config = _CMD
    do: Literal["close_scoring"] = "close_scoring"
    note: Text | None = Field(default=None, exclude_if=_absent)
    """Why (recorded in the event); the pages require it, the rules do not. Absent from the
    command's JSON when not given (its idempotency binding stays as before)."""


class HoldReview(BaseModel):
    model_config = _CMD
    do: Literal["hold_review"] = "hold_review"
    held_on: date
    present: tuple[Slug, ...] = Field(max_length=LIST_MAX)
    absent: tuple[Absence, ...] = Field(default=(), max_length=LIST_MAX)


class CorrectScore(BaseModel):
    model_config = _CMD
    do: Literal["correct_score"] = "correct_score"
    unit: Slug
    sections: Sections
    note: Text = ""


class RecordFinding(BaseModel):
    model_config = _CMD
    do: Literal["record_finding"] = "record_finding"
    unit: Slug
    kind: FindingKind
    reference: Text = Field(min_length=1)
    note: Text = ""


class WithdrawFinding(BaseModel):
    model_config = _CMD
    do: Literal["withdraw_finding"] = "withdraw_finding"
    unit: Slug
    kind: Slug
    note: Text | None = Field(default=None, exclude_if=_absent)
    """Why (recorded in the event); the pages require it, the rules do not. Absent from the
    command's JSON when not given (its idempotency binding stays as before)."""


class CloseDisciplineCheck(BaseModel):
    model_config = _CMD
    do: Literal["close_discipline_check"] = "close_discipline_check"


class BreakTie(BaseModel):
    model_config = _CMD
    do: Literal["break_tie"] = "break_tie"
    order: tuple[Slug, ...] = Field(min_length=2, max_length=LIST_MAX)


class OpenVoteRound(BaseModel):
    model_config = _CMD
    do: Literal["open_vote_round"] = "open_vote_round"


class CastBallot(BaseModel):
    model_config = _CMD
    do: Literal["cast_ballot"] = "cast_ballot"
    approve: tuple[Slug, ...] = Field(default=(), max_length=LIST_MAX)


class CloseVoteRound(BaseModel):
    model_config = _CMD
    do: Literal["close_vote_round"] = "close_vote_round"
    note: Text | None = Field(default=None, exclude_if=_absent)
    """Why (recorded in the event); the pages require it, the rules do not. Absent from the
    command's JSON when not given (its idempotency binding stays as before)."""


class PlaceChoice(BaseModel):
    model_config = _CMD
    place: int = Field(strict=True, ge=1, le=LIST_MAX)
    unit: Slug


class LeadersDecide(BaseModel):
    model_config = _CMD
    do: Literal["leaders_decide"] = "leaders_decide"
    places: tuple[PlaceChoice, ...] = Field(min_length=1, max_length=LIST_MAX)


class OpenElection(BaseModel):
    model_config = _CMD
    do: Literal["open_election"] = "open_election"


class CastElectionBallot(BaseModel):
    model_config = _CMD
    do: Literal["cast_election_ballot"] = "cast_election_ballot"
    deputy: Slug | None = None
    head: Slug | None = None


class CloseElection(BaseModel):
    model_config = _CMD
    do: Literal["close_election"] = "close_election"


class AppointLeaders(BaseModel):
    model_config = _CMD
    do: Literal["appoint_leaders"] = "appoint_leaders"
    head: Slug
    deputy: Slug


class ExtendDeadline(BaseModel):
    model_config = _CMD
    do: Literal["extend_deadline"] = "extend_deadline"
    stage: Slug
    until: UtcDatetime
    note: Text | None = Field(default=None, exclude_if=_absent)
    """Why (recorded in the event); the pages require it, the rules do not. Absent from the
    command's JSON when not given (its idempotency binding stays as before)."""


class CancelCycle(BaseModel):
    model_config = _CMD
    do: Literal["cancel_cycle"] = "cancel_cycle"
    reason: Text = Field(min_length=1)


class ExpireDeadline(BaseModel):
    """Given by the system when a deadline's durable timer fires."""

    model_config = _CMD
    do: Literal["expire_deadline"] = "expire_deadline"
    stage: Slug


Command = Annotated[
    StartCycle
    | SignPledge
    | ClosePledge
    | SubmitSelfScore
    | VerifyScore
    | CloseScoring
    | HoldReview
    | CorrectScore
    | RecordFinding
    | WithdrawFinding
    | CloseDisciplineCheck
    | BreakTie
    | OpenVoteRound
    | CastBallot
    | CloseVoteRound
    | LeadersDecide
    | OpenElection
    | CastElectionBallot
    | CloseElection
    | AppointLeaders
    | ExtendDeadline
    | CancelCycle
    | ExpireDeadline,
    Field(discriminator="do"),
]

CommandAdapter: TypeAdapter[Command] = TypeAdapter(Command)

COMMAND_NAMES: tuple[str, ...] = tuple(
    cls.model_fields["do"].default
    for cls in BaseModel.__subclasses__()
    if cls.__module__ == __name__ and "do" in cls.model_fields
)
