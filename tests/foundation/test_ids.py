import datetime as dt
import random

import duckdb
import pytest

from jingzhun import ids
from jingzhun.ids.sql import install_macros

# Public examples: the two numbers printed in GB 11643-1999 itself, and 15-digit upgrades.
PUBLIC_VALID = ["11010519491231002X", "440524188001010014"]


@pytest.mark.parametrize("number", PUBLIC_VALID)
def test_public_examples_are_valid(number):
    assert ids.check(number).valid


def test_standard_examples_sex_and_birth():
    assert ids.sex_of("11010519491231002X") == "女"
    assert ids.birth_date_of("11010519491231002X") == dt.date(1949, 12, 31)
    assert ids.sex_of("440524188001010014") == "男"
    assert ids.birth_date_of("440524188001010014") == dt.date(1880, 1, 1)


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("", "empty"),
        (None, "empty"),
        ("1.10105E+17", "scientific_notation"),
        ("110105194912310020.0", "scientific_notation"),
        ("11010519491231002", "length"),
        ("11010519491231002XX", "length"),
        ("11010519491231002A", "characters"),
        ("00010519491231002X", "area_code"),
        ("11000019491231002X", "area_code"),
        ("11010519490231002X", "birth_date"),
        ("11010530000101002X", "birth_date"),
        ("110105194912310021", "check_digit"),
        ("11010549123100A", "characters"),
    ],
)
def test_reasons(raw, reason):
    result = ids.check(raw)
    assert not result.valid
    assert result.reason == reason
    assert result.message_zh and result.message_en


def test_normalise_full_width_lower_x_spaces():
    assert ids.check(" １１０１０５１９４９１２３１００２ｘ").normalised == "11010519491231002X"
    assert ids.check("110105 19491231 002x").normalised == "11010519491231002X"


def test_upgrade_15():
    result = ids.check("440524800101001")
    assert result.valid and result.upgraded
    assert result.normalised == "440524198001010014"[:17] + ids.check_character("44052419800101001")


def test_mask():
    assert ids.mask("11010519491231002X") == "1101**********002X"
    assert "19491231" not in ids.mask("11010519491231002X")


def _random_inputs(n, seed=7):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        first17 = rng.choice(["11", "45", "52", "99", "00"]) + f"{rng.randrange(10000):04d}"
        first17 += f"{rng.randrange(1840, 2030)}{rng.randrange(0, 14):02d}{rng.randrange(0, 33):02d}"
        first17 += f"{rng.randrange(1000):03d}"
        good = first17 + ids.check_character(first17)
        variant = rng.randrange(8)
        if variant == 0:
            out.append(good)
        elif variant == 1:
            out.append(good[:17] + rng.choice("0123456789X"))
        elif variant == 2:
            out.append(good[:6] + good[8:17])  # 15-digit form
        elif variant == 3:
            out.append(good.lower().replace("1", "１"))
        elif variant == 4:
            out.append(good[:10] + " " + good[10:])
        elif variant == 5:
            out.append(f"{int(good[:17]) / 1e17:.5f}E+17")
        elif variant == 6:
            out.append(good[: rng.randrange(18)])
        else:
            out.append(good[:5] + "A" + good[6:])
    return out


def test_sql_macros_agree_with_python():
    values = _random_inputs(3000)
    con = duckdb.connect()
    install_macros(con)
    con.execute("create table t(i integer, s varchar)")
    con.executemany("insert into t values (?, ?)", list(enumerate(values)))
    rows = con.execute("select i, jz_id_reason(s), jz_id_upgrade(s) from t order by i").fetchall()
    checked_valid = 0
    for (_i, reason, upgraded), raw in zip(rows, values, strict=True):
        py = ids.check(raw)
        assert reason == py.reason, (raw, reason, py.reason)
        if py.valid:
            checked_valid += 1
            assert upgraded == py.normalised
    assert checked_valid > 200  # the sample really exercised valid numbers


def test_sql_reason_on_null_is_empty():
    con = duckdb.connect()
    install_macros(con)
    assert con.execute(
        "select jz_id_reason(NULL::varchar), jz_id_valid('11010519491231002X')"
    ).fetchone() == (
        "empty",
        True,
    )


