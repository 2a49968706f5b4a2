"""A time limit as people count it: days left (or days overdue) to a deadline, in the page's language.

>>> import datetime as dt
>>> now = dt.datetime(2025, 3, 1, 9)
>>> deadline_view(dt.datetime(2025, 3, 4, 8), now, "zh")
{'days': 3, 'late': False, 'text': '剩 3 天'}
>>> deadline_view(dt.datetime(2025, 2, 27, 8), now, "en")
{'days': -2, 'late': True, 'text': '2 days overdue'}
>>> deadline_view(dt.datetime(2025, 3, 1, 12), now, "zh")["text"], deadline_view(None, now, "zh")
('今天到期', None)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from jingzhun.web.timefmt import local_date


def deadline_view(due: dt.datetime | dt.date | None, now: dt.datetime, lang: str) -> dict[str, Any] | None:
    """Calendar days from today to ``due`` in the configured time zone: ``days`` (negative when
    late), ``late`` and ``text`` (剩 3 天 / 3 days left, 今天到期 / due today, 超期 2 天 / 2 days overdue)."""
    if due is None:
        return None
    days = ((local_date(due) or now.date()) - (local_date(now) or now.date())).days
    if lang == "en":
        unit = "day" if abs(days) == 1 else "days"
        text = f"{days} {unit} left" if days > 0 else "due today" if days == 0 else f"{-days} {unit} overdue"
    else:
        text = f"剩 {days} 天" if days > 0 else "今天到期" if days == 0 else f"超期 {-days} 天"
    return {"days": days, "late": days < 0, "text": text}
