"""A block's cycle of a year, planned from its record: the one way a start is made, for the
single block (app/blocks.py) and for a province's year (activities/year.py) alike.

Pure: the caller reads the block's state and finds its previous cycle; this judges them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .block_state import BlockState
from .commands import StartCycle
from .errors import RuleError
from .setup import Ruleset, ScoreSheet

__all__ = ["CLOSED_STAGES", "LOOKBACK_YEARS", "PreviousCycle", "command_of", "plan_start"]

C = TypeVar("C", bound=BaseModel)

LOOKBACK_YEARS = 10
"""How far back a block's previous cycle is looked for (a block may skip a year)."""

CLOSED_STAGES = ("completed", "cancelled")


class PreviousCycle(BaseModel):
    """The block's latest cycle before the year: its stage ("starting" while its workflow runs
    and has not yet written its start), and its ruleset and sheet once started."""

    model_config = ConfigDict(frozen=True)
    year: int
    stage: str
    ruleset: Ruleset | None = None
    score_sheet: ScoreSheet | None = None


def plan_start(
    state: BlockState,
    year: int,
    previous: PreviousCycle | None,
    *,
    ruleset: Ruleset | None = None,
    score_sheet: ScoreSheet | None = None,
    deadlines: Mapping[str, datetime] | None = None,
) -> StartCycle:
    """The start of the block's cycle of `year`: that year's members and leaders, and who
    leaves after it; ruleset and sheet default to the previous cycle's. Raises RuleError:
    `unknown_block`; `previous_cycle_open` while the previous cycle runs (its election names
    this year's leaders); `no_members` when no unit is a member that year;
    `no_previous_cycle` when a ruleset or sheet is missing and there is none to take it from;
    `leader_not_member`, `invalid_block` (block_for); a field of the command that breaks its rule
    (`invalid_year`, `invalid_input`), named."""
    if not state.registered:
        raise RuleError("unknown_block", "the block is not registered", "block")
    if previous is not None and previous.stage not in CLOSED_STAGES:
        raise RuleError(
            "previous_cycle_open",
            f"the cycle {state.block_id}/{previous.year} is still in stage {previous.stage!r}: "
            f"its election names the leaders of {year}",
            "year",
        )
    if not state.members_in(year):
        raise RuleError("no_members", f"the block has no members in {year}", "members")
    if ruleset is None or score_sheet is None:
        missing = "ruleset" if ruleset is None else "score_sheet"
        if previous is None or previous.ruleset is None or previous.score_sheet is None:
            raise RuleError(
                "no_previous_cycle",
                f"the block has no earlier cycle to take the {missing} from: give it",
                missing,
            )
        ruleset = ruleset or previous.ruleset
        score_sheet = score_sheet or previous.score_sheet
    return command_of(
        StartCycle,
        block=state.block_for(year),
        year=year,
        ruleset=ruleset,
        score_sheet=score_sheet,
        deadlines=dict(deadlines or {}),
        leaving_after_year=state.leaving_after(year),
    )


def command_of(cls: type[C], **fields: Any) -> C:
    """A command from plain fields; a field that breaks its rule is a RuleError naming it
    (`invalid_year` for a year, else `invalid_input`)."""
    try:
        return cls(**fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        code = "invalid_year" if field.endswith("year") else "invalid_input"
        raise RuleError(code, str(err["msg"]).removeprefix("Value error, "), field) from None
