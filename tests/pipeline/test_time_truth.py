"""Alerts right in time, checked against the generator's truth over six months (docs/DOMAIN.md "Time").

The county plants late deliveries of every event kind (1, 2 and 4–5 months late), states that change
(houses re-rated, natural villages' water failing and passing, children dropping out and returning),
entries to and exits from social assistance, births and deaths between extracts (docs/SYNTH.md). Each
month is imported and run as a county office would, and every planted fact must give the alert the
domain prescribes, in the month it prescribes:

* an event alerts in the run that receives it when it is dated within the grace window, never again, and
  never when it arrives too late;
* a state alert persists while the latest record says so and clears in the run that receives the record
  ending it;
* no household is eliminable while one of its triggers fires or within months of a risk event;
* household size follows the deaths, births and moves received.

Records whose linkage was left to a clerk (noisy ID numbers) are not a question of time: they are skipped,
and their number is bounded.
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from jingzhun.store import DataFolder

MONTHS = [f"2025-{m:02d}" for m in range(1, 7)]
GRACE = 3  # policies/params.yaml record_grace_months

# planted event kind -> (rule, entity the flag is about: person, household or village, and the keys of
# the evidence listing the records the rule counts as new events)
EVENT_RULES = {
    "labourer_death": ("trigger.main_labourer_death", "household", ("deaths",)),
    "severe_disability": ("trigger.severe_disability_new", "person", ("certs",)),
    "serious_illness": ("trigger.serious_illness", "person", ("claims",)),
    "chronic_outpatient": ("trigger.chronic_outpatient", "household", ("claims",)),
    "job_loss": ("trigger.main_labourer_no_work", "person", ("lost",)),
    "disaster": ("trigger.disaster_loss", "village", ("events",)),
    "dibao_entry": ("trigger.assistance_change", "person", ("entered",)),
    "dibao_exit": ("trigger.assistance_change", "person", ("left",)),
    "tekun_entry": ("trigger.assistance_change", "person", ("entered",)),
    "tekun_exit": ("trigger.assistance_change", "person", ("left",)),
    "temp_assistance": ("trigger.assistance_change", "person", ("entered", "left")),
}


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """A 2,000-person county over six months, imported and run month by month: (files, data, run ids)."""
    from county_data import import_county
    from jingzhun.pipeline import run_period
    from jingzhun.synth import generate

    root = tmp_path_factory.mktemp("time")
    county = root / "synth"
    generate(county, persons=2000, seed=5, start=MONTHS[0], months=len(MONTHS), fmt="parquet")
    data = import_county(county, root / "jz", MONTHS)
    runs = {m: run_period(data, m, handoff=False).run_id for m in MONTHS}
    yield county, data, runs
    shutil.rmtree(root, ignore_errors=True)


def _month_index(month: str) -> int:
    y, m = map(int, month.split("-"))
    return y * 12 + m


def _con(county: Path, data: Path, runs: dict[str, str]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    truth = county / "truth"
    for name in ("events", "states", "households", "feed_truth"):
        con.register(name, pq.read_table(truth / f"{name}.parquet"))
    con.register("registry_household", pq.read_table(county / MONTHS[0] / "household.parquet"))
    con.register("registry_member", pq.read_table(county / MONTHS[0] / "member.parquet"))
    for month, run_id in runs.items():
        folder = DataFolder(data).run_dir(run_id)
        for table in ("flags", "alerts", "links"):
            con.register(f"{table}_{month[-2:]}", pq.read_table(folder / f"{table}.parquet"))
    return con


def _flags(con: duckdb.DuckDBPyConnection, month: str) -> list[dict]:
    rows = con.execute(f"SELECT rule_id, entity_id, household_id, village_code, evidence FROM flags_{month[-2:]}")
    cols = [d[0] for d in rows.description]
    return [dict(zip(cols, r, strict=True)) for r in rows.fetchall()]


def _record_ids(evidence: str | None, keys: tuple[str, ...]) -> set[str]:
    """The record ids the evidence lists under ``keys``."""
    records = json.loads(evidence or "{}").get("records") or {}
    return {i for key in keys for i in records.get(key) or [] if isinstance(i, str)}


def _linked(con: duckdb.DuckDBPyConnection, month: str, dataset: str, record_id: str) -> bool:
    return bool(con.execute(
        f"SELECT count(*) FROM links_{month[-2:]} WHERE feed = ? AND record_id = ? AND band = 'accepted'",
        [dataset, record_id]).fetchall()[0][0])


def _main_labourer(con: duckdb.DuckDBPyConnection, person_id: str, month: str) -> bool:
    """def.main_labourer of policies/params.yaml, from the registry extract."""
    row = con.execute(
        'SELECT "出生日期", "劳动技能" FROM registry_member WHERE "人编号" = ?', [person_id]).fetchone()
    if row is None or row[0] is None:
        return False
    y, m = map(int, month.split("-"))
    end = date(y + (m == 12), m % 12 + 1, 1)
    birth = row[0] if isinstance(row[0], date) else date.fromisoformat(str(row[0])[:10])
    age = end.year - birth.year - ((end.month, end.day) <= (birth.month, birth.day))
    return row[1] in ("技能劳动力", "普通劳动力") and 16 <= age <= 60


def test_every_planted_event_alerts_in_the_run_that_receives_it_once(months):
    county, data, runs = months
    con = _con(county, data, runs)
    flags = {m: _flags(con, m) for m in MONTHS}
    events = con.execute(f"""
        SELECT event, arrival, event_date, person_id, household_id, village_code, dataset, record_id
        FROM events WHERE event IN ({", ".join("?" * len(EVENT_RULES))}) AND record_id IS NOT NULL
        ORDER BY arrival, record_id
    """, list(EVENT_RULES)).fetchall()
    checked = late = too_late = skipped = 0
    problems: list[str] = []
    for kind, arrival, event_date, person, household, village, dataset, record in events:
        rule, entity, keys = EVENT_RULES[kind]
        if arrival not in runs:
            continue
        if entity != "village" and not _linked(con, arrival, dataset, record):
            skipped += 1
            continue
        if kind in ("job_loss", "labourer_death") and not _main_labourer(con, person, arrival):
            continue
        lateness = _month_index(arrival) - _month_index(f"{event_date:%Y-%m}")
        within_grace = lateness <= GRACE
        late += 0 < lateness <= GRACE
        too_late += not within_grace
        for month in MONTHS:
            hits = [f for f in flags[month]
                    if f["rule_id"] == rule and record in _record_ids(f["evidence"], keys)]
            expected = within_grace and month == arrival
            if expected and not hits:
                problems.append(f"{kind} {record} dated {event_date}, received {arrival}: no {rule} in {month}")
            if not expected and hits:
                problems.append(f"{kind} {record} dated {event_date}, received {arrival}: {rule} in {month}")
            if expected and entity == "village":
                # a disaster concerns every household of the village, whatever its type
                fired = {f["household_id"] for f in hits}
                households = {r[0] for r in con.execute(
                    'SELECT "户编号" FROM registry_household WHERE "行政村代码" = ?', [village]).fetchall()}
                if fired != households:
                    problems.append(f"disaster {record}: {len(fired)} of {len(households)} households alerted")
            elif expected:
                subject = person if entity == "person" else household
                if subject not in {f["entity_id"] for f in hits}:
                    problems.append(f"{kind} {record}: {rule} in {month} is not about {subject}")
        checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= 40 and late >= 10 and too_late >= 3, (checked, late, too_late)
    assert skipped <= 0.1 * (checked + skipped), skipped


def _latest(records: list[tuple], month: str) -> tuple | None:
    """The latest record (event date, then arrival, then record id) received by ``month`` and dated up to
    its end."""
    seen = [r for r in records if r[1] <= month and f"{r[0]:%Y-%m}" <= month and r[3] is not None]
    return max(seen, key=lambda r: (r[0], r[1], r[2])) if seen else None


def _alert_status(con: duckdb.DuckDBPyConnection, month: str, rule: str, household: str) -> str | None:
    row = con.execute(
        f"SELECT status FROM alerts_{month[-2:]} WHERE rule_id = ? AND household_id = ?", [rule, household]
    ).fetchone()
    return row[0] if row else None


def _check_state(con, rule: str, household: str, records: list[tuple], fires, problems: list[str]) -> int:
    """Compare the alerts of ``household`` for ``rule`` month by month with what the latest of ``records``
    (event date, arrival, record id, value) says; returns the number of months checked."""
    checked = 0
    for i, month in enumerate(MONTHS):
        latest = _latest(records, month)
        if latest is None:
            continue
        on = fires(latest[3])
        was_on = i > 0 and _alert_status(con, MONTHS[i - 1], rule, household) in ("new", "persisting")
        status = _alert_status(con, month, rule, household)
        want = ("persisting" if was_on else "new") if on else ("cleared" if was_on else None)
        if status != want:
            problems.append(f"{rule} {household} in {month}: latest {latest[3]} of {latest[0]} "
                            f"(received {latest[1]}) → expected {want}, found {status}")
        checked += 1
    return checked


def _feed(county: Path, dataset: str, columns: str) -> list[tuple]:
    """Every record of ``dataset`` as the county's files hold them, with the month of the file (arrival)."""
    files = [str(county / m / f"{dataset}.parquet") for m in MONTHS]
    return duckdb.execute(
        f"SELECT {columns}, regexp_extract(filename, '(\\d{{4}}-\\d{{2}})/[^/]+$', 1) AS arrival "
        "FROM read_parquet(?, filename = true)", [files]).fetchall()


