"""Monthly periods written ``YYYY-MM``.

>>> period_end("2024-02")
datetime.date(2024, 2, 29)
>>> shift("2025-01", -1), shift("2025-01", 13)
('2024-12', '2026-02')
>>> months_between("2024-11", "2025-02")
['2024-11', '2024-12', '2025-01', '2025-02']
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from jingzhun.errors import JingzhunError

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse(period: str) -> tuple[int, int]:
    match = _PERIOD.match(period or "")
    if not match:
        raise JingzhunError(f"period {period!r} must be written YYYY-MM, e.g. 2025-03")
    return int(match.group(1)), int(match.group(2))


def check(period: str) -> str:
    parse(period)
    return period


def period_start(period: str) -> dt.date:
    year, month = parse(period)
    return dt.date(year, month, 1)


def period_end(period: str) -> dt.date:
    year, month = parse(period)
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def shift(period: str, months: int) -> str:
    year, month = parse(period)
    index = year * 12 + (month - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    out = [check(first)]
    while out[-1] < last:
        out.append(shift(out[-1], 1))
    return out


def of_date(day: dt.date) -> str:
    """
    >>> of_date(dt.date(2025, 3, 31))
    '2025-03'
    """
    return f"{day.year:04d}-{day.month:02d}"
