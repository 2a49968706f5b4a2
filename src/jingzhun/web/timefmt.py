"""Times as people read them: stored times are UTC (naive or aware); pages show them in the configured
time zone (``JINGZHUN_TIME_ZONE``, default Asia/Shanghai) with the zone named, e.g. ``2025-03-01 16:05
(北京时间)`` or ``2025-03-01 16:05 (UTC+8)``.

>>> import datetime as dt
>>> local(dt.datetime(2025, 3, 1, 8, 5), "%Y-%m-%d %H:%M", "zh")
'2025-03-01 16:05 北京时间'
>>> local(dt.datetime(2025, 3, 1, 8, 5), "%Y-%m-%d %H:%M", "en")
'2025-03-01 16:05 UTC+8'
>>> local(dt.date(2025, 3, 1), "%Y-%m-%d", "en"), local(None, "%Y-%m-%d", "zh")
('2025-03-01', '')
>>> local(dt.datetime(2025, 3, 1, 20, 0), "%Y-%m-%d", "zh")  # the day in Beijing, no time: no label
'2025-03-02'
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Shanghai"
_zone: ZoneInfo = ZoneInfo(os.environ.get("JINGZHUN_TIME_ZONE") or DEFAULT_ZONE)


def configure(name: str | None) -> None:
    """Use the time zone ``name`` (an IANA name) for every page of this process."""
    global _zone
    _zone = ZoneInfo(name or DEFAULT_ZONE)


def zone() -> ZoneInfo:
    return _zone


def to_local(when: dt.datetime) -> dt.datetime:
    aware = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return aware.astimezone(_zone)


def zone_label(lang: str) -> str:
    """北京时间 / UTC+8 for Asia/Shanghai; the zone's UTC offset otherwise."""
    if _zone.key in ("Asia/Shanghai", "Asia/Chongqing", "PRC") and lang != "en":
        return "北京时间"
    offset = dt.datetime.now(_zone).utcoffset() or dt.timedelta(0)
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    return f"UTC{hours:+d}" + (f":{rest // 60:02d}" if rest else "")


def local(when: dt.datetime | dt.date | None, fmt: str, lang: str) -> str:
    """``when`` (UTC) in the configured zone, formatted, with the zone named when a time of day is shown;
    dates as they are."""
    if when is None:
        return ""
    if not isinstance(when, dt.datetime):
        return when.strftime(fmt)
    shown = to_local(when).strftime(fmt)
    return f"{shown} {zone_label(lang)}" if "%H" in fmt else shown


def local_date(when: dt.datetime | dt.date | None) -> dt.date | None:
    """The calendar day of ``when`` in the configured zone."""
    if when is None:
        return None
    return to_local(when).date() if isinstance(when, dt.datetime) else when
