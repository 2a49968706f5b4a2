"""Statistical division codes (统计用区划代码): 12 digits = province 2 + city 2 + county 2 + township 3 + village 3.

>>> level_of("441481104201")
'village'
>>> parent_of("441481104201")
'441481104000'
>>> ancestors("441481104201")
['440000000000', '441400000000', '441481000000', '441481104000']
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from jingzhun.errors import InvalidRegionCode, LocatedError, Location
from jingzhun.textio import decode_bytes

LEVELS = ("province", "city", "county", "township", "village")
LEVEL_ZH = {"province": "省", "city": "市", "county": "县", "township": "乡镇", "village": "行政村"}
# (start, end) slice of each level's own digits within the 12-digit code
_SPANS = {"province": (0, 2), "city": (2, 4), "county": (4, 6), "township": (6, 9), "village": (9, 12)}


def normalise_code(raw: object) -> str:
    """Accept 12-digit codes, and 6-digit GB/T 2260 county codes (padded with zeros).

    >>> normalise_code("441481")
    '441481000000'
    >>> normalise_code(" 441481104201 ")
    '441481104201'
    """
    text = "" if raw is None else str(raw).strip()
    if text.endswith(".0"):
        text = text[:-2]
    if len(text) in (2, 4, 6, 9) and text.isdigit():
        text = text.ljust(12, "0")
    if len(text) != 12 or not text.isdigit():
        raise InvalidRegionCode(f"region code {raw!r} must have 12 digits (or 6 for a county)")
    if text[:2] == "00":
        raise InvalidRegionCode(f"region code {raw!r} has no province")
    return text


def level_of(code: str) -> str:
    """The level of a normalised code: province, city, county, township or village.

    >>> [level_of(c) for c in ("440000000000", "441400000000", "441481000000", "441481104000")]
    ['province', 'city', 'county', 'township']
    """
    code = normalise_code(code)
    level = "province"
    for name in LEVELS[1:]:
        start, end = _SPANS[name]
        if set(code[start:end]) != {"0"}:
            level = name
    # a lower part set while a higher one is zero is allowed only for municipalities' city part
    for name in LEVELS[1 : LEVELS.index(level)]:
        start, end = _SPANS[name]
        if name != "city" and set(code[start:end]) == {"0"}:
            raise InvalidRegionCode(f"region code {code} skips the {name} level")
    return level


def prefix_of(code: str, level: str) -> str:
    """The digits that identify the code's ancestor at ``level`` (useful for LIKE 'prefix%' queries).

    >>> prefix_of("441481104201", "township")
    '441481104'
    """
    return normalise_code(code)[: _SPANS[level][1]]


def code_at(code: str, level: str) -> str:
    """The 12-digit code of the ancestor at ``level``.

    >>> code_at("441481104201", "county")
    '441481000000'
    """
    return prefix_of(code, level).ljust(12, "0")


def parent_of(code: str) -> str | None:
    """The code one level up, or None for a province (a municipality's county skips the empty city)."""
    level = level_of(code)
    index = LEVELS.index(level)
    if index == 0:
        return None
    parent = code_at(code, LEVELS[index - 1])
    if level_of(parent) != LEVELS[index - 1] and index >= 2:
        return code_at(code, LEVELS[index - 2])
    return parent


def ancestors(code: str) -> list[str]:
    """Codes of every ancestor, province first."""
    out: list[str] = []
    parent = parent_of(code)
    while parent is not None:
        out.append(parent)
        parent = parent_of(parent)
    return list(reversed(out))


def contains(scope: str, code: str) -> bool:
    """True when ``code`` lies inside (or is) the region ``scope``.

    >>> contains("441481000000", "441481104201"), contains("441481104000", "441481105001")
    (True, False)
    """
    level = level_of(scope)
    return normalise_code(code).startswith(prefix_of(scope, level))


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str
    parent_code: str | None


def region(code: str, name: str) -> Region:
    code = normalise_code(code)
    return Region(code, name, level_of(code), parent_of(code))


def load_csv(path: str | Path, encoding: str | None = None) -> list[Region]:
    """Read a code list with columns ``code,name`` (or 代码/统计用区划代码 and 名称); level and parent are derived.

    Raises a :class:`LocatedError` naming the row for a bad code or a duplicated one.
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode(encoding) if encoding else decode_bytes(raw)[0]
    except UnicodeDecodeError:
        raise LocatedError("cannot decode file as UTF-8 or GB18030", Location(file=str(path))) from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise LocatedError("the code list is empty", Location(file=str(path)))
    header = [h.strip() for h in rows[0]]
    code_names = {"code", "代码", "区划代码", "统计用区划代码"}
    name_names = {"name", "名称", "区划名称"}
    try:
        ci = next(i for i, h in enumerate(header) if h in code_names)
        ni = next(i for i, h in enumerate(header) if h in name_names)
    except StopIteration:
        raise LocatedError(
            "the code list needs a 'code' (代码) and a 'name' (名称) column", Location(file=str(path), row=1)
        ) from None
    seen: set[str] = set()
    out: list[Region] = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        try:
            item = region(row[ci], row[ni].strip())
        except (InvalidRegionCode, IndexError) as exc:
            raise LocatedError(str(exc), Location(file=str(path), row=lineno, field=header[ci])) from None
        if item.code in seen:
            raise LocatedError(f"code {item.code} appears twice", Location(file=str(path), row=lineno))
        seen.add(item.code)
        out.append(item)
    return out


def to_rows(regions: Iterable[Region]) -> list[dict[str, str | None]]:
    return [r.__dict__.copy() for r in regions]


def save_reference(regions_list: list[Region], data_root: str | Path) -> Path:
    """Store the region code list in the data folder (replacing the previous list atomically)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from jingzhun.store import DataFolder, atomic_file

    target = DataFolder(data_root).reference_file("region")
    table = pa.Table.from_pylist(
        to_rows(sorted(regions_list, key=lambda r: r.code)),
        schema=pa.schema([("code", pa.string()), ("name", pa.string()), ("level", pa.string()),
                          ("parent_code", pa.string())]),
    )
    with atomic_file(target) as tmp:
        pq.write_table(table, tmp)
    return target
