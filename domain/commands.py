"""Commands: imperative, one discriminated union on `do` (the names of the scenario format)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from .events import Absence
from .setup import Block, Ruleset, ScoreSheet
from .values import FindingKind, Score, UtcDatetime

__all__ = ["COMMAND_NAMES", "Command", "CommandAdapter"]

_CMD = ConfigDict(frozen=True, extra="forbid")


class StartCycle(BaseModel):
    model_config = _CMD
    do: Literal["start_cycle"] = "start_cycle"
    block: Block
    year: int = Field(ge=1945, le=2200)
    ruleset: Ruleset = Ruleset()
    score_sheet: ScoreSheet
    deadlines: dict[str, UtcDatetime] = Field(default_factory=dict)
    title: str = ""


class SignPledge(BaseModel):
    model_config = _CMD
    do: Literal["sign_pledge"] = "sign_pledge"
    unit: str


class ClosePledge(BaseModel):
    model_config = _CMD
    do: Literal["close_pledge"] = "close_pledge"


class SubmitSelfScore(BaseModel):
    model_config = _CMD
    do: Literal["submit_self_score"] = "submit_self_score"
    unit: str
    sections: dict[str, Score]


class VerifyScore(BaseModel):
    model_config = _CMD
    do: Literal["verify_score"] = "verify_score"
    unit: str
    sections: dict[str, Score]
    note: str = ""


class CloseScoring(BaseModel):
    model_config = _CMD
    do: Literal["close_scoring"] = "close_scoring"


class HoldReview(BaseModel):
    model_config = _CMD
    do: Literal["hold_review"] = "hold_review"
    held_on: date
    present: tuple[str, ...]
    absent: tuple[Absence, ...] = ()


class CorrectScore(BaseModel):
    model_config = _CMD
    do: Literal["correct_score"] = "correct_score"
    unit: str
    sections: dict[str, Score]
    note: str = ""


class RecordFinding(BaseModel):
    model_config = _CMD
    do: Literal["record_finding"] = "record_finding"
    unit: str
    kind: FindingKind
    reference: str = Field(min_length=1)
    note: str = ""


class WithdrawFinding(BaseModel):
    model_config = _CMD
    do: Literal["withdraw_finding"] = "withdraw_finding"
    unit: str
    kind: str


class CloseDisciplineCheck(BaseModel):
    model_config = _CMD
    do: Literal["close_discipline_check"] = "close_discipline_check"


class BreakTie(BaseModel):
    model_config = _CMD
    do: Literal["break_tie"] = "break_tie"
    order: tuple[str, ...] = Field(min_length=2)


class OpenVoteRound(BaseModel):
    model_config = _CMD
    do: Literal["open_vote_round"] = "open_vote_round"


class CastBallot(BaseModel):
    model_config = _CMD
    do: Literal["cast_ballot"] = "cast_ballot"
    approve: tuple[str, ...] = ()


class CloseVoteRound(BaseModel):
    model_config = _CMD
    do: Literal["close_vote_round"] = "close_vote_round"


class PlaceChoice(BaseModel):
    model_config = _CMD
    place: int = Field(ge=1)
    unit: str


class LeadersDecide(BaseModel):
    model_config = _CMD
    do: Literal["leaders_decide"] = "leaders_decide"
    places: tuple[PlaceChoice, ...] = Field(min_length=1)
    deputy_agrees: bool = False


class OpenElection(BaseModel):
    model_config = _CMD
    do: Literal["open_election"] = "open_election"


class CastElectionBallot(BaseModel):
    model_config = _CMD
    do: Literal["cast_election_ballot"] = "cast_election_ballot"
    deputy: str | None = None
    head: str | None = None


class CloseElection(BaseModel):
    model_config = _CMD
    do: Literal["close_election"] = "close_election"


class AppointLeaders(BaseModel):
    model_config = _CMD
    do: Literal["appoint_leaders"] = "appoint_leaders"
    head: str
    deputy: str


class ExtendDeadline(BaseModel):
    model_config = _CMD
    do: Literal["extend_deadline"] = "extend_deadline"
    stage: str
    until: UtcDatetime


class CancelCycle(BaseModel):
    model_config = _CMD
    do: Literal["cancel_cycle"] = "cancel_cycle"
    reason: str = Field(min_length=1)


class ExpireDeadline(BaseModel):
    """Given by the system when a deadline's durable timer fires."""

    model_config = _CMD
    do: Literal["expire_deadline"] = "expire_deadline"
    stage: str


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
