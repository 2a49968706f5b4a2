"""Planted events are in truth/events.parquet with the month they appear in, and the feeds show them."""

from __future__ import annotations

from collections import Counter

import pyarrow.parquet as pq
import pytest
from tests.synth.helpers import read_csv

from jingzhun.catalog import DATASETS


@pytest.fixture(scope="module")
def events(small):
    out, _ = small
    return pq.read_table(out / "truth" / "events.parquet").to_pylist()


def _records(small, name, period):
    out, manifest = small
    entry = manifest.file(name, period)
    key = DATASETS[name].field("record_id").zh
    return {r[key]: r for r in read_csv(out / entry.path, entry.encoding).to_pylist()}


def test_every_kind_of_event_and_conflict_is_planted(events):
    kinds = Counter(e["event"] for e in events)
    for kind in (
        "high_medical_cost",
        "dropout",
        "labourer_death",
        "disaster",
        "job_loss",
        "severe_disability",
        "house_unsafe",
        "unsafe_water",
        "dibao_entry",
        "conflict_dead_listed",
        "conflict_duplicate_id",
        "conflict_two_insurances",
        "conflict_disability_grade",
        "conflict_labour_risk_type",
        "conflict_school_status",
    ):
        assert kinds[kind] >= 1, kind


def test_events_appear_in_the_month_stated(small, events):
    cache = {}
    for e in events:
        if e["record_id"] is None:
            continue
        key = (e["dataset"], e["period"])
        if key not in cache:
            cache[key] = _records(small, *key)
        record = cache[key][e["record_id"]]
        kind = e["event"]
        if kind == "high_medical_cost":
            assert record["就诊类型"] == "住院"
            assert float(record["个人自付金额"]) >= (5000 if e["person_id"] else 20000)
        elif kind == "dropout":
            assert record["学籍状态"] in ("辍学", "休学")
        elif kind in ("labourer_death", "death", "conflict_dead_listed"):
            assert record["变动类型"] == "死亡"
        elif kind == "job_loss":
            assert record["就业状态"] == "失业"
        elif kind == "severe_disability":
            assert record["残疾等级"] in ("一级", "二级")
        elif kind == "house_unsafe":
            assert record["鉴定等级"] in ("C", "D")
        elif kind == "unsafe_water":
            assert "否" in (record["水量达标"], record["水质达标"]) or int(record["供水保证天数"]) < 329
        elif kind == "dibao_entry":
            assert (record["救助类型"], record["变动类型"]) == ("低保", "纳入")
        elif kind == "conflict_two_insurances":
            assert record["参保类型"] in ("城乡居民医保", "职工医保")
        elif kind == "disaster":
            assert record["行政村代码"] == e["village_code"]


def test_people_who_die_or_lose_their_job_stop_appearing_in_employment(small, events):
    out, manifest = small
    truth = pq.read_table(out / "truth" / "feed_truth.parquet").to_pylist()
    seen = {(t["person_id"], t["period"]) for t in truth if t["dataset"] == "employment"}
    stopped = [e for e in events if e["event"] in ("labourer_death", "job_loss")]
    assert stopped
    for e in stopped:
        later = [p for p in manifest.periods if p > e["period"]]
        assert not any((e["person_id"], p) in seen for p in later), e


def test_dead_person_still_listed_and_duplicate_id_are_in_the_registry(small, events):
    out, _ = small
    members = {m["人编号"]: m for m in read_csv(out / "2025-01" / "member.csv").to_pylist()}
    for e in events:
        if e["event"] in ("conflict_dead_listed", "conflict_duplicate_id"):
            assert e["person_id"] in members
        if e["event"] == "conflict_dead_listed":
            death = _records(small, "civil_registry", e["period"])[e["record_id"]]
            assert death["变动日期"] < "2025-01-01"


def test_events_touch_a_plausible_share_of_households_each_month(small, events):
    # by the month the events happen; in a 2,000-person county every kind delivered late is forced
    # once in each of the first three months, which is most of what happens there
    _, manifest = small
    for period in manifest.periods:
        touched = {
            e["household_id"]
            for e in events
            if e["event_date"] and e["event_date"].strftime("%Y-%m") == period and e["household_id"]
        }
        assert 0.003 <= len(touched) / manifest.counts["households"] <= 0.06, period
