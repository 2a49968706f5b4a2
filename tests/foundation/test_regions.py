import pytest

from jingzhun import regions
from jingzhun.errors import InvalidRegionCode, LocatedError


def test_levels_and_parents_of_a_village():
    code = "520102003004"
    assert regions.level_of(code) == "village"
    assert regions.ancestors(code) == ["520000000000", "520100000000", "520102000000", "520102003000"]


def test_municipality_county_skips_to_province_when_city_part_empty():
    # a direct-administered county under a municipality may have an empty city part in some lists
    assert regions.level_of("500000000000") == "province"
    assert regions.parent_of("500101000000") == "500100000000"


@pytest.mark.parametrize("bad", ["12345", "5201020030041", "abcdefghijkl", "000000000000", "520000003004"])
def test_invalid_codes(bad):
    with pytest.raises(InvalidRegionCode):
        regions.level_of(bad)


def test_load_csv_derives_levels_and_reports_bad_rows(tmp_path):
    good = tmp_path / "codes.csv"
    good.write_text(
        "代码,名称\n520000000000,某省\n520100000000,某市\n520102,某县\n520102003000,某镇\n"
        "520102003004,某村\n",
        encoding="utf-8",
    )
    items = regions.load_csv(good)
    assert [r.level for r in items] == ["province", "city", "county", "township", "village"]
    assert items[2].code == "520102000000" and items[2].parent_code == "520100000000"

    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("code,name\n520000000000,某省\n".encode("gb18030"))
    assert regions.load_csv(gbk)[0].name == "某省"

    bad = tmp_path / "bad.csv"
    bad.write_text("code,name\n520000000000,某省\n52010x,坏\n", encoding="utf-8")
    with pytest.raises(LocatedError) as info:
        regions.load_csv(bad)
    assert info.value.location.row == 3 and "bad.csv" in str(info.value)

    dup = tmp_path / "dup.csv"
    dup.write_text("code,name\n520000000000,某省\n520000000000,某省\n", encoding="utf-8")
    with pytest.raises(LocatedError, match="twice"):
        regions.load_csv(dup)
