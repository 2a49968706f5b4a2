"""Registered people look real: valid ID numbers matching birth date and sex, plausible households."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from tests.synth.helpers import read_csv

from jingzhun import ids


def test_registry_id_numbers_are_valid_and_match_birth_date_sex_and_county(small):
    out, _ = small
    members = read_csv(out / "2025-01" / "member.csv").to_pylist()
    households = {h["户编号"]: h for h in read_csv(out / "2025-01" / "household.csv").to_pylist()}
    for m in members:
        number = m["证件号码"]
        assert ids.is_valid(number), number
        assert ids.birth_date_of(number) == dt.date.fromisoformat(m["出生日期"])
        assert ids.sex_of(number) == m["性别"]
        assert number[:6] == households[m["户编号"]]["行政村代码"][:6]
    # one ID number on two households is a planted conflict, never an accident of generation
    counts = Counter(m["证件号码"] for m in members)
    assert 1 <= sum(1 for c in counts.values() if c > 1) <= 5


def test_households_and_members_are_plausible(small):
    out, _ = small
    households = read_csv(out / "2025-01" / "household.csv").to_pylist()
    members = read_csv(out / "2025-01" / "member.csv").to_pylist()
    sizes = [int(h["家庭人口数"]) for h in households]
    assert min(sizes) >= 1 and max(sizes) <= 8
    assert 3.2 <= sum(sizes) / len(sizes) <= 3.9
    assert sum(sizes) == len(members)
    poor = sum(h["户类型"] == "脱贫户" for h in households) / len(households)
    assert 0.18 <= poor <= 0.32
    causes = Counter(h["主要致贫原因"] for h in households if h["户类型"] == "脱贫户")
    assert causes.most_common(1)[0][0] == "因病"
    assert all(h["主要致贫原因"] is None for h in households if h["户类型"] == "一般农户")
    monitored = [h for h in households if h["监测对象类别"]]
    assert 0.01 <= len(monitored) / len(households) <= 0.1
    assert all(h["风险类型"] and h["风险识别时间"] for h in monitored)
    heads = Counter(m["户编号"] for m in members if m["与户主关系"] == "户主")
    assert len(heads) == len(households) and set(heads.values()) == {1}
    assert Counter(m["民族"] for m in members).most_common(1)[0][0] == "汉族"


def test_school_labour_and_disability_are_consistent_with_age_and_health(small):
    out, _ = small
    members = read_csv(out / "2025-01" / "member.csv").to_pylist()
    start = dt.date(2025, 1, 1)
    off = 0
    for m in members:
        born = dt.date.fromisoformat(m["出生日期"])
        age = (start - born).days // 365.25
        if 6 <= age <= 11:
            off += m["在校生状况"] != "小学"
        if age < 16:
            assert m["劳动技能"] == "无劳动力"
        if age >= 23:
            assert m["在校生状况"] == "非在校生"
        assert (m["残疾等级"] is not None) == (m["健康状况"] == "残疾")
        if m["劳动技能"] in ("技能劳动力", "普通劳动力"):
            assert 16 <= age < 70
        else:
            assert m["务工时间（月）"] in ("0", "1", "2", "3", "4")
    assert off <= 3  # only planted 非在校生 conflicts
