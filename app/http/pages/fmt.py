"""How the pages write dates, times and numbers (UI.md): `08/3/2019`, `14:05 08/3/2019` in
Asia/Ho_Chi_Minh, decimals with a comma (`983,5`), never rounded beyond their 2 places."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["VN", "days_left", "vn_date", "vn_decimal", "vn_time"]

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _local(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(VN)


def vn_date(value: date | datetime | str | None) -> str:
    """`08/3/2019`: day with two digits, month without a leading zero (as in official papers)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        value = _local(value).date()
    return f"{value.day:02d}/{value.month}/{value.year}"


def vn_time(value: datetime | str | None) -> str:
    """`14:05 08/3/2019` in Vietnam's time."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = _local(value)
    return f"{local:%H:%M} {vn_date(local)}"


def vn_decimal(value: Any) -> str:
    """`983,5`; thousands are not grouped (scores stay below 10 000)."""
    if value is None or value == "":
        return ""
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    whole = d == d.to_integral_value()
    text = str(d.quantize(Decimal(1))) if whole else format(d.normalize(), "f")
    return text.replace(".", ",")


def days_left(deadline: datetime | None, now: datetime | None = None) -> int | None:
    """Whole days from today to the deadline's day, both in Vietnam's calendar (0 = today,
    negative = past)."""
    if deadline is None:
        return None
    now = now or datetime.now(UTC)
    return (_local(deadline).date() - _local(now).date()).days
