"""Path and query values, bounded and typed before any of them reaches the store, Temporal or a
date function. One place for each bound (the routes of the JSON API and the pages use these):

    block, unit   an id, `^[a-z0-9][a-z0-9._-]{0,63}$` (domain.values.ID_PATTERN)
    province      1 to 200 characters, no control character (a NUL cannot reach PostgreSQL)
    year          an integer from 1945 to 2200 (domain.values.Year)
    version       an integer from 1 to 2**31 − 1 (a stream's version)
    a moment      ISO 8601, at most 40 characters, its date from 1945 to 2200 once in UTC

The JSON API answers a value out of bounds with 422 naming the parameter (app/http/errors.py);
the pages answer a path that cannot name a cycle with their 404 page and a query value out of
bounds with the field's sentence (422).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator

from domain.values import ID_PATTERN

__all__ = [
    "MAX_VERSION",
    "YEAR_MAX",
    "YEAR_MIN",
    "AsOf",
    "BlockId",
    "Province",
    "ProvinceYear",
    "UnitId",
    "is_id",
    "moment_of",
    "version_of",
    "year_of",
]

YEAR_MIN, YEAR_MAX = 1945, 2200
MAX_VERSION = 2**31 - 1
PROVINCE_MAX = 200
_ID = re.compile(ID_PATTERN, re.ASCII)
_DIGITS = re.compile(r"[0-9]{1,10}", re.ASCII)
_PROVINCE = r"^[^\x00-\x1f\x7f]+$"


def is_id(text: str) -> bool:
    return _ID.fullmatch(text) is not None


def year_of(text: str) -> int | None:
    """`text` as an emulation year, or None."""
    if len(text) != 4 or not _DIGITS.fullmatch(text):
        return None
    year = int(text)
    return year if YEAR_MIN <= year <= YEAR_MAX else None


def version_of(text: str) -> int | None:
    """`text` as a stream version (1 to MAX_VERSION), or None."""
    if not _DIGITS.fullmatch(text):
        return None
    version = int(text)
    return version if 1 <= version <= MAX_VERSION else None


def moment_of(text: str, zone: tzinfo = UTC) -> datetime | None:
    """`text` (ISO 8601; without an offset it is read in `zone`) as a moment in UTC, or None
    when it is no such moment or lies outside the years YEAR_MIN to YEAR_MAX."""
    if len(text) > 40:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return _bounded(moment if moment.tzinfo else moment.replace(tzinfo=zone))


def _bounded(moment: datetime) -> datetime | None:
    # the bound is checked on the local date first: converting 0001-01-01 at +07:00 (or
    # 9999-12-31 at -23:59) to UTC overflows
    if not YEAR_MIN <= moment.year <= YEAR_MAX:
        return None
    utc = moment.astimezone(UTC)
    return utc if YEAR_MIN <= utc.year <= YEAR_MAX else None


def _as_of(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive_datetime: a moment needs a time zone (e.g. +07:00 or Z)")
    bounded = _bounded(value)
    if bounded is None:
        raise ValueError(f"invalid_date: a moment from {YEAR_MIN} to {YEAR_MAX}")
    return bounded


BlockId = Annotated[
    str, Path(pattern=f"^{ID_PATTERN}$", max_length=64, description="block id, e.g. kg-khoi-2")
]
UnitId = Annotated[
    str, Path(pattern=f"^{ID_PATTERN}$", max_length=64, description="unit id, e.g. so-khdt")
]
Province = Annotated[
    str,
    Path(
        min_length=1,
        max_length=PROVINCE_MAX,
        pattern=_PROVINCE,
        description="the province, as its blocks name it",
    ),
]
ProvinceYear = Annotated[int, Path(ge=YEAR_MIN, le=YEAR_MAX, description="e.g. 2018")]
AsOf = Annotated[
    datetime | None,
    Query(description="ISO 8601 with a time zone, 1945 to 2200"),
    AfterValidator(_as_of),
]
