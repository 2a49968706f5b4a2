"""Masking of private fields in records shown to people who may not see them in full."""

from __future__ import annotations

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
