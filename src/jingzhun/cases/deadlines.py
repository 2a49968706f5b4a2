"""Time limits and follow-up intervals: small date arithmetic and the SQL expressions for the flags.

The flags are computed by the database in the list query (no Python loop over cases), from the stored
``due_at`` (set when the case opens: first clue + the province's limit) and the follow-up rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select

from jingzhun.cases.workflow import IDENTIFICATION_STATES, MONITORED_STATES
from jingzhun.ops.models import FollowUp, MonitoringCase


def due_at(opened_at: dt.datetime, days: int) -> dt.datetime:
    """The deadline for county confirmation.

    >>> due_at(dt.datetime(2026, 3, 1, 9, 30), 15)
    datetime.datetime(2026, 3, 16, 9, 30)
    """
    return opened_at + dt.timedelta(days=days)


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier (clamped to the month's last day).

    >>> months_before(dt.date(2026, 8, 31), 6)
    datetime.date(2026, 2, 28)
    >>> months_before(dt.date(2026, 3, 15), 6)
    datetime.date(2025, 9, 15)
    """
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    next_month = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


def last_follow_up() -> Any:
    """Correlated subquery: the latest follow-up visit date of the case."""
    return (
        select(func.max(FollowUp.visit_date))
        .where(FollowUp.case_id == MonitoringCase.id)
        .correlate(MonitoringCase)
        .scalar_subquery()
    )


def overdue(now: dt.datetime) -> ColumnElement[bool]:
    """Still being identified and past its deadline."""
    return and_(MonitoringCase.state.in_(IDENTIFICATION_STATES), MonitoringCase.due_at < now)


def follow_up_due(now: dt.datetime, months: int) -> ColumnElement[bool]:
    """A monitoring object whose last follow-up (or, before any, its confirmation) is older than
    ``months``."""
    cutoff = dt.datetime.combine(months_before(now.date(), months), dt.time())
    last = func.coalesce(last_follow_up(), MonitoringCase.confirmed_at)
    return and_(MonitoringCase.state.in_(MONITORED_STATES), last < cutoff)
