"""GB 11643-1999 citizen identity numbers, one value at a time.

An 18-character number is: 6-digit area code, 8-digit birth date (YYYYMMDD), 3-digit sequence
(odd for men, even for women) and a check character computed with ISO 7064 MOD 11-2.
Old 15-digit numbers have a 2-digit year (19xx) and no check character; they can be upgraded.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"

# First two digits of every provincial-level division (GB/T 2260); 71 Taiwan, 81/82 Hong Kong/Macao.
PROVINCE_PREFIXES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)

# Reason codes, with the message shown to people in Chinese and English.
REASONS: dict[str, tuple[str, str]] = {
    "empty": ("证件号码为空", "ID number is empty"),
    "scientific_notation": (
        "证件号码被表格软件存成了数字（科学计数法或小数），后几位已丢失，无法恢复，请将该列设为文本后重新导出",
        "ID number was stored as a number (scientific notation or decimal) by the spreadsheet; its last "
        "digits are lost and cannot be recovered: set the column to text and export again",
    ),
    "characters": ("证件号码含有非法字符", "ID number contains characters other than digits and a final X"),
    "length": ("证件号码应为18位（或旧15位）", "ID number must have 18 characters (or the old 15 digits)"),
    "area_code": ("证件号码前6位地区码无效", "the 6-digit area code of the ID number is not a valid area"),
    "birth_date": ("证件号码中的出生日期无效", "the birth date inside the ID number is not a real past date"),
    "check_digit": ("证件号码校验位错误", "the check character of the ID number is wrong"),
}

_FULL_WIDTH = str.maketrans("０１２３４５６７８９ｘＸ", "0123456789XX")
_SPACES = re.compile(r"[\s\u3000\u200b\ufeff'\"‘’“”]+")
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE][+-]?\d+$|^\d+\.\d+$")


@dataclass(frozen=True)
class IdCheck:
    """Outcome of checking one ID number."""

    raw: str
    normalised: str | None
    valid: bool
    reason: str | None = None
    upgraded: bool = False

    @property
    def message_zh(self) -> str:
        return "有效" if self.valid else REASONS[self.reason or "characters"][0]

    @property
    def message_en(self) -> str:
        return "valid" if self.valid else REASONS[self.reason or "characters"][1]


def normalise(raw: object) -> str:
    """Remove spaces and quotes, turn full-width digits into ASCII and ``x`` into ``X``.

    >>> normalise(" １１０１０５ １９４９１２３１ ００２ｘ ")
    '11010519491231002X'
    >>> normalise("'110105194912310021")
    '110105194912310021'
    """
    text = "" if raw is None else str(raw)
    return _SPACES.sub("", text.translate(_FULL_WIDTH)).upper()


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits.

    >>> check_character("11010519491231002")
    'X'
    >>> check_character("44052418800101001")
    '4'
    """
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("check_character needs exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def upgrade_15(id15: str) -> str:
    """Upgrade an old 15-digit number: insert the century 19 and append the check character.

    >>> upgrade_15("110105491231002")
    '11010519491231002X'
    """
    if len(id15) != 15 or not id15.isdigit():
        raise ValueError("upgrade_15 needs exactly 15 digits")
    first17 = id15[:6] + "19" + id15[6:]
    return first17 + check_character(first17)


def _birth_date(digits8: str) -> dt.date | None:
    try:
        return dt.date(int(digits8[:4]), int(digits8[4:6]), int(digits8[6:8]))
    except ValueError:
        return None


def check(raw: object, today: dt.date | None = None) -> IdCheck:
    """Validate one ID number and return the normalised 18-character form or the reason it fails.

    >>> check("11010519491231002X").valid
    True
    >>> check("110105491231002").normalised, check("110105491231002").upgraded
    ('11010519491231002X', True)
    >>> check("110105194912310021").reason
    'check_digit'
    >>> check("1.10105E+17").reason
    'scientific_notation'
    >>> check("990105194912310021").reason
    'area_code'
    >>> check("110105194913310021").reason
    'birth_date'
    """
    text = "" if raw is None else str(raw)
    value = normalise(text)
    if not value:
        return IdCheck(text, None, False, "empty")
    if _SCIENTIFIC.match(value) or (isinstance(raw, float)):
        return IdCheck(text, None, False, "scientific_notation")
    upgraded = False
    if len(value) == 15:
        if not value.isdigit():
            return IdCheck(text, None, False, "characters")
        if value[:2] not in PROVINCE_PREFIXES:
            return IdCheck(text, None, False, "area_code")
        if _birth_date("19" + value[6:12]) is None:
            return IdCheck(text, None, False, "birth_date")
        value, upgraded = upgrade_15(value), True
    if not re.fullmatch(r"\d{17}[\dX]", value):
        if re.fullmatch(r"[\dX]+", value):
            return IdCheck(text, None, False, "length")
        return IdCheck(text, None, False, "characters")
    if value[:2] not in PROVINCE_PREFIXES or value[2:6] == "0000":
        return IdCheck(text, None, False, "area_code")
    born = _birth_date(value[6:14])
    if born is None or born.year < 1850 or born > (today or dt.date.today()):
        return IdCheck(text, None, False, "birth_date")
    if check_character(value[:17]) != value[17]:
        return IdCheck(text, None, False, "check_digit")
    return IdCheck(text, value, True, None, upgraded)


def looks_excel_rounded(raw: object) -> bool:
    """True for 18 digits ending in ``000``: what Excel writes back for an ID number it stored as a
    number (15 significant digits, then zeros). About one in eleven such numbers still passes the
    check digit, so an import must refuse them rather than store someone else's number.

    >>> looks_excel_rounded("110105194912310000"), looks_excel_rounded("11010519491231002X")
    (True, False)
    """
    value = normalise(raw)
    return len(value) == 18 and value.isdigit() and value.endswith("000")


def is_valid(raw: object) -> bool:
    """True when the number is a valid 18-digit number or an upgradable 15-digit one.

    >>> is_valid("11010519491231002X"), is_valid("11010519491231002Y")
    (True, False)
    """
    return check(raw).valid


def birth_date_of(id_number: str) -> dt.date:
    """Birth date encoded in a valid number.

    >>> birth_date_of("11010519491231002X")
    datetime.date(1949, 12, 31)
    """
    result = check(id_number)
    if not result.valid or result.normalised is None:
        raise ValueError(f"not a valid ID number: {result.message_en}")
    born = _birth_date(result.normalised[6:14])
    assert born is not None
    return born


def sex_of(id_number: str) -> str:
    """'男' for an odd sequence digit, '女' for an even one.

    >>> sex_of("11010519491231002X")
    '女'
    >>> sex_of("440524188001010014")
    '男'
    """
    result = check(id_number)
    if not result.valid or result.normalised is None:
        raise ValueError(f"not a valid ID number: {result.message_en}")
    return "男" if int(result.normalised[16]) % 2 == 1 else "女"


def mask(id_number: str | None) -> str:
    """Mask for display: keep the first 4 and last 4 characters.

    >>> mask("11010519491231002X")
    '1101**********002X'
    >>> mask(None)
    ''
    """
    if not id_number:
        return ""
    value = normalise(id_number)
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]
