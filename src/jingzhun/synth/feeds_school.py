"""教育 school enrolment (学籍) records: one per pupil and month, 在读 mostly, a few dropouts."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.synth import data, people
from jingzhun.synth.feedbase import EVENT, Ctx, FeedChunk, days_in, person_cols
from jingzhun.synth.strings import concat, pick

# school status index -> stage label, first age of the stage, school-name pattern
_STAGE = {
    people.SCHOOL_PRIMARY: ("小学", 6),
    people.SCHOOL_JUNIOR: ("初中", 12),
    people.SCHOOL_SENIOR: ("高中", 15),
    people.SCHOOL_VOC: ("中职", 15),
    people.SCHOOL_COLLEGE: ("高职", 19),
    people.SCHOOL_UNI: ("本科", 19),
}
_COST = {  # (share paying, low, high) yuan per school year
    "小学": (0.3, 500, 1200),
    "初中": (0.35, 600, 1500),
    "高中": (1.0, 1500, 4500),
    "中职": (1.0, 400, 2200),
    "高职": (1.0, 6000, 14000),
    "本科": (1.0, 8000, 21000),
}


def enrolment(ctx: Ctx, m: int) -> FeedChunk:
    pop, rng, tl = ctx.pop, ctx.rng, ctx.tl
    p = pop.p
    n = pop.n_people
    school = p["school"]
    drop, back = tl.p["dropout"], tl.p["dropout_back"]
    # nothing is sent while a child is out of school; a child who returns is 在读 again from then on
    idx = np.flatnonzero(tl.alive(m) & (school >= people.SCHOOL_PRIMARY) & ((drop >= m) | (back <= m)))
    k = len(idx)
    st = school[idx]
    stage_labels = [_STAGE[s][0] for s in sorted(_STAGE)]
    stage_idx = st - people.SCHOOL_PRIMARY
    stage = pick(stage_labels, stage_idx)
    first_age = np.array([_STAGE[s][1] for s in sorted(_STAGE)])[stage_idx]
    years = np.array([len(data.GRADE_NAMES[s]) for s in stage_labels])[stage_idx]
    year = np.clip(p["age"][idx] - first_age, 0, years - 1)
    flat = [g for s in stage_labels for g in data.GRADE_NAMES[s]]
    offsets = np.cumsum([0] + [len(data.GRADE_NAMES[s]) for s in stage_labels])[:-1]
    grade = pick(flat, offsets[stage_idx] + year)

    plan = ctx.plan
    v = p["village"][idx]
    town = pa.array(plan.town_name, pa.string()).take(pa.array(plan.village_town[v]))
    county = ctx.pop.county_name
    city = plan.city_name[plan.county_city[ctx.county]]
    short = data.PROVINCE_NAME[:2]
    names = {
        "小学": None,
        "初中": None,
        "高中": f"{county}第一中学",
        "中职": f"{county}中等职业学校",
        "高职": f"{city}职业技术学院",
        "本科": f"{short}师范大学",
    }
    school_name = pick([names[s] or "" for s in stage_labels], stage_idx)
    school_name = pc.if_else(pa.array(stage_idx == 0), concat(town, "中心小学"), school_name)
    school_name = pc.if_else(pa.array(stage_idx == 1), concat(town, "中学"), school_name)

    stable = ctx.stable(5)
    u_pay, u_amt = stable.random(n)[idx], stable.random(n)[idx]
    share = np.array([_COST[s][0] for s in stage_labels])[stage_idx]
    lo = np.array([_COST[s][1] for s in stage_labels])[stage_idx]
    hi = np.array([_COST[s][2] for s in stage_labels])[stage_idx]
    cost = np.where(u_pay < share, np.round(lo + (hi - lo) * u_amt, -1), 0.0)

    dropped = drop[idx] == m
    u = rng.random(k)
    status = np.where(u < 0.0005, 2, np.where(u < 0.0015, 4, 0))
    status = np.where(back[idx] == m, 0, np.where(dropped, tl.p["dropout_status"][idx], status))
    age = people.age_at(p["birth"][idx], ctx.month_start(m + 1) - 1)  # at the end of the month
    compulsory = (p["hh"][idx] >= 0) & (age >= 6) & (age <= 15)
    event = np.where(compulsory & ((status == 1) | (status == 2)), EVENT["dropout"], -1)
    conflict = p["school_conflict"][idx] & (m == 0)
    event = np.where(conflict, EVENT["conflict_school_status"], event)
    cols = person_cols(pop, plan, idx, rng, region_share=0.95, phone_share=0.0)
    cols.update(
        {
            "student_id": concat("G", p["id"].take(pa.array(idx, pa.int64()))),
            "school": school_name,
            "stage": stage,
            "grade": grade,
            "status": pick(("在读", "辍学", "休学", "毕业", "转学"), status),
            "status_date": days_in(rng, ctx.month_start(m), k),
            "annual_cost": cost,
        }
    )
    return ctx.people_chunk("enrolment", idx, cols, event)