def test_state_alerts_persist_while_the_state_holds_and_clear_when_it_ends(months):
    county, data, runs = months
    con = _con(county, data, runs)
    problems: list[str] = []
    checked = cleared = 0
    first = "0000-00"  # the registry extract: before any assessment

    # houses: the latest assessment received of the household's house, else the registry's grade; for
    # every house the generator rated C or D at some point
    houses = {r[0] for r in con.execute("SELECT household_id FROM states WHERE state = 'house_grade'").fetchall()}
    owner = dict(con.execute(
        "SELECT record_id, household_id FROM feed_truth WHERE dataset = 'housing_safety'").fetchall())
    grades = dict(con.execute('SELECT "户编号", "危房级别" FROM registry_household').fetchall())
    by_house: dict[str, list[tuple]] = defaultdict(list)
    for record, grade, day, arrival in _feed(county, "housing_safety", '"鉴定编号", "鉴定等级", "鉴定日期"'):
        household = owner.get(record)
        if household in houses and _linked(con, arrival, "housing_safety", record):
            by_house[household].append((day, arrival, record, grade))
    for household in sorted(houses):
        records = [*by_house[household], (date(1900, 1, 1), first, "", grades.get(household))]
        checked += _check_state(con, "trigger.unsafe_house", household, records,
                                lambda v: v in ("C", "D"), problems)
        cleared += any(_alert_status(con, m, "trigger.unsafe_house", household) == "cleared" for m in MONTHS)

    # water: for the households screened (脱贫户, monitoring objects), the latest assessment received of
    # their natural village or of their whole administrative village (naming none), else the registry
    villages = {r[0] for r in con.execute("SELECT village_code FROM states WHERE state = 'water'").fetchall()}
    water = _feed(county, "water_safety",
                  '"行政村代码", coalesce("自然村", \'\'), "评估日期", "记录编号", '
                  '"水量达标" = \'是\' AND "水质达标" = \'是\' AND "取水便利" = \'是\' '
                  'AND coalesce("供水保证天数", 366) >= 329')
    screened = con.execute("""
        SELECT "户编号", "行政村代码", coalesce("自然村", ''), "是否解决安全饮用水" FROM registry_household
        WHERE "户类型" = '脱贫户' OR "监测对象类别" IS NOT NULL
    """).fetchall()
    for household, village, natural, safe in screened:
        if village not in villages:
            continue
        records = [(d, a, r, "pass" if ok else "fail") for vc, nv, d, r, ok, a in water
                   if vc == village and nv in ("", natural)]
        records.append((date(1900, 1, 1), first, "", "fail" if safe == "否" else "pass"))
        checked += _check_state(con, "trigger.unsafe_water", household, records,
                                lambda v: v == "fail", problems)
        cleared += any(_alert_status(con, m, "trigger.unsafe_water", household) == "cleared" for m in MONTHS)

    # school: a compulsory-age child's latest 学籍 status, for the children who dropped out
    children = defaultdict(list)
    for person, event_date, arrival, record, value in con.execute(
        "SELECT person_id, event_date, arrival, record_id, value FROM states WHERE state = 'school'"
    ).fetchall():
        if arrival in runs and _linked(con, arrival, "enrolment", record):
            children[person].append((event_date, arrival, record, value))
    for person, records in children.items():
        for month in MONTHS:
            latest = _latest(records, month)
            if latest is None:
                continue
            fired = any(f["rule_id"] == "trigger.compulsory_dropout" and f["entity_id"] == person
                        for f in _flags(con, month))
            if fired != (latest[3] in ("辍学", "休学")):
                problems.append(f"dropout {person} in {month}: latest {latest[3]} of {latest[0]}, fired {fired}")
            checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= 20 and cleared >= 2, (checked, cleared)


