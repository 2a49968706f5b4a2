"""The validation rules a row can break, with the message shown to people (Chinese, then English).

Codes are short and stable (they are stored in the quarantine); messages may change.

>>> message("range", min=0, max=12)
('超出允许范围 [0, 12]', 'out of the allowed range [0, 12]')
>>> message("id_check_digit")[1]
'the check character of the ID number is wrong'
"""

from __future__ import annotations

from jingzhun.ids import REASONS

RULES: dict[str, tuple[str, str]] = {
    "required": ("必填项为空", "required value is missing"),
    "enum": ("不是允许的取值（可选：{allowed}）", "not an allowed value (allowed: {allowed})"),
    "integer": ("不是整数", "not a whole number"),
    "number": ("不是数字", "not a number"),
    "range": ("超出允许范围 [{min}, {max}]", "out of the allowed range [{min}, {max}]"),
    "date": (
        "无法识别的日期（如 2024-01-05、2024/1/5、2024年1月5日、20240105）",
        "not a date (e.g. 2024-01-05, 2024/1/5, 2024年1月5日, 20240105)",
    ),
    "month": (
        "无法识别的年月（如 2024-01、2024年1月、202401）",
        "not a month (e.g. 2024-01, 2024年1月, 202401)",
    ),
    "bool": ("应为 是/否", "must be yes/no (是/否, Y/N, 1/0, true/false)"),
    "region_code": (
        "区划代码应为12位数字（或6位县级代码）",
        "region code must have 12 digits (or 6 for a county)",
    ),
    "duplicate": ("与第 {first} 行重复（{key}）", "duplicate of row {first} ({key})"),
    "digits_lost": (
        "账号被表格软件存成了数字（科学计数法或末尾补0），后几位已丢失，无法恢复，请将该列设为文本后重新导出",
        "the account number was stored as a number by the spreadsheet (scientific notation or trailing "
        "zeros); its last digits are lost: set the column to text and export again",
    ),
    "too_long": (
        "内容超过 32767 个字符（一个 Excel 单元格的上限）",
        "longer than 32,767 characters (the most an Excel cell holds)",
    ),
    **{f"id_{code}": texts for code, texts in REASONS.items()},
    # not a reason of jingzhun.ids.check (the number may be genuine): ingest refuses it all the same,
    # because Excel writes this shape back for every ID number it stored as a number
    "id_excel_rounded": (
        "证件号码末三位是 000：Excel 把它当作数字只保留了前15位，后3位被改成了0（原号码已丢失，无法恢复），"
        "请将该列设为文本后重新导出",
        "the ID number ends in 000: Excel stored it as a number, kept its first 15 digits and wrote "
        "zeros for the last 3 (the real number is lost): set the column to text and export again",
    ),
}


def message(code: str, **params: object) -> tuple[str, str]:
    """The (Chinese, English) message of a rule code, with its parameters filled in."""
    zh, en = RULES[code]
    return zh.format(**params), en.format(**params)
