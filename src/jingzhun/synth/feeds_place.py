"""住建 housing assessments (per house owner), 水利 water safety and 应急 disaster losses (per village)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.synth import data
from jingzhun.synth.feedbase import EVENT, Ctx, FeedChunk, chunk, days_in, person_cols
from jingzhun.synth.regions import hamlet_names
from jingzhun.synth.strings import pick
from jingzhun.synth.timeline import EARLY, NEVER

DISASTER_TYPES = ("洪涝", "干旱", "台风", "地震", "地质灾害", "冰雹", "低温冷冻", "火灾", "其他")


def housing_safety(ctx: Ctx, m: int) -> FeedChunk:
    """About one house in 24 is (re)assessed each month and shows its grade at the time: the registry's,
    C/D from a planted downgrade on, A/B again from a planted repair on (re-rated in that month)."""
    pop, rng, tl = ctx.pop, ctx.rng, ctx.tl
    p, h = pop.p, pop.h
    n_h = pop.n_households
    head = h["head"]
    unsafe, repaired = tl.h["house_unsafe"], tl.h["house_repaired"]
    assessed = ((rng.random(n_h) < 1 / 24) | (unsafe == m) | (repaired == m)) & tl.alive(m)[head]
    grade = h["grade"].copy()
    swap = rng.random(n_h) < 0.03
    grade = np.where(swap & (grade <= 1), 1 - grade, grade)
    grade = np.where(unsafe <= m, tl.h["house_unsafe_grade"], grade)
    grade = np.where(repaired <= m, tl.h["house_repaired_grade"], grade)
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


@dataclass
class _Water:
    """Drinking-water state of a county's natural villages (and of whole villages) from month to month.

    A unit is a natural village, or a village for village-wide assessments (after all natural villages
    in the flat arrays)."""

    first: np.ndarray  # per local village: index of its first natural village in the flat arrays
    lived: np.ndarray  # natural villages where people live (index within their village), by village
    lived_first: np.ndarray  # per local village: its first entry in ``lived``
    lived_count: np.ndarray  # per local village: its entries in ``lived``
    failing: np.ndarray  # per unit: the last assessment failed
    retest: np.ndarray  # per failing unit: month of its next re-assessment (NEVER: none)
    assess: dict[int, list[int]] = field(default_factory=dict)  # planted: month -> units assessed
    fails: set[tuple[int, int]] = field(default_factory=set)  # planted: (unit, month) fails afresh
    passes: set[tuple[int, int]] = field(default_factory=set)  # planted: (unit, month) passes
    retest_at: dict[int, int] = field(default_factory=dict)  # planted: unit -> month of its re-assessment


def _water_plan(ctx: Ctx) -> _Water:
    """Planted in every county (with two months or more): in one village, in the first month, one
    natural village fails while another passes; the first passes at its re-assessment two months later,
    the second fails the next month and is not re-assessed (it stays failing)."""
    plan = ctx.cache.get("water")
    if isinstance(plan, _Water):
        return plan
    villages = ctx.pop.villages
    hamlets = ctx.plan.village_hamlets[villages]
    first = np.r_[0, np.cumsum(hamlets)[:-1]].astype(np.int64)
    units = int(hamlets.sum()) + len(villages)
    h = ctx.pop.h
    local = np.searchsorted(villages, h["village"])  # households' local village (villages are sorted)
    pairs = np.unique(local * 1000 + h["hamlet"])
    lived_count = np.bincount(pairs // 1000, minlength=len(villages))
    lived_first = np.r_[0, np.cumsum(lived_count)[:-1]]
    w = _Water(first, pairs % 1000, lived_first, lived_count, np.zeros(units, bool), np.full(units, NEVER))
    months = ctx.cfg.months
    stable = ctx.stable(6)
    for v_local in stable.permutation(len(villages)).tolist() if months >= 2 else []:
        lived = np.unique(h["hamlet"][h["village"] == villages[v_local]])  # natural villages with people
        if len(lived) >= 2:
            a, b = (first[v_local] + stable.choice(lived, 2, replace=False)).tolist()
            back = min(2, months - 1)
            w.assess = {0: [a, b], 1: [b]}
            w.assess.setdefault(back, []).append(a)
            w.fails = {(a, 0), (b, 1)}
            w.passes = {(b, 0), (a, back)}
            w.retest_at = {a: back, b: NEVER}
            break
    ctx.cache["water"] = w
    return w


def water_safety(ctx: Ctx, m: int) -> FeedChunk:
    """Villages are assessed about twice a year: 1–3 natural villages each, or (one in twenty) the whole
    village without naming one. A failing unit stays failing until a re-assessment 1–3 months later
    passes (60 %); a few assessments fail afresh."""
    rng, ev = ctx.rng, ctx.cfg.events
    villages = ctx.pop.villages
    nv = len(villages)
    w = _water_plan(ctx)
    hamlets = ctx.plan.village_hamlets[villages]
    wide_unit = int(hamlets.sum()) + np.arange(nv)
    assessed = rng.random(nv) < 1 / 6
    bad = assessed & (rng.random(nv) < ev.unsafe_water)
    wide = rng.random(nv) < 0.05
    forced_month = int(ctx.stable(7).integers(0, ctx.cfg.months))
    forced_village = int(ctx.stable(7).integers(0, nv))
    if m == forced_month:  # a whole-village assessment in every county
        assessed[forced_village], wide[forced_village] = True, True
    vsel = np.flatnonzero(assessed & ~wide)
    reps = rng.integers(1, 4, len(vsel))
    v_local = np.repeat(vsel, reps)
    first_of = np.r_[0, np.flatnonzero(v_local[1:] != v_local[:-1]) + 1] if len(v_local) else np.zeros(0, int)
    rank = np.arange(len(v_local)) - np.repeat(first_of, np.diff(np.r_[first_of, len(v_local)]))
    offset = np.repeat(rng.integers(0, 100, len(first_of)), np.diff(np.r_[first_of, len(v_local)]))
    # the natural villages where people live (all of them where the register has nobody)
    count = np.where(w.lived_count[v_local] > 0, w.lived_count[v_local], hamlets[v_local])
    pick_ = (offset + rank) % count
    lived = (
        w.lived[np.minimum(w.lived_first[v_local] + pick_, max(len(w.lived) - 1, 0))]
        if len(w.lived)
        else pick_
    )
    hamlet_idx = np.where(w.lived_count[v_local] > 0, lived, pick_)
    unit = w.first[v_local] + hamlet_idx
    new_bad = (
        np.r_[True, v_local[1:] != v_local[:-1]] & np.repeat(bad[vsel], reps) if len(v_local) else unit > 0
    )
    wsel = np.flatnonzero(assessed & wide)
    unit = np.r_[unit, wide_unit[wsel]]
    new_bad = np.r_[new_bad, bad[wsel]]
    due = np.setdiff1d(np.flatnonzero(w.retest == m), unit)
    unit = np.r_[unit, due]
    new_bad = np.r_[new_bad, np.zeros(len(due), bool)]
    for x in w.assess.get(m, []):
        unit, new_bad = np.r_[unit, x], np.r_[new_bad, False]
    unit, keep = np.unique(unit, return_index=True)
    new_bad = new_bad[keep]
    k = len(unit)
    fail = np.zeros(k, bool)
    for i, x in enumerate(unit.tolist()):  # a handful of assessments a month
        was_failing, due = bool(w.failing[x]), w.retest[x] == m
        if (x, m) in w.passes or (x, m) in w.fails:
            failed = (x, m) in w.fails
        elif was_failing:
            failed = not (due and rng.random() < 0.6)
        else:
            failed = bool(new_bad[i]) or rng.random() < 0.003
        if not failed:
            w.retest[x] = NEVER
        elif not was_failing or due:  # a new failure, or a failed re-assessment: when to look again
            w.retest[x] = w.retest_at.get(x, m + int(rng.integers(1, 4)))
        w.failing[x] = fail[i] = failed
    is_wide = unit >= int(hamlets.sum())
    v_loc = np.where(is_wide, unit - int(hamlets.sum()), np.searchsorted(w.first, unit, side="right") - 1)
    hamlet = np.where(is_wide, 0, unit - w.first[v_loc])
    v = villages[v_loc]
    u = rng.random(k)
    kind = np.where(fail, np.where(u < 0.5, 1, np.where(u < 0.75, 0, 2)), -1)
    supply = np.where(kind == 2, rng.integers(270, 329, k), rng.integers(335, 366, k))
    names = pc.if_else(pa.array(is_wide), pa.scalar(None, pa.string()), hamlet_names(v, hamlet))
    cols = {
        "village_code": ctx.plan.village_code.take(pa.array(v)),
        "natural_village": names,
        "quantity_ok": kind != 0,
        "quality_ok": kind != 1,
        "access_ok": np.ones(k, bool),
        "supply_days": supply,
        "assess_date": days_in(rng, ctx.month_start(m), k),
    }
    event = np.where(fail, EVENT["unsafe_water"], -1)
    return chunk("water_safety", cols, np.full(k, -1), np.full(k, -1), v, event)


def disaster_loss(ctx: Ctx, m: int) -> FeedChunk:
    """Seasonal disasters hit 1–4 villages of a township at a time."""
    rng, plan = ctx.rng, ctx.plan
    cal_month = int((np.datetime64(ctx.cfg.start, "M") + m).astype(object).month)
    season = [i for i, t in enumerate(DISASTER_TYPES) if cal_month in data.DISASTERS_BY_MONTH.get(t, ())]
    season = season or [DISASTER_TYPES.index("其他")]
    towns = np.unique(plan.village_town[ctx.pop.villages])
    hit = rng.random(len(towns)) < 0.012 * len(season)
    if m < EARLY and not hit.any():  # every county has disasters in its first months (late ones fit)
        hit[int(ctx.stable(7 + m).integers(0, len(towns)))] = True
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
    event = np.full(k, EVENT["disaster"])
    c = chunk("disaster_loss", cols, np.full(k, -1), np.full(k, -1), v, event)
    c.late_kind, c.unit = event, v.astype(np.int64)
    return c
