"""Masking of private fields in records shown to people who may not see them in full."""

from __future__ import annotations

import re
from typing import Any

from jingzhun import ids

MASKED_KEYS = ("id_number", "id_number_raw")
PARTIAL_KEYS = ("phone", "bank_account")


def mask_tail(value: str | None, keep: int = 4) -> str:
    """Keep the last ``keep`` characters.

    >>> mask_tail("13912345678"), mask_tail(None)
    ('*******5678', '')
    """
    if not value:
        return ""
    text = str(value)
    return "*" * max(len(text) - keep, 0) + text[-keep:]


def mask_record(value: Any) -> Any:
    """A copy of a (nested) record with ID numbers masked and phones/bank accounts cut to their tail.

    >>> mask_record({"name": "张三", "m": [{"id_number": "11010519491231002X", "phone": "13912345678"}]})
    {'name': '张三', 'm': [{'id_number': '1101**********002X', 'phone': '*******5678'}]}
    """
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in MASKED_KEYS and item is not None:
                out[key] = ids.mask(str(item))
            elif key in PARTIAL_KEYS and item is not None:
                out[key] = mask_tail(str(item))
            else:
                out[key] = mask_record(item)
        return out
    if isinstance(value, list):
        return [mask_record(v) for v in value]
    return value


_ID_LIKE = re.compile(r"\d{6}[\d\s.*Ee+\-]{6,}[\dXx]?")


def mask_middle(value: object) -> str:
    """Any text that is (or was meant to be) an ID number: keep the first and last four characters,
    hide the rest; short values are hidden whole.

    >>> mask_middle("11010519491231002X"), mask_middle("5.20121E+17"), mask_middle("1234567")
    ('1101**********002X', '5.20***E+17', '*******')
    """
    text = str(value).strip()
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def mask_rejected_row(row: dict[str, Any], id_columns: set[str], private_columns: set[str]) -> dict[str, Any]:
    """A rejected row as people may see it: values of ID-number columns masked whatever they look like
    (an invalid number is still a person's number), phones and bank accounts cut to their tail, and any
    other cell that looks like an ID number masked too (a column with an unknown header).

    >>> mask_rejected_row({"证件号码": "52012119", "备注": "520121195001010011", "姓名": "张三"}, {"证件号码"}, set())
    {'证件号码': '********', '备注': '5201**********0011', '姓名': '张三'}
    """
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or value == "":
            out[key] = value
        elif key in id_columns:
            out[key] = mask_middle(value)
        elif key in private_columns:
            out[key] = mask_tail(str(value))
        elif isinstance(value, str) and _ID_LIKE.fullmatch(value.strip()):
            out[key] = mask_middle(value)
        else:
            out[key] = value
    return out