# --- SQL/Python parity on awkward input (hypothesis) ---------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from jingzhun.ids.sql import stages, valid_sql  # noqa: E402

_PIECES = [
    *list("0123456789Xx.Ee+-"),
    "０",
    "１",
    "９",
    "ｘ",
    " ",
    "\u3000",
    "\xa0",
    "\t",
    "'",
    '"',
    "“",
    "A",
]


def _mutated(first17: str, hows: list[int], extra: str) -> str:
    """A number built from ``first17`` with its check character, then changed by each of ``hows``."""
    value = first17 + ids.check_character(first17)
    for how in hows:
        value = [
            lambda v: v[:17] + extra[:1],  # any last character
            lambda v: v[:6] + v[8:17],  # the old 15-digit form
            lambda v: v[:2] + "0000" + v[6:],  # county 0000
            lambda v: v[:8] + extra + v[8:],  # junk inside
            lambda v: v[:9] + "X" + v[10:],  # X in the middle
            lambda v: v.lower().replace("1", "１"),  # full width, lower case
            lambda v: f"{int(v[:17]) / 1e17:.5f}E+17" if v[:17].isdigit() else v,  # spreadsheet number
            lambda v: v[: len(extra) + 14],  # cut
        ][how](value)
    return value


_numbers = st.builds(
    _mutated,
    st.builds(
        lambda area, y, m, d, seq: f"{area}{y:04d}{m:02d}{d:02d}{seq:03d}",
        st.sampled_from(["110105", "520102", "990101", "110000", "000000", "440524"]),
        st.integers(1800, 2100),
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 999),
    ),
    st.lists(st.integers(0, 7), max_size=3),
    st.text(alphabet=_PIECES, max_size=3),
)
_junk = st.text(alphabet=_PIECES, max_size=22)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_numbers, _junk), min_size=1, max_size=120))
def test_sql_reason_and_upgrade_equal_python_on_awkward_input(values):
    for s, reason, upgraded, macro_reason, macro_upgraded, normalised, valid_u in _sql_rows(values):
        py = ids.check(s)
        assert reason == py.reason == macro_reason, s
        assert upgraded == macro_upgraded, s
        assert normalised == ids.normalise(s), s
        assert valid_u == py.valid, s
        if py.valid:
            assert upgraded == py.normalised, s


def _sql_rows(values):
    con = duckdb.connect()
    install_macros(con)
    con.execute("CREATE TABLE t AS SELECT * FROM unnest($1) WITH ORDINALITY AS x(s, i)", [values])
    query = "t"
    for stage in stages("s", "x"):
        query = f"(SELECT *, {', '.join(stage)} FROM {query})"
    return con.execute(
        f"SELECT s, x_r, x_u, jz_id_reason(s), jz_id_upgrade(s), jz_id_normalise(s), {valid_sql('x_u')} "
        f"FROM {query} ORDER BY i"
    ).fetchall()


def test_sql_equals_python_on_every_pair_of_changes():
    """Every base number (valid and invalid areas, birth dates, centuries) changed by every pair of the
    changes of ``_mutated``: the staged columns and the macros answer exactly like ``ids.check``."""
    bases = [
        f"{area}{birth}{seq}"
        for area in ("110105", "990101", "110000", "000000")
        for birth in ("19491231", "19491331", "19490230", "18400101", "20991231", "20000229", "19000229")
        for seq in ("002", "017")
    ]
    values = [
        _mutated(base, list(hows), extra)
        for base in bases
        for hows in [(), *((a,) for a in range(8)), *((a, b) for a in range(8) for b in range(8))]
        for extra in ("", "7", "x ")
    ]
    rows = _sql_rows(values)
    assert len(rows) == len(values) > 10_000
    reasons = set()
    for s, reason, upgraded, macro_reason, macro_upgraded, normalised, valid_u in rows:
        py = ids.check(s)
        reasons.add(py.reason)
        assert (reason, macro_reason, upgraded, normalised, valid_u) == (
            py.reason,
            py.reason,
            macro_upgraded,
            ids.normalise(s),
            py.valid,
        ), s
        if py.valid:
            assert upgraded == py.normalised, s
    assert reasons == {None, *ids.REASONS} - {"empty"}