def test_no_household_is_eliminable_while_a_trigger_fires_or_soon_after_a_risk_event(months):
    county, data, runs = months
    con = _con(county, data, runs)
    eliminable_seen = 0
    for month in MONTHS:
        flags = _flags(con, month)
        eliminable = {f["household_id"] for f in flags if f["rule_id"] == "exit.risk_eliminable"}
        triggered = {f["household_id"] for f in flags if f["rule_id"].startswith("trigger.")}
        assert not eliminable & triggered, (month, sorted(eliminable & triggered))
        recent = {r[0] for r in con.execute("""
            SELECT DISTINCT household_id FROM events
            WHERE event IN ('labourer_death', 'death', 'severe_disability', 'serious_illness', 'job_loss',
                            'dibao_exit', 'tekun_exit')
              AND arrival <= ? AND event_date > CAST(? AS DATE) - INTERVAL 3 MONTH
              AND strftime(event_date, '%Y-%m') <= ?
        """, [month, f"{month}-28", month]).fetchall()}
        linked = {h for h in recent if h}
        assert not eliminable & linked, (month, sorted(eliminable & linked))
        eliminable_seen += len(eliminable)
    assert eliminable_seen > 0, "some monitored households are eliminable at all"


def test_household_size_follows_deaths_births_and_moves(months):
    from jingzhun.pipeline.run import context_for_run
    from jingzhun.policy import evaluate, load_text

    county, data, runs = months
    con = _con(county, data, runs)
    size_rule = load_text("""
rules:
  - id: tag.size
    kind: tag
    entity: household
    let: {size: household.member_count}
    when: "true"
""")
    changed = {r[0] for r in con.execute("""
        SELECT DISTINCT household_id FROM events
        WHERE event IN ('death', 'labourer_death', 'birth', 'move_out', 'move_in') AND household_id IS NOT NULL
    """).fetchall()}
    assert len(changed) >= 5
    compared = differing = 0
    problems = []
    month = MONTHS[-1]
    engine, _ = context_for_run(data, runs[month])
    try:
        sizes = {r["entity_id"]: json.loads(r["evidence"])["values"]["size"]
                 for r in evaluate(engine, size_rule, month).to_pylist()}
    finally:
        engine.close()
    truth = dict(con.execute(
        "SELECT household_id, member_count FROM households WHERE period = ?", [month]).fetchall())
    extract = dict(con.execute(
        'SELECT "户编号", count(*) FROM registry_member GROUP BY 1').fetchall())
    for household in sorted(changed):
        pending = con.execute("""
            SELECT count(*) FROM events WHERE household_id = ? AND arrival > ?
              AND event IN ('death', 'labourer_death', 'birth', 'move_out', 'move_in')
        """, [household, month]).fetchall()[0][0]
        if pending or household not in truth:
            continue  # an event not received yet cannot count
        compared += 1
        differing += truth[household] != extract.get(household)
        if sizes.get(household) != truth[household]:
            problems.append(f"{household}: size {sizes.get(household)}, truth {truth[household]}, "
                            f"extract {extract.get(household)}")
    assert len(problems) <= 0.1 * compared, "\n".join(problems)
    assert compared >= 5 and differing >= 3, (compared, differing)
