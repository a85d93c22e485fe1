"""The province's saved score sheets and rulesets: each save is one event of its stream, and
its version is the event's version there. A cycle pins the sheet and ruleset it starts with
(CycleStarted carries them whole, with their version), so a later save changes no cycle.

- `sheets-{province}-{year}`: `score_sheet_saved`, the sheet of that year (ScoreSheet.version
  is the event's version);
- `rulesets-{province}`: `ruleset_saved`, the province's rules (Ruleset.version likewise).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from .events import Envelope
from .province import province_slug
from .setup import Ruleset, ScoreSheet

__all__ = [
    "SETUP_EVENT_TYPES",
    "RulesetSaved",
    "ScoreSheetSaved",
    "SetupEventAdapter",
    "rulesets_stream",
    "sheets_stream",
]


def sheets_stream(province: str, year: int, prefix: str = "") -> str:
    return f"{prefix}sheets-{province_slug(province)}-{year}"


def rulesets_stream(province: str, prefix: str = "") -> str:
    return f"{prefix}rulesets-{province_slug(province)}"


class ScoreSheetSaved(Envelope):
    type: Literal["score_sheet_saved"] = "score_sheet_saved"
    province: str
    year: int
    sheet: ScoreSheet


class RulesetSaved(Envelope):
    type: Literal["ruleset_saved"] = "ruleset_saved"
    province: str
    ruleset: Ruleset


SetupEvent = Annotated[ScoreSheetSaved | RulesetSaved, Field(discriminator="type")]
SetupEventAdapter: TypeAdapter[ScoreSheetSaved | RulesetSaved] = TypeAdapter(SetupEvent)
SETUP_EVENT_TYPES = ("score_sheet_saved", "ruleset_saved")
