"""Checking the fields of a page form before they reach a service: each problem becomes a message in
Chinese (the message id; English comes from messages.po) attached to the field, so the page can show it
beside the field and keep what the user typed.

>>> values, errors = measure_form({"measure_type": "就业", "helper": " 李干部 ", "start_date": "2025/3/1",
...                                "amount": "1,200.5"})
>>> errors, values["helper"], values["start_date"], values["amount"]
({}, '李干部', datetime.date(2025, 3, 1), Decimal('1200.50'))
>>> measure_form({"measure_type": "x", "start_date": "3月1日", "amount": "-5"})[1]  # doctest: +NORMALIZE_WHITESPACE
{'measure_type': '请选择帮扶措施类型', 'helper': '请填写帮扶责任人',
 'start_date': '日期格式应为 年-月-日，如 2025-03-01', 'amount': '金额应为不小于 0 的数字'}
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from jingzhun.cases import workflow

_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
MAX_TEXT = 2000

#: every message these checks produce (the i18n test checks that each has an English translation)
MESSAGES = (
    "请选择帮扶措施类型",
    "请填写帮扶责任人",
    "请填写开始日期",
    "日期格式应为 年-月-日，如 2025-03-01",
    "结束日期不能早于开始日期",
    "金额应为不小于 0 的数字",
    "请填写走访日期",
    "走访日期不能晚于今天",
    "请填写走访人",
    "请填写走访情况",
    "内容过长（不超过 2000 字）",
    "姓名过长（不超过 100 字）",
)

Errors = dict[str, str]


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def parse_date(text: str) -> dt.date | None:
    """A date typed as 2025-03-01, 2025/3/1, 2025.3.1 or 2025年3月1日; None when it is not one.

    >>> parse_date("2025年3月1日"), parse_date("2025-02-30"), parse_date("20250301")
    (datetime.date(2025, 3, 1), None, None)
    """
    m = _DATE.match(text.strip())
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _date(form: Mapping[str, Any], name: str, errors: Errors, missing: str | None) -> dt.date | None:
    text = _text(form, name)
    if not text:
        if missing:
            errors[name] = missing
        return None
    value = parse_date(text)
    if value is None:
        errors[name] = "日期格式应为 年-月-日，如 2025-03-01"
    return value


def _name(form: Mapping[str, Any], name: str, errors: Errors, missing: str) -> str:
    value = _text(form, name)
    if not value:
        errors[name] = missing
    elif len(value) > 100:
        errors[name] = "姓名过长（不超过 100 字）"
    return value


def _long_text(form: Mapping[str, Any], name: str, errors: Errors, missing: str | None) -> str | None:
    value = _text(form, name)
    if not value and missing:
        errors[name] = missing
    elif len(value) > MAX_TEXT:
        errors[name] = "内容过长（不超过 2000 字）"
    return value or None


def measure_form(form: Mapping[str, Any]) -> tuple[dict[str, Any], Errors]:
    """The fields of an assistance measure (帮扶措施) and the problems found, by field."""
    errors: Errors = {}
    measure_type = _text(form, "measure_type")
    if measure_type not in workflow.MEASURE_TYPES:
        errors["measure_type"] = "请选择帮扶措施类型"
    helper = _name(form, "helper", errors, "请填写帮扶责任人")
    start = _date(form, "start_date", errors, "请填写开始日期")
    end = _date(form, "end_date", errors, None)
    if start and end and end < start:
        errors["end_date"] = "结束日期不能早于开始日期"
    amount: Decimal | None = None
    raw = _text(form, "amount").replace(",", "").replace("，", "")
    if raw:
        try:
            amount = Decimal(raw).quantize(Decimal("0.01"))
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount < 0:
            errors["amount"] = "金额应为不小于 0 的数字"
    description = _long_text(form, "description", errors, None)
    values = {
        "measure_type": measure_type,
        "helper": helper,
        "start_date": start,
        "end_date": end,
        "amount": amount,
        "description": description,
    }
    return values, errors


def follow_up_form(form: Mapping[str, Any], today: dt.date) -> tuple[dict[str, Any], Errors]:
    """The fields of a follow-up visit (跟踪回访) and the problems found, by field.

    >>> follow_up_form({"visit_date": "2025-03-02", "visitor": "王", "findings": "好"},
    ...                dt.date(2025, 3, 1))[1]
    {'visit_date': '走访日期不能晚于今天'}
    """
    errors: Errors = {}
    visit = _date(form, "visit_date", errors, "请填写走访日期")
    if visit and visit > today:
        errors["visit_date"] = "走访日期不能晚于今天"
    visitor = _name(form, "visitor", errors, "请填写走访人")
    findings = _long_text(form, "findings", errors, "请填写走访情况")
    return {"visit_date": visit, "visitor": visitor, "findings": findings}, errors
