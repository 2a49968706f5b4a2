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
