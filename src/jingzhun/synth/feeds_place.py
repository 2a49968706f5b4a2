"""住建 housing assessments (per house owner), 水利 water safety and 应急 disaster losses (per village)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from jingzhun.synth import data
from jingzhun.synth.feedbase import EVENT, Ctx, FeedChunk, chunk, days_in, person_cols
from jingzhun.synth.regions import hamlet_names
from jingzhun.synth.strings import pick

DISASTER_TYPES = ("洪涝", "干旱", "台风", "地震", "地质灾害", "冰雹", "低温冷冻", "火灾", "其他")


def housing_safety(ctx: Ctx, m: int) -> FeedChunk:
    """About one house in 24 is (re)assessed each month; planted A/B → C/D downgrades."""
    pop, rng, tl = ctx.pop, ctx.rng, ctx.tl
    p, h = pop.p, pop.h
    n_h = pop.n_households
    head = h["head"]
    unsafe = tl.h["house_unsafe"] == m
    assessed = ((rng.random(n_h) < 1 / 24) | unsafe) & tl.alive(m)[head]
    grade = h["grade"].copy()
    swap = rng.random(n_h) < 0.03
    grade = np.where(swap & (grade <= 1), 1 - grade, grade)
    grade = np.where(unsafe, np.where(rng.random(n_h) < 0.7, 2, 3), grade)
    hsel = np.flatnonzero(assessed)
    idx = head[hsel]
    others = np.flatnonzero(
        tl.alive(m) & (p["hh"] < 0) & (p["age"] >= 25) & (rng.random(pop.n_people) < 0.003)
    )
    o_grade = rng.choice(4, len(others), p=[0.5, 0.47, 0.02, 0.01])
    all_idx = np.r_[idx, others]
    all_grade = np.r_[grade[hsel], o_grade]
    k = len(all_idx)
    cols = person_cols(pop, ctx.plan, all_idx, rng, region_share=1.0, phone_share=0.8)
    cols.update(
        {"grade": pick(data.HOUSE_GRADES, all_grade), "assess_date": days_in(rng, ctx.month_start(m), k)}
    )
    event = np.where((all_grade >= 2) & (p["hh"][all_idx] >= 0), EVENT["house_unsafe"], -1)
    return ctx.people_chunk("housing_safety", all_idx, cols, event)


def _village_households(ctx: Ctx) -> np.ndarray:
    counts = np.zeros(len(ctx.plan.village_code), dtype=np.int64)
    np.add.at(counts, ctx.pop.h["village"], 1)
    return counts


def water_safety(ctx: Ctx, m: int) -> FeedChunk:
    """Villages are assessed about twice a year, 1–3 natural villages each; a few fail."""
    rng, ev = ctx.rng, ctx.cfg.events
    villages = ctx.pop.villages
    nv = len(villages)
    forced_month = int(ctx.stable(6).integers(0, ctx.cfg.months))
    forced_village = int(ctx.stable(6).integers(0, nv))
    assessed = rng.random(nv) < 1 / 6
    bad = assessed & (rng.random(nv) < ev.unsafe_water)
    if m == forced_month:
        assessed[forced_village] = bad[forced_village] = True
    vsel = np.flatnonzero(assessed)
    reps = rng.integers(1, 4, len(vsel))
    v_local = np.repeat(vsel, reps)
    first_bad = np.r_[True, v_local[1:] != v_local[:-1]] & np.repeat(bad[vsel], reps)
    k = len(v_local)
    v = villages[v_local]
    first = np.r_[0, np.flatnonzero(v_local[1:] != v_local[:-1]) + 1] if k else np.zeros(0, np.int64)
    rank = np.arange(k) - np.repeat(first, np.diff(np.r_[first, k]))
    offset = np.repeat(rng.integers(0, 100, len(first)), np.diff(np.r_[first, k]))
    hamlet = (offset + rank) % ctx.plan.village_hamlets[v]
    u = rng.random(k)
    fail = np.where(first_bad, np.where(u < 0.5, 1, np.where(u < 0.75, 0, 2)), -1)
    fail = np.where((fail < 0) & (rng.random(k) < 0.003), 2, fail)
    supply = np.where(fail == 2, rng.integers(270, 329, k), rng.integers(335, 366, k))
    cols = {
        "village_code": ctx.plan.village_code.take(pa.array(v)),
        "natural_village": hamlet_names(v, hamlet),
        "quantity_ok": fail != 0,
        "quality_ok": fail != 1,
        "access_ok": np.ones(k, bool),
        "supply_days": supply,
        "assess_date": days_in(rng, ctx.month_start(m), k),
    }
    event = np.where(fail >= 0, EVENT["unsafe_water"], -1)
    return chunk("water_safety", cols, np.full(k, -1), np.full(k, -1), v, event)


def disaster_loss(ctx: Ctx, m: int) -> FeedChunk:
    """Seasonal disasters hit 1–4 villages of a township at a time."""
    rng, plan = ctx.rng, ctx.plan
    cal_month = int((np.datetime64(ctx.cfg.start, "M") + m).astype(object).month)
    season = [i for i, t in enumerate(DISASTER_TYPES) if cal_month in data.DISASTERS_BY_MONTH.get(t, ())]
    season = season or [DISASTER_TYPES.index("其他")]
    towns = np.unique(plan.village_town[ctx.pop.villages])
    hit = rng.random(len(towns)) < 0.012 * len(season)
    forced_month = int(ctx.stable(7).integers(0, ctx.cfg.months))
    if m == forced_month and not hit.any():
        hit[int(ctx.stable(7).integers(0, len(towns)))] = True
    v_list, type_list, sev_list, day_list = [], [], [], []
    start = ctx.month_start(m)
    for t in towns[hit].tolist():  # a handful of townships a month
        vs = np.flatnonzero(plan.village_town == t)
        k = min(len(vs), int(rng.integers(1, 5)))
        chosen = np.sort(rng.choice(vs, k, replace=False))
        v_list.append(chosen)
        type_list.append(np.full(k, season[int(rng.integers(0, len(season)))]))
        sev_list.append(np.full(k, int(rng.choice(4, p=[0.85, 0.12, 0.025, 0.005]))))
        day_list.append(np.full(k, days_in(rng, start, 1)[0]))
    if not v_list:
        e = np.zeros(0, dtype=np.int64)
        return chunk("disaster_loss", {}, e, e, e)
    v = np.concatenate(v_list)
    k = len(v)
    households = _village_households(ctx)[v]
    affected = np.maximum(1, np.round(households * rng.uniform(0.05, 0.6, k))).astype(np.int64)
    severity = np.concatenate(sev_list)
    loss = np.round(affected * rng.lognormal(np.log(6000), 0.8, k) * (1 + severity), -2)
    cols = {
        "village_code": plan.village_code.take(pa.array(v)),
        "disaster_type": pick(DISASTER_TYPES, np.concatenate(type_list)),
        "severity": pick(("一般", "较大", "重大", "特别重大"), severity),
        "event_date": np.concatenate(day_list),
        "affected_households": affected,
        "direct_loss": loss.astype(np.float64),
    }
    return chunk("disaster_loss", cols, np.full(k, -1), np.full(k, -1), v, np.full(k, EVENT["disaster"]))
