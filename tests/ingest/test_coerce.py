"""The fast path of validation gives exactly the reference path's answers.

Every cell with a fast answer skips the reference conversion (trimming, normalising, parsing), so both
paths are run on the same awkward files, mixing clean and dirty cells of every type, and must accept
and quarantine the same rows with the same values, rules, reasons and warnings.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.ingest.helpers import valid_id, write_csv, write_xlsx

from jingzhun.catalog import DATASETS, ENUM_ALIASES, ENUMS, Field
from jingzhun.ingest import api, validate
from jingzhun.ingest.coerce import fast_helpers, fast_sql, install

_SPACE = ["", "", "", " ", "\t", "\u3000", "\u00a0", "\u2003", "\n", "\x0b"]
_DIGITS = "0123456789"


_TRIMMED = ["", "", "", " ", "\u3000", "\u00a0", "\t", "\n"]  # what trimming removes


def _wrap(cell: st.SearchStrategy[str], spaces: list[str] = _SPACE) -> st.SearchStrategy[str]:
    return st.builds(lambda a, s, b: a + s + b, st.sampled_from(spaces), cell, st.sampled_from(spaces))


def _full_width(text: str) -> str:
    return text.translate(str.maketrans("0123456789.-", "０１２３４５６７８９．－"))


_junk = st.text(alphabet=[*list("0123456789,.-/ eE+年月日元¥xX一二是否Yn"), "１", "\t"], max_size=12)
_dates = st.builds(
    lambda y, m, d, form, hms: [
        f"{y:04d}-{m:02d}-{d:02d}",
        f"{y}/{m}/{d}",
        f"{y}.{m}.{d}",
        f"{y:04d}{m:02d}{d:02d}",
        f"{y}年{m}月{d}日",
        f"{y}年{m}月{d}",
        f"{y:04d}-{m:02d}-{d:02d} {hms}",
        str(40000 + d * 37 + m),
        f"{40000 + d * 37}.5",
        str(y),
        _full_width(f"{y}-{m}-{d}"),
        f"{y}-{m}-{d}日",
        f"{y} {m} {d}",
        f"{y:04d}{m:02d}",
        f"{y}{m}{d}",
    ][form],
    st.sampled_from([1849, 1850, 1960, 2000, 2024, 2100, 2101, 12024, 99]),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 14),
    st.sampled_from(["00:00:00", "12:30", "8:05:09.5"]),
)
_decimals = st.one_of(
    st.builds(lambda n: f"{n:,}", st.integers(-(10**6), 10**9)),
    st.builds(lambda n: f"{n:,.2f}", st.floats(-1e6, 1e9, allow_nan=False)),
    st.builds(str, st.decimals(-(10**6), 10**6, places=3, allow_nan=False)),
    st.sampled_from(
        ["1.2E+3", "¥1234.5", "1234.5元", "１２３４．５", "1 000", ".5", "5.", "1_000", "0x1F", "NaN", "inf"]
    ),
)
_ints = st.one_of(
    st.integers(-50, 3000).map(str),
    st.sampled_from(
        ["+3", "007", "3.0", "3.5", "1,234", "１２", "1e3", "1_000", "12345678901234567890", "-0"]
    ),
)
_months = st.builds(
    lambda y, m, form: [
        f"{y}-{m:02d}",
        f"{y}/{m}",
        f"{y}年{m}月",
        f"{y}{m:02d}",
        f"{y}-{m}",
        f"{y}-{m:02d}-05",
    ][form],
    st.sampled_from([1899, 1900, 2024, 2100, 2101]),
    st.integers(0, 13),
    st.integers(0, 5),
)
_regions = st.one_of(
    st.sampled_from(
        ["441481104201", "441481", "44148110420", "4.41481E+11", "441481.0", "０４４１４８１１０４２０１"]
    ),
    st.builds(
        lambda n, k: str(n).zfill(12)[:k], st.integers(0, 10**12 - 1), st.sampled_from([2, 4, 6, 9, 12])
    ),
)
_ids = st.one_of(
    st.builds(lambda s: valid_id(s), st.integers(0, 999)),
    st.builds(
        lambda s, b: valid_id(s, birth=b), st.integers(0, 999), st.sampled_from(["19491331", "20991231"])
    ),
    st.builds(lambda s, x: valid_id(s)[:17] + x, st.integers(0, 999), st.sampled_from(list("0123456789Xx"))),
    st.builds(lambda s: valid_id(s)[:6] + valid_id(s)[8:17], st.integers(0, 999)),
    st.builds(
        lambda s, p: p[0] + valid_id(s) + p[1],
        st.integers(0, 999),
        st.sampled_from([('="', '"'), ("'", ""), (" ", " ")]),
    ),
    st.sampled_from(["4.52123E+17", "110105194912310000.0", "11010519491231002", "1101051949X231002X", "ｘ"]),
)


def _enum_values(f: Field) -> st.SearchStrategy[str]:
    spellings = list(ENUMS[f.enum or ""]) + list(ENUM_ALIASES.get(f.enum or "", {}))
    return st.one_of(st.sampled_from(spellings), st.sampled_from(spellings).map(str.upper))


_clean_dates = st.builds(
    lambda y, m, d, form: [
        f"{y:04d}-{m:02d}-{d:02d}",
        f"{y}/{m}/{d}",
        f"{y}.{m}.{d}",
        f"{y:04d}{m:02d}{d:02d}",
        f"{y}年{m}月{d}日",
        f"{y:04d}-{m:02d}-{d:02d} 08:30:00",
        str(20000 + y * 7 + m * 31 + d),
        _full_width(f"{y}-{m}-{d}"),
        f"{y} {m} {d}",
    ][form],
    st.integers(1950, 2024),
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(0, 8),
)


def _clean(f: Field) -> st.SearchStrategy[str]:
    """Spellings that are valid for the field (each must be accepted)."""
    low = int(f.min) if f.min is not None else 0
    high = int(f.max) if f.max is not None else 10**6
    by_type: dict[str, st.SearchStrategy[str]] = {
        "int": st.integers(low, high)
        .map(lambda n: st.sampled_from([str(n), f"{n}.0", _full_width(str(n))]))
        .flatmap(lambda x: x),
        "decimal": st.one_of(
            st.builds(lambda n: f"{n:,.2f}", st.floats(max(low, 0), 1e7, allow_nan=False)),
            st.builds(lambda n: f"{n}", st.integers(max(low, 0), 10**6)),
            st.sampled_from(["1.2E+3", "¥1234.5", "1234.5元", "１２３４．５", "1 000", ".5", "5."]),
        ),
        "date": _clean_dates,
        "month": st.builds(
            lambda y, m, form: [f"{y}-{m:02d}", f"{y}/{m}", f"{y}年{m}月", f"{y}{m:02d}", f"{y}-{m:02d}-05"][
                form
            ],
            st.integers(1990, 2024),
            st.integers(1, 12),
            st.integers(0, 4),
        ),
        "bool": st.sampled_from(["是", "否", "Y", "n", "TRUE", "1", "0.0", "√", "×", "有", "Yes"]),
        "region_code": st.sampled_from(["441481104201", "441481", "520102003004", "52", "4414", "441481104"]),
        "id_number": st.one_of(
            st.builds(valid_id, st.integers(0, 999)),
            st.builds(
                lambda n: valid_id(n).lower() if valid_id(n).endswith("X") else valid_id(n),
                st.integers(0, 999),
            ),
            st.builds(lambda n: valid_id(n)[:6] + valid_id(n)[8:17], st.integers(0, 999)),
            st.builds(lambda n: '="' + valid_id(n) + '"', st.integers(0, 999)),
        ),
        "string": st.text(alphabet="甲乙丙abc123", min_size=1, max_size=6),
    }
    if f.type == "enum":
        return _enum_values(f)
    if f.name in ("record_id", "person_id", "household_id"):
        return st.integers(0, 300).map(lambda n: f"K{n}")  # a few duplicate keys
    return by_type[f.type]


def _dirty(f: Field) -> st.SearchStrategy[str]:
    by_type: dict[str, st.SearchStrategy[str]] = {
        "int": _ints,
        "decimal": _decimals,
        "date": _dates,
        "month": _months,
        "bool": st.sampled_from(["也许", "Yes", "TRUE", "0.0"]),
        "region_code": _regions,
        "id_number": _ids,
        "string": st.text(alphabet="甲乙丙 abc123", max_size=6),
    }
    base = st.one_of(_enum_values(f), _junk) if f.type == "enum" else by_type[f.type]
    return st.one_of(st.just(""), base, _junk)


def _values(f: Field) -> st.SearchStrategy[str]:
    """Mostly valid cells (so that rows are accepted and their values compared), some dirty ones."""
    clean = _wrap(_clean(f), _TRIMMED)
    return st.integers(0, 24).flatmap(lambda n: _wrap(_dirty(f)) if n == 0 else clean)


def _rows(dataset: str) -> st.SearchStrategy[list[list[str]]]:
    fields = DATASETS[dataset].fields
    row = st.tuples(*[_values(f) for f in fields]).map(list)
    return st.lists(row, min_size=20, max_size=150)


def _outcomes(path: Path, dataset: str) -> list[tuple]:
    """(counts, accepted rows, quarantined rows) of the fast path, then of the reference path."""
    out = []
    with tempfile.TemporaryDirectory() as tmp, contextlib.closing(api._connect(Path(tmp))) as con:
        for fast in (True, False):
            sheet, match = api._pick_sheet(con, path, dataset, Path(tmp))
            checked = validate.check(con, sheet, match, fast=fast)
            accepted = con.sql(validate.accepted_sql(checked, "imp-x", "2025-01")).fetchall()
            rejected = con.sql(validate.quarantine_sql(checked, path.name)).fetchall()
            counts = (checked.rows_in, checked.rows_quarantined, checked.warnings, checked.rule_counts)
            out.append((counts, accepted, rejected))
    return out


@pytest.mark.parametrize("dataset", ["medical_claim", "member", "employment", "household"])
def test_fast_and_reference_paths_agree_on_awkward_files(dataset: str) -> None:
    @settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_rows(dataset))
    def check(rows: list[list[str]]) -> None:
        header = [f.zh for f in DATASETS[dataset].fields]
        with tempfile.TemporaryDirectory() as tmp:
            path = write_csv(Path(tmp) / "f.csv", [header, *rows])
            fast, reference = _outcomes(path, dataset)
            assert fast == reference
            assert fast[0][0] == len([r for r in rows if any(r)])
            accepted.append(len(fast[1]))

    accepted: list[int] = []
    check()
    assert sum(accepted) > 20  # values were compared, not only rejected rows


def test_fast_and_reference_paths_agree_on_xlsx(tmp_path: Path) -> None:
    header = [f.zh for f in DATASETS["member"].fields[:7]]
    rows = [
        ["P1", "H1", "甲", valid_id(1), "男", "1949-12-31", "户主"],
        ["P2", "H1", "乙", 110105194912310021, "女", 45296, "配偶"],
        ["P3", "H1", "丙", f" {valid_id(3)} ", " 女 ", "2024年1月5日", "之女"],
        ["P3", "H1", "丁", valid_id(4), "F", "20240230", "之子"],
        ["P5", "H1", "戊", valid_id(5), "x", "1849-12-31", "户主"],
    ]
    path = write_xlsx(tmp_path / "m.xlsx", [header, *rows])
    fast, reference = _outcomes(path, "member")
    assert fast == reference
    assert fast[0][:2] == (5, 3)


def _fast_value(f: Field, raw: str) -> object:
    con = duckdb.connect()
    install(con)
    helpers = fast_helpers(f, "c", "h")
    source = f"(SELECT *, {', '.join(helpers)} FROM t)" if helpers else "t"
    con.execute("CREATE TABLE t AS SELECT ?::VARCHAR AS c", [raw])
    return con.sql(f"SELECT {fast_sql(f, 'c', 'h')} FROM {source}").fetchall()[0][0]


@pytest.mark.parametrize(
    "dataset, name, raw, value",
    [
        ("medical_claim", "claim_date", "2024-01-05", dt.date(2024, 1, 5)),
        ("medical_claim", "claim_date", "2024/1/5", dt.date(2024, 1, 5)),
        ("medical_claim", "claim_date", "20240105", dt.date(2024, 1, 5)),
        ("medical_claim", "claim_date", "45296", dt.date(2024, 1, 5)),
        ("medical_claim", "claim_date", "2024年1月5日", dt.date(2024, 1, 5)),
        ("medical_claim", "claim_date", "20240230", None),  # not a date: the reference path says why
        ("medical_claim", "total_cost", "1,234.50", Decimal("1234.50")),
        ("medical_claim", "total_cost", "12.5", Decimal("12.50")),
        ("medical_claim", "visit_type", "普通门诊", "门诊"),
        ("medical_claim", "visit_type", "急诊", None),
        ("medical_claim", "region_code", "441481104201", "441481104201"),
        ("household", "household_size", "3", 3),
        ("employment", "period", "2024-01", "2024-01"),
        ("employment", "period", "202401", "2024-01"),
        ("employment", "insured", "是", True),
    ],
)
def test_the_common_spellings_take_the_fast_path(dataset: str, name: str, raw: str, value: object) -> None:
    assert _fast_value(DATASETS[dataset].field(name), raw) == value
