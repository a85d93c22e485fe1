"""The time a cycle may set deadlines in: its emulation year and the review season after it.

A cycle of year Y runs its pledge and scoring within Y and holds its review conference, vote
and election in the first months of Y + 1 (the reference case: scoring closed 28/2/2019,
reviewed 8/3/2019). Its deadlines therefore lie from 1 January of Y to the end of June of Y + 1,
in Vietnam's time; a deadline outside is `invalid_deadline` naming it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from .errors import RuleError

__all__ = ["REVIEW_SEASON_END_MONTH", "check_deadline", "season"]

VIETNAM = timezone(timedelta(hours=7), "ICT")
REVIEW_SEASON_END_MONTH = 6
"""The review season of year Y ends with this month of Y + 1 (inclusive)."""


def season(year: int) -> tuple[datetime, datetime]:
    """[start, end) of the deadlines of a cycle of `year`."""
    start = datetime(year, 1, 1, tzinfo=VIETNAM)
    end = datetime(year + 1, REVIEW_SEASON_END_MONTH + 1, 1, tzinfo=VIETNAM)
    return start, end


def check_deadline(year: int, at: datetime, field: str) -> None:
    """Raise `invalid_deadline` naming `field` when `at` is outside the cycle's season."""
    start, end = season(year)
    if not start <= at < end:
        raise RuleError(
            "invalid_deadline",
            f"{field} {at.isoformat()} is outside the {year} cycle's time: from 01/01/{year} "
            f"to the end of the review season, 30/{REVIEW_SEASON_END_MONTH:02d}/{year + 1}",
            field,
        )
