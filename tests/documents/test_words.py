"""Dates, numbers and reasons are written as Vietnamese administrative documents write them
(app/words.py, the voice of the pages and the minutes alike)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from app.words import (
    EXCLUSION,
    fraction_words,
    percent,
    reason_words,
    vn_date,
    vn_date_long,
    vn_number,
    vn_time,
)
from domain.setup import FINDING_KINDS

pytestmark = pytest.mark.pure


@pytest.mark.parametrize(
    ("d", "text"),
    [
        (date(2019, 3, 8), "08/3/2019"),
        (date(2019, 1, 5), "05/01/2019"),
        (date(2019, 2, 28), "28/02/2019"),
        (date(2019, 12, 31), "31/12/2019"),
    ],
)
def test_a_day_below_ten_and_the_months_one_and_two_take_a_leading_zero(d: date, text: str) -> None:
    assert vn_date(d) == text


def test_the_long_date_reads_as_in_a_document_heading() -> None:
    assert vn_date_long(date(2019, 3, 8)) == "ngày 08 tháng 3 năm 2019"


def test_times_are_shown_in_vietnam_time() -> None:
    assert vn_time(datetime(2019, 3, 8, 7, 5, tzinfo=UTC)) == "14:05 08/3/2019"
    assert vn_date(datetime(2019, 3, 7, 18, 0, tzinfo=UTC)) == "08/3/2019"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("983.5"), "983,5"),
        (Decimal("976"), "976"),
        (Decimal("976.00"), "976"),
        (Decimal("190.40"), "190,4"),
        (Decimal("1000"), "1.000"),
        (Decimal("12345.25"), "12.345,25"),
        (Decimal("0"), "0"),
        (Decimal("0.5"), "0,5"),
    ],
)
def test_decimals_take_a_comma_and_the_dot_groups_thousands(value: Decimal, text: str) -> None:
    assert vn_number(value) == text


def test_percentages_keep_two_places_rounded_half_up() -> None:
    assert percent(6, 7) == "85,71%"
    assert percent(2, 3) == "66,67%"
    assert percent(7, 7) == "100%"
    assert percent(0, 0) == "0%"


def test_every_exclusion_reason_has_words() -> None:
    for code in (*FINDING_KINDS, "no_pledge", "not_scored", "below_area_floor"):
        assert EXCLUSION[code] and "_" not in EXCLUSION[code]
    assert reason_words(["court_conclusion", "leader_disciplined"]) == (
        "có kết luận của Tòa án; lãnh đạo bị xử lý kỷ luật"
    )


def test_fractions_read_as_written() -> None:
    assert fraction_words(Fraction(2, 3)) == "2/3"
    assert fraction_words(Fraction(1)) == "1"
