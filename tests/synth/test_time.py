"""What time does, planted with truth: late deliveries (1, 2 and 4–5 months), states that change and
change back, and household sizes between registry extracts (truth/events, states, households)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import numpy as np
import pyarrow.parquet as pq
import pytest

from jingzhun import ids
from jingzhun.catalog import DATASETS
from jingzhun.synth import FEEDS, generate
from jingzhun.synth.delivery import Deliveries
from jingzhun.synth.feedbase import EVENT, chunk

LATE_KINDS = (
    "labourer_death",
    "death",
    "birth",
    "move_out",
    "move_in",
    "chronic_outpatient",
    "high_medical_cost",
    "serious_illness",
    "severe_disability",
    "job_loss",
    "disaster",
    "dibao_entry",
    "dibao_exit",
    "tekun_entry",
    "tekun_exit",
    "temp_assistance",
)


def _months_late(row):
    arrival = dt.date.fromisoformat(row["arrival"] + "-01")
    date = row["event_date"]
    return (arrival.year - date.year) * 12 + arrival.month - date.month


def _date(dataset, record):
    field = DATASETS[dataset].field(DATASETS[dataset].date_field)
    value = record[field.zh]
    return dt.date.fromisoformat(value + "-01") if field.type == "month" else value


@pytest.fixture(scope="module")
def truth(six):
    out, _ = six
    read = lambda name: pq.read_table(out / "truth" / f"{name}.parquet").to_pylist()  # noqa: E731
    return {name: read(name) for name in ("events", "states", "households", "feed_truth")}


@pytest.fixture(scope="module")
def records(six):
    """(dataset, record_id) -> (period, record) for every feed record of the six months."""
    out, manifest = six
    found = {}
    for name in FEEDS:
        key = DATASETS[name].field("record_id").zh
        for period in manifest.periods:
            for r in pq.read_table(out / period / f"{name}.parquet").to_pylist():
                found[(name, r[key])] = (period, r)
    return found


@pytest.fixture(scope="module")
def members(six):
    out, manifest = six
    rows = pq.read_table(out / manifest.periods[0] / "member.parquet").to_pylist()
    return {r["人编号"]: r for r in rows}


def test_every_kind_of_event_arrives_on_time_and_one_two_and_four_or_more_months_late(truth):
    late = defaultdict(set)
    for e in truth["events"]:
        if e["event"] in LATE_KINDS:
            late[e["event"]].add(_months_late(e))
    for kind in LATE_KINDS:
        assert {1, 2} <= late[kind], (kind, late[kind])
        assert max(late[kind]) >= 4, (kind, late[kind])
        assert max(late[kind]) <= 5, (kind, late[kind])


def test_every_event_row_has_its_arrival_and_the_date_written_in_the_record(truth, records):
    for e in truth["events"]:
        assert e["arrival"] == e["period"]
        if e["record_id"] is None:  # registry conflicts: no record, no date
            assert e["dataset"] in ("member", "household") and e["event_date"] is None
            continue
        period, record = records[(e["dataset"], e["record_id"])]
        assert period == e["arrival"], e
        assert _date(e["dataset"], record) == e["event_date"], e


def test_event_records_show_what_the_event_says(truth, records, members):
    by_household = defaultdict(set)
    for m in members.values():
        by_household[m["户编号"]].add(m["证件号码"])
    checked = Counter()
    for e in truth["events"]:
        if e["record_id"] is None:
            continue
        _, r = records[(e["dataset"], e["record_id"])]
        kind = e["event"]
        if kind in ("birth", "move_in"):
            assert r["变动类型"] == {"birth": "出生", "move_in": "迁入"}[kind]
            assert r["父（母）亲证件号码"] in by_household[e["household_id"]], e
            assert r["证件号码"] not in by_household[e["household_id"]]
            assert e["person_id"] is None
        elif kind in ("death", "labourer_death"):
            assert r["变动类型"] == "死亡"
            person = members[e["person_id"]]
            age = (e["event_date"] - person["出生日期"]).days // 365.25
            labourer = 16 <= age <= 60 and person["劳动技能"] in ("技能劳动力", "普通劳动力")
            assert labourer == (kind == "labourer_death"), (e, age, person["劳动技能"])
        elif kind == "move_out":
            assert r["变动类型"] == "迁出"
        elif kind == "chronic_outpatient":
            assert r["就诊类型"] == "慢特病门诊"
            assert float(e["detail"].split("=")[1]) >= 500
        elif kind == "serious_illness":
            assert r["是否重大疾病"] == "是"
            assert members[e["person_id"]]["健康状况"] != "大病"
        elif kind in ("dibao_entry", "dibao_exit", "tekun_entry", "tekun_exit", "temp_assistance"):
            expected = {
                "dibao_entry": ("低保", "纳入"),
                "dibao_exit": ("低保", "退出"),
                "tekun_entry": ("特困", "纳入"),
                "tekun_exit": ("特困", "退出"),
                "temp_assistance": ("临时救助", "纳入"),
            }[kind]
            assert (r["救助类型"], r["变动类型"]) == expected
        elif kind == "job_loss":
            assert r["就业状态"] == "失业"
        elif kind == "severe_disability":
            assert r["残疾等级"] in ("一级", "二级") and r["证件状态"] in ("新办", "等级变更")
        checked[kind] += 1
    assert all(checked[k] for k in LATE_KINDS), checked


def test_chronic_outpatient_rows_are_the_claim_that_brings_the_month_over_500(truth, records):
    claims = defaultdict(list)  # (person, month) -> [(arrival, record_id, out of pocket)]
    for t in truth["feed_truth"]:
        if t["dataset"] != "medical_claim" or t["person_id"] is None:
            continue
        _, r = records[("medical_claim", t["record_id"])]
        if r["就诊类型"] == "慢特病门诊":
            claims[(t["person_id"], r["结算日期"].strftime("%Y-%m"))].append(
                (t["period"], t["record_id"], float(r["个人自付金额"]))
            )
    expected = {}
    for key, rows in claims.items():
        running = 0.0
        for _arrival, rid, oop in sorted(rows):  # in order of arrival
            running += oop
            if running >= 500:
                expected[key] = rid
                break
    got = {
        (e["person_id"], e["event_date"].strftime("%Y-%m")): e["record_id"]
        for e in truth["events"]
        if e["event"] == "chronic_outpatient"
    }
    assert got == expected


def test_a_late_record_is_delivered_once(truth, records):
    deaths = Counter()
    entries = Counter()
    for t in truth["feed_truth"]:
        if t["person_id"] is None:
            continue
        _, r = records[(t["dataset"], t["record_id"])]
        if t["dataset"] == "civil_registry" and r["变动类型"] == "死亡":
            deaths[t["person_id"]] += 1
        if t["dataset"] == "assistance" and r["变动类型"] in ("纳入", "退出") and r["救助类型"] != "临时救助":
            entries[(t["person_id"], r["救助类型"], r["变动类型"])] += 1
    assert deaths and max(deaths.values()) == 1
    assert entries and max(entries.values()) == 1


def test_nobody_has_a_record_dated_after_their_death(truth, records):
    died = {
        e["person_id"]: e["event_date"]
        for e in truth["events"]
        if e["event"] in ("death", "labourer_death", "conflict_dead_listed")
    }
    assert any(_months_late(e) >= 1 for e in truth["events"] if e["event"] in ("death", "labourer_death"))
    seen = 0
    for t in truth["feed_truth"]:
        if t["person_id"] in died:
            _, r = records[(t["dataset"], t["record_id"])]
            assert _date(t["dataset"], r) <= died[t["person_id"]], (t, r)
            seen += 1
    assert seen > len(died)  # their earlier records are there, some arriving after the death


def test_no_monthly_payments_before_a_late_entry_arrives(truth, records):
    late_entries = [
        e for e in truth["events"] if e["event"] in ("dibao_entry", "tekun_entry") and _months_late(e)
    ]
    assert late_entries
    paid = defaultdict(list)
    for t in truth["feed_truth"]:
        if t["dataset"] == "assistance" and t["person_id"]:
            _, r = records[("assistance", t["record_id"])]
            if r["变动类型"] == "在保":
                paid[(t["person_id"], r["救助类型"])].append(t["period"])
    for e in late_entries:
        kind = "低保" if e["event"] == "dibao_entry" else "特困"
        assert all(p >= e["arrival"] for p in paid[(e["person_id"], kind)]), e


def _by_subject(states, state):
    out = defaultdict(list)
    for s in states:
        if s["state"] == state:
            out[s["subject"]].append(s)
    for rows in out.values():
        rows.sort(key=lambda s: (s["event_date"], s["record_id"]))
    return out


def test_state_rows_point_at_the_records_that_set_them(truth, records, six, members):
    out, manifest = six
    register = pq.read_table(out / manifest.periods[0] / "household.parquet").to_pylist()
    hamlets = {(h["行政村代码"], h["自然村"]) for h in register}
    for s in truth["states"]:
        period, r = records[(s["dataset"], s["record_id"])]
        assert period == s["arrival"] and _date(s["dataset"], r) == s["event_date"]
        if s["state"] == "house_grade":
            assert (
                r["鉴定等级"] == s["value"] and s["subject"] == s["household_id"] and s["person_id"] is None
            )
        elif s["state"] == "water":
            assert s["household_id"] is None and s["person_id"] is None
            failed = "否" in (r["水量达标"], r["水质达标"]) or r["供水保证天数"] < 329
            assert s["value"] == ("fail" if failed else "pass")
            assert r["自然村"] == s["natural_village"]
            assert s["subject"] == f"{s['village_code']}/{s['natural_village'] or ''}"
            if s["natural_village"]:
                assert (s["village_code"], s["natural_village"]) in hamlets
        elif s["state"] == "school":
            assert r["学籍状态"] == s["value"] and s["subject"] == s["person_id"]
            assert 6 <= (dt.date(2025, 1, 1) - members[s["person_id"]]["出生日期"]).days // 365.25 <= 16
        else:
            assert s["state"] == "assistance"
            assert r["变动类型"] == s["value"] and s["subject"] == f"{s['person_id']}/{r['救助类型']}"


def test_houses_rated_unsafe_are_re_rated_safe_or_stay_unsafe(truth):
    houses = _by_subject(truth["states"], "house_grade")
    cleared = stayed = 0
    for rows in houses.values():
        grades = [s["value"] for s in rows]
        assert grades[0] in ("C", "D")
        cleared += grades[-1] in ("A", "B")
        stayed += grades[-1] in ("C", "D")
    assert cleared and stayed


def test_natural_villages_fail_then_pass_pass_then_fail_and_differ_within_a_village(truth, six):
    water = _by_subject(truth["states"], "water")
    values = {subject: [s["value"] for s in rows] for subject, rows in water.items()}
    assert any("fail" in v and v[v.index("fail") :].count("pass") for v in values.values())
    assert any("pass" in v and "fail" in v[v.index("pass") :] for v in values.values())
    by_month = defaultdict(set)
    for s in truth["states"]:
        if s["state"] == "water" and s["natural_village"]:
            by_month[(s["village_code"], s["event_date"].strftime("%Y-%m"))].add(s["value"])
    assert any(v == {"pass", "fail"} for v in by_month.values())
    out, manifest = six
    wide = [
        r
        for p in manifest.periods
        for r in pq.read_table(out / p / "water_safety.parquet").to_pylist()
        if r["自然村"] is None
    ]
    assert wide  # a village-wide assessment names no natural village
    register = pq.read_table(out / manifest.periods[0] / "household.parquet").to_pylist()
    hamlets = {(h["行政村代码"], h["自然村"]) for h in register}
    named = [
        (r["行政村代码"], r["自然村"])
        for p in manifest.periods
        for r in pq.read_table(out / p / "water_safety.parquet").to_pylist()
        if r["自然村"] is not None
    ]
    assert named and set(named) <= hamlets  # spelled as the household register spells it


def test_children_who_drop_out_return_or_stay_out_with_no_records(truth, records):
    school = _by_subject(truth["states"], "school")
    returned = stayed = 0
    later = defaultdict(list)
    for t in truth["feed_truth"]:
        if t["dataset"] == "enrolment" and t["person_id"] in school:
            later[t["person_id"]].append(records[("enrolment", t["record_id"])][1])
    for pid, rows in school.items():
        assert rows[0]["value"] in ("辍学", "休学")
        if rows[-1]["value"] == "在读":
            returned += 1
        else:
            stayed += 1
            out_on = rows[-1]["event_date"]
            assert all(r["变动日期"] <= out_on for r in later[pid]), pid
    assert returned and stayed


def test_assistance_states_enter_and_leave_on_time_and_late(truth):
    rows = [s for s in truth["states"] if s["state"] == "assistance"]
    assert {s["value"] for s in rows} == {"纳入", "退出"}
    assert any(_months_late(s) >= 1 and s["value"] == "纳入" for s in rows)
    assert any(_months_late(s) >= 1 and s["value"] == "退出" for s in rows)


def test_household_size_follows_the_register_and_the_events_by_event_date(truth, six):
    out, manifest = six
    register = {
        h["户编号"]: h["家庭人口数"] for h in pq.read_table(out / "2025-01" / "household.parquet").to_pylist()
    }
    counts = {(h["household_id"], h["period"]): h["member_count"] for h in truth["households"]}
    assert len(counts) == len(register) * len(manifest.periods)
    change = defaultdict(int)
    touched = set()
    for e in truth["events"]:
        step = {"death": -1, "labourer_death": -1, "move_out": -1, "birth": 1, "move_in": 1}.get(e["event"])
        if e["event"] == "conflict_dead_listed":
            step = -1
        if step and e["household_id"]:
            month = max(e["event_date"].strftime("%Y-%m"), manifest.periods[0])
            change[(e["household_id"], month)] += step
            touched.add(e["household_id"])
    late_births = [e for e in truth["events"] if e["event"] == "birth" and _months_late(e) >= 1]
    assert late_births and touched
    for hid, size in register.items():
        running = size
        for period in manifest.periods:
            running += change[(hid, period)]
            assert counts[(hid, period)] == running, (hid, period)
    for e in late_births:  # counted from the month of birth, not from the month it arrived
        month = e["event_date"].strftime("%Y-%m")
        assert counts[(e["household_id"], month)] >= 1


def test_employee_insured_members_are_marked_and_claim_under_employee_insurance(truth, records, members):
    employee = {pid for pid, m in members.items() if m["是否参加职工基本医疗保险"] == "是"}
    assert 0.02 < len(employee) / len(members) < 0.2
    assert all(members[pid]["是否参加城乡居民基本医疗保险"] == "否" for pid in employee)
    conflict = {e["record_id"] for e in truth["events"] if e["event"] == "conflict_two_insurances"}
    claims = 0
    for t in truth["feed_truth"]:
        if t["dataset"] == "medical_claim" and t["person_id"] in employee and t["record_id"] not in conflict:
            assert records[("medical_claim", t["record_id"])][1]["参保类型"] == "职工医保"
            claims += 1
    assert claims


def test_newborns_and_children_moving_in_get_new_valid_numbers_of_their_own(truth, records, members):
    noise = {t["record_id"]: t["noise"] for t in truth["feed_truth"] if t["dataset"] == "civil_registry"}
    known = {m["证件号码"] for m in members.values()}
    issued = []
    for e in truth["events"]:
        if e["event"] not in ("birth", "move_in") or noise[e["record_id"]]:
            continue
        _, r = records[("civil_registry", e["record_id"])]
        check = ids.check(r["证件号码"])
        assert check.valid and r["证件号码"][6:14] == r["出生日期"].strftime("%Y%m%d"), r
        assert r["证件号码"] not in known and r["证件号码"] != r["父（母）亲证件号码"]
        if e["event"] == "birth":
            assert r["出生日期"] == r["变动日期"] == e["event_date"]
        else:
            assert r["出生日期"] < r["变动日期"] == e["event_date"]
        issued.append(r["证件号码"])
    assert len(issued) == len(set(issued)) >= 2


def test_a_birth_names_the_mother_or_the_father_in_the_household(truth, records, members):
    by_id = {m["证件号码"]: m for m in members.values()}
    named = Counter()
    for e in truth["events"]:
        if e["event"] == "birth":
            parent = by_id[records[("civil_registry", e["record_id"])][1]["父（母）亲证件号码"]]
            assert parent["户编号"] == e["household_id"]
            named[parent["性别"]] += 1
    assert named["女"] and named["男"], named


def test_late_deliveries_states_and_sizes_are_the_same_bytes_for_the_same_seed(six, tmp_path):
    _, manifest = six
    again = generate(tmp_path / "again", persons=2000, seed=11, start="2025-01", months=6, fmt="parquet")
    assert {f.path: f.sha256 for f in again.files} == {f.path: f.sha256 for f in manifest.files}
    assert {"truth/states.parquet", "truth/households.parquet"} <= {f.path for f in again.files}


def test_deliveries_hold_each_record_back_once_and_a_households_records_together():
    months, n = 6, 400
    deliveries = Deliveries(seed=1, county=0, months=months)
    arrived = {}
    for m in range(months):
        person = np.arange(n) + 1000 * m
        household = person // 4  # four members a household, entering 低保 together
        day = np.full(n, np.datetime64(f"2025-{m + 1:02d}-03"))
        c = chunk("assistance", {"change_date": day}, person, household, np.zeros(n, int))
        c.late_kind, c.unit = np.full(n, EVENT["dibao_entry"]), household
        out = deliveries.route(c, m)
        rows = np.arange(len(out)) if out.keep is None else out.keep
        for p in out.person[rows].tolist():
            assert p not in arrived  # once
            arrived[p] = m
    assert len(arrived) == months * n
    delay = {p: m - p // 1000 for p, m in arrived.items()}
    assert set(delay.values()) <= {0, 1, 2, 4, 5} and {1, 2} <= set(delay.values())
    assert max(delay.values()) >= 4
    assert all(p // 1000 + d < months for p, d in delay.items())  # nothing arrives after the last month
    for p, d in delay.items():
        assert delay[p - p % 4] == d  # the household's members share their delay
    late = sum(1 for d in delay.values() if d) / len(delay)
    assert 0.05 < late < 0.2
