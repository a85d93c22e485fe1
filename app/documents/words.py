"""How the minutes write dates, numbers and reasons: plain administrative Vietnamese (UI.md).

Dates follow the administrative convention (Nghị định 30/2020/NĐ-CP): a day below 10 and the
months 1 and 2 take a leading zero, so 8 March 2019 is `08/3/2019` and 5 January is `05/01`.
Decimals use a comma and the dot groups thousands: `983,5`, `1.000`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

from ..vocabulary import EXCLUSION

__all__ = [
    "FINDING_WORDS",
    "REASON_WORDS",
    "VN_TIME",
    "day_month",
    "fraction_words",
    "percent",
    "reason_words",
    "vn_date",
    "vn_date_long",
    "vn_datetime",
    "vn_number",
]

# Asia/Ho_Chi_Minh has kept UTC+7 without daylight saving since 1975; a fixed offset needs no
# time-zone database on the machine that prints.
VN_TIME = timezone(timedelta(hours=7), "ICT")

REASON_WORDS: dict[str, str] = EXCLUSION
FINDING_WORDS = REASON_WORDS


def reason_words(codes: tuple[str, ...] | list[str]) -> str:
    """Reason codes in words, joined by semicolons, in the order given."""
    return "; ".join(REASON_WORDS.get(c, c) for c in codes)


def day_month(d: date) -> tuple[str, str]:
    day = f"{d.day:02d}"
    month = f"{d.month:02d}" if d.month < 3 else str(d.month)
    return day, month


def vn_date(d: date | datetime) -> str:
    """`08/3/2019`."""
    if isinstance(d, datetime):
        d = d.astimezone(VN_TIME).date()
    day, month = day_month(d)
    return f"{day}/{month}/{d.year}"


def vn_date_long(d: date) -> str:
    """`ngày 08 tháng 3 năm 2019`."""
    day, month = day_month(d)
    return f"ngày {day} tháng {month} năm {d.year}"


def vn_datetime(at: datetime) -> str:
    """`14:05 08/3/2019`, in Vietnam's time."""
    local = at.astimezone(VN_TIME)
    return f"{local:%H:%M} {vn_date(local.date())}"


def vn_number(value: Decimal | int | None, places: int | None = None) -> str:
    """`983,5`, `976`, `1.000`; `places` rounds half up first (for percentages)."""
    if value is None:
        return ""
    d = Decimal(value)
    if places is not None:
        d = d.quantize(Decimal(1).scaleb(-places), rounding="ROUND_HALF_UP")
    text = format(d.normalize(), "f") if d != 0 else "0"
    sign = ""
    if text.startswith("-"):
        sign, text = "-", text[1:]
    whole, _, frac = text.partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    out = ".".join(groups)
    return f"{sign}{out},{frac}" if frac else f"{sign}{out}"


def percent(part: int, whole: int) -> str:
    """`85,71%`; `0%` of nothing."""
    if whole <= 0:
        return "0%"
    return f"{vn_number(Decimal(part) * 100 / Decimal(whole), places=2)}%"


def fraction_words(f: Fraction) -> str:
    """`1/2`, `2/3`; whole numbers as themselves."""
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"
