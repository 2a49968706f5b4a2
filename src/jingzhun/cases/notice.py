"""The village notice (村内公示): a printable HTML page and an xlsx sheet.

A notice shows only what the village may see on a wall: the household head's name, the village, the
monitoring type and the reason in plain words taken from a fixed vocabulary per risk type. It never
shows ID numbers, phone numbers, bank accounts, health status or the officers' free-text notes: the rows
are built from an allow-list of fields (:data:`NOTICE_COLUMNS`), not by removing things.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from jingzhun.ops.models import MonitoringCase

NOTICE_COLUMNS = (
    ("head_name", "户主姓名"),
    ("village", "所在村"),
    ("monitoring_type", "监测类型"),
    ("reason", "主要原因"),
)

#: plain words per risk type; none of them names an illness or a disability
PLAIN_REASONS: dict[str, str] = {
    "因病": "家庭刚性支出大幅增加",
    "因残": "家庭劳动能力下降、支出增加",
    "因学": "教育支出较大",
    "因灾": "遭受自然灾害损失",
    "因意外事故": "遭遇意外事故",
    "因产业项目失败": "产业经营受损、收入下降",
    "因务工就业不稳": "务工就业不稳定、收入下降",
    "缺劳动力": "家庭劳动力不足",
    "住房出现安全问题": "住房安全存在问题",
    "饮水安全问题": "饮水安全存在问题",
    "其他": "其他困难",
}

KIND_TITLES = {"in_notice": "拟纳入防止返贫监测对象公示", "elim_notice": "拟消除返贫致贫风险公示"}

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)


def plain_reason(risk_type: str | None) -> str:
    """The reason as printed on a notice.

    >>> plain_reason("因病"), plain_reason(None)
    ('家庭刚性支出大幅增加', '其他困难')
    """
    return PLAIN_REASONS.get(risk_type or "其他", PLAIN_REASONS["其他"])


def notice_rows(cases: Iterable[MonitoringCase], village_name: str) -> list[dict[str, str]]:
    """One row per case, with exactly the :data:`NOTICE_COLUMNS`."""
    return [
        {
            "head_name": c.head_name,
            "village": village_name,
            "monitoring_type": c.monitoring_type or "待定",
            "reason": plain_reason(c.risk_type),
            "kind": KIND_TITLES.get(c.state, ""),
        }
        for c in cases
    ]


def _period(cases: list[MonitoringCase]) -> tuple[dt.date | None, dt.date | None]:
    starts = [c.notice_start for c in cases if c.notice_start]
    ends = [c.notice_end for c in cases if c.notice_end]
    return (min(starts).date() if starts else None, max(ends).date() if ends else None)


def render_html(
    cases: list[MonitoringCase],
    village_code: str,
    village_name: str | None = None,
    today: dt.date | None = None,
) -> str:
    """A printable A4 page listing the village's households in notice, grouped by kind."""
    name = village_name or village_code
    rows = notice_rows(cases, name)
    start, end = _period(cases)
    groups = [(title, [r for r in rows if r["kind"] == title]) for title in KIND_TITLES.values()]
    return _ENV.get_template("notice.html").render(
        village=name,
        groups=[g for g in groups if g[1]],
        columns=NOTICE_COLUMNS,
        start=start,
        end=end,
        today=today or dt.date.today(),
        empty=not rows,
    )


def render_xlsx(cases: list[MonitoringCase], village_code: str, village_name: str | None = None) -> bytes:
    """The same notice as an xlsx workbook (one sheet, Chinese headers)."""
    from openpyxl import Workbook

    name = village_name or village_code
    wb = Workbook()
    ws = wb.active
    ws.title = "公示"
    start, end = _period(cases)
    ws.append([f"{name} 防止返贫监测公示"])
    ws.append([f"公示期：{start or ''} 至 {end or ''}"])
    ws.append(["公示类型", *[zh for _, zh in NOTICE_COLUMNS]])
    for row in notice_rows(cases, name):
        ws.append([row["kind"], *[row[key] for key, _ in NOTICE_COLUMNS]])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
