"""医保 settlements and 残联 certificates for one county and month."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.synth import data, people
from jingzhun.synth.feedbase import EVENT, Ctx, FeedChunk, concat_chunks, days_in, person_cols
from jingzhun.synth.strings import concat, pick, zpad
from jingzhun.synth.timeline import EARLY

VISIT = {"住院": 0, "门诊": 1, "慢特病门诊": 2}


def _diagnosis(
    rng: np.random.Generator,
    table: tuple[tuple[str, bool], ...],
    n: int,
    serious_only: np.ndarray | None,
    new_serious: float = 0.0,
) -> tuple[pa.Array, np.ndarray]:
    """Draw diagnoses: people flagged ``serious_only`` get a serious one; everybody else a non-serious one,
    except a share ``new_serious`` of them (a new serious diagnosis, which is rare)."""
    names = [d for d, _ in table]
    flags = np.array([s for _, s in table])
    serious_idx, plain_idx = np.flatnonzero(flags), np.flatnonzero(~flags)
    if len(serious_idx) == 0 or len(plain_idx) == 0:
        idx = rng.integers(0, len(table), n)
        return pick(names, idx), flags[idx]
    wants = rng.random(n) < new_serious
    if serious_only is not None:
        wants |= serious_only
    idx = np.where(
        wants,
        serious_idx[rng.integers(0, len(serious_idx), n)],
        plain_idx[rng.integers(0, len(plain_idx), n)],
    )
    return pick(names, idx), flags[idx]


def _hospitals(ctx: Ctx, idx: np.ndarray, visit: np.ndarray) -> pa.Array:
    plan, p, rng = ctx.plan, ctx.pop.p, ctx.rng
    v = p["village"][idx]
    town = pa.array(plan.town_name, pa.string()).take(pa.array(plan.village_town[v]))
    county = ctx.pop.county_name
    city = plan.city_name[plan.county_city[ctx.county]]
    u = rng.random(len(idx))
    kind = np.where(
        visit == VISIT["门诊"],
        np.where(u < 0.7, 2, 0),
        np.where(
            visit == VISIT["慢特病门诊"],
            np.where(u < 0.6, 0, 1),
            np.select([u < 0.5, u < 0.7, u < 0.95], [0, 1, 3], 4),
        ),
    )
    kind = np.where(u > 0.985, 5, kind)
    names = [
        pat.format(county=county, town="", city=city, province=data.PROVINCE_NAME)
        for pat in data.HOSPITAL_PATTERNS
    ]
    base = pick(names, kind)
    return pc.if_else(pa.array(kind == 2), concat(town, "卫生院"), base)


def medical_claims(ctx: Ctx, m: int) -> FeedChunk:
    pop, rng, ev = ctx.pop, ctx.rng, ctx.cfg.events
    p = pop.p
    n = pop.n_people
    alive = ctx.tl.alive(m) & (p["med_ins"] | p["employee_ins"])
    reg = p["hh"] >= 0
    age = p["age"]
    hl = p["health"]
    outp = alive & (rng.random(n) < 0.035 + 0.0008 * age)
    chronic = alive & ((hl == people.CHRONIC) | (hl == people.SERIOUS)) & (rng.random(n) < 0.5)
    p_in = (0.005 + 0.00025 * age) * np.where(
        hl == people.SERIOUS, 3.0, np.where(hl == people.CHRONIC, 1.5, 1.0)
    )
    inp = alive & (rng.random(n) < p_in)
    big_reg = _at_least_early(rng, alive & reg & (rng.random(n) < ev.big_oop_registered), alive & reg, m)
    big_other = alive & ~reg & (rng.random(n) < ev.big_oop_other)
    two = (ctx.tl.p["two_ins"] == m) & alive & p["med_ins"]
    ill = alive & reg & ((hl == people.CHRONIC) | (hl == people.SERIOUS))
    chronic_big = _at_least_early(rng, ill & (rng.random(n) < ev.chronic_big), ill, m)
    not_serious = alive & reg & (hl != people.SERIOUS)
    new_serious = _at_least_early(rng, not_serious & (rng.random(n) < ev.new_serious), not_serious, m)

    groups = [
        (np.flatnonzero(outp), "门诊", 0),
        (np.flatnonzero(chronic), "慢特病门诊", 0),
        (np.flatnonzero(inp), "住院", 0),
        (np.flatnonzero(big_reg), "住院", 1),
        (np.flatnonzero(big_other), "住院", 2),
        (np.flatnonzero(two), "门诊", 3),
        (np.flatnonzero(two), "门诊", 4),
        (np.flatnonzero(chronic_big), "慢特病门诊", 5),
        (np.flatnonzero(new_serious), "住院", 6),
    ]
    parts = []
    helped = np.zeros(pop.n_households + 1, dtype=bool)
    helped[:-1] = pop.h["poor"] | (pop.h["monitoring"] >= 0)
    for idx, visit, special in groups:
        k = len(idx)
        if k == 0:
            continue
        v = np.full(k, VISIT[visit])
        if visit == "门诊":
            total = rng.lognormal(np.log(110), 0.8, k)
            rate = rng.uniform(0.4, 0.6, k)
            diag, serious = _diagnosis(rng, data.DIAG_OUTPATIENT, k, None)
        elif visit == "慢特病门诊":
            total = rng.lognormal(np.log(380), 0.6, k)
            rate = rng.uniform(0.6, 0.8, k)
            diag, serious = _diagnosis(rng, data.DIAG_CHRONIC, k, hl[idx] == people.SERIOUS)
        else:
            total = rng.lognormal(np.log(5200), 0.8, k)
            is_helped = helped[p["hh"][idx]] & (p["hh"][idx] >= 0)
            rate = np.where(
                is_helped,
                rng.uniform(0.8, 0.9, k),
                np.where(p["hh"][idx] >= 0, rng.uniform(0.62, 0.78, k), rng.uniform(0.55, 0.72, k)),
            )
            diag, serious = _diagnosis(
                rng, data.DIAG_INPATIENT, k, (hl[idx] == people.SERIOUS) | (special > 0), new_serious=0.03
            )
        if special == 1:
            oop = rng.lognormal(np.log(9000), 0.45, k).clip(5200, 60000)
            rate = rng.uniform(0.6, 0.8, k)
            total = oop / (1 - rate)
        elif special == 2:
            oop = rng.lognormal(np.log(28000), 0.35, k).clip(20500, 150000)
            rate = rng.uniform(0.4, 0.62, k)
            total = oop / (1 - rate)
        elif special == 5:
            oop = rng.uniform(520, 1500, k)
            rate = rng.uniform(0.6, 0.8, k)
            total = oop / (1 - rate)
        total = np.round(total, 2)
        reimbursed = np.round(total * rate, 2)
        oop = np.round(total - reimbursed, 2)
        ins = np.where((p["employee_ins"][idx] & (special != 4)) | (special == 3), 1, 0)
        cols = person_cols(pop, ctx.plan, idx, rng, region_share=0.9, phone_share=0.3)
        cols.update(
            {
                "claim_date": days_in(rng, ctx.month_start(m), k),
                "visit_type": pick(tuple(VISIT), v),
                "insurance_type": pick(("城乡居民医保", "职工医保"), ins),
                "diagnosis": diag,
                "serious_illness": serious,
                "hospital": _hospitals(ctx, idx, v),
                "total_cost": total,
                "reimbursed": reimbursed,
                "out_of_pocket": oop,
            }
        )
        regd = p["hh"][idx] >= 0
        event = np.full(k, -1)
        high = (v == 0) & ((regd & (oop >= 5000)) | (~regd & (oop >= 20000)))
        event[high] = EVENT["high_medical_cost"]
        late_kind = event.copy()
        new_ill = serious & regd & (hl[idx] != people.SERIOUS)
        late_kind = np.where(new_ill & (late_kind < 0), EVENT["serious_illness"], late_kind)
        late_kind = np.where((v == 2) & regd & (oop >= 500), EVENT["chronic_outpatient"], late_kind)
        if special in (3, 4):
            event[:] = EVENT["conflict_two_insurances"]
            late_kind[:] = -1
        detail = pc.if_else(
            pa.array(event >= 0),
            concat("out_of_pocket=", pa.array(oop).cast(pa.string())),
            pa.scalar(None, pa.string()),
        )
        c = ctx.people_chunk("medical_claim", idx, cols, event, detail)
        c.late_kind = late_kind
        parts.append(c)
    return concat_chunks(parts) if parts else _empty(ctx, "medical_claim")


def _at_least_early(rng: np.random.Generator, chosen: np.ndarray, eligible: np.ndarray, m: int) -> np.ndarray:
    """One person at least in each of the first :data:`EARLY` months (so late deliveries of every delay fit)."""
    if m >= EARLY or chosen.any():
        return chosen
    cand = np.flatnonzero(eligible)
    chosen = chosen.copy()
    if len(cand):
        chosen[cand[rng.integers(0, len(cand))]] = True
    return chosen


def _empty(ctx: Ctx, dataset: str) -> FeedChunk:
    from jingzhun.synth.feedbase import chunk

    e = np.zeros(0, dtype=np.int64)
    return chunk(dataset, {}, e, e, e)


def disability_certs(ctx: Ctx, m: int) -> FeedChunk:
    """Month 0: the full list of certificate holders (with some grades differing from the registry);
    every month: new certificates, grade changes and cancellations for the dead."""
    pop, rng, tl, ev = ctx.pop, ctx.rng, ctx.tl, ctx.cfg.events
    p = pop.p
    n = pop.n_people
    alive = tl.alive(m)
    start = ctx.month_start(m)
    parts = []
    disabled = p["health"] == people.DISABLED
    if m == 0:
        holders = np.flatnonzero(
            disabled & ~p["phantom"] & ~tl.p["dead_before"] & (ctx.stable(1).random(n) < 0.95)
        )
        k = len(holders)
        grade = p["dis_grade"][holders].copy()
        differ = (p["hh"][holders] >= 0) & (rng.random(k) < ev.disability_grade)
        if not differ.any() and (p["hh"][holders] >= 0).any():
            cand = np.flatnonzero(p["hh"][holders] >= 0)
            differ[cand[rng.integers(0, len(cand))]] = True
        shift = np.where(grade == 0, 1, np.where(grade == 3, -1, np.where(rng.random(k) < 0.5, -1, 1)))
        grade = np.where(differ, grade + shift, grade)
        issue = start - rng.integers(365, 15 * 365, k)
        event = np.where(differ, EVENT["conflict_disability_grade"], -1)
        detail = pc.if_else(
            pa.array(differ),
            concat(
                "registry ",
                pick(data.DISABILITY_GRADE, p["dis_grade"][holders]),
                " vs 残联 ",
                pick(data.DISABILITY_GRADE, grade),
            ),
            pa.scalar(None, pa.string()),
        )
        parts.append(
            _certs(ctx, holders, grade, p["dis_type"][holders], np.zeros(k, int), issue, event, detail)
        )
    for key, status in (("severe", 0), ("mild", 0), ("upgrade", 1)):
        idx = np.flatnonzero((tl.p[key] == m) & alive)
        k = len(idx)
        if not k:
            continue
        if key == "severe":
            grade = rng.integers(0, 2, k)
            kind = np.minimum(rng.integers(0, 7, k), 6)
        elif key == "mild":
            grade = rng.integers(2, 4, k)
            kind = np.minimum(rng.integers(0, 7, k), 6)
        else:
            grade = p["dis_grade"][idx] - 1
            kind = p["dis_type"][idx]
        event = np.where(grade <= 1, EVENT["severe_disability"], -1)
        c = _certs(ctx, idx, grade, kind, np.full(k, status), days_in(rng, start, k), event, None)
        c.late_kind = np.array(event, np.int64)
        parts.append(c)
    gone = np.flatnonzero(disabled & (tl.p["death"] == m))
    if len(gone):  # cancelled on the day of death
        parts.append(
            _certs(
                ctx,
                gone,
                p["dis_grade"][gone],
                p["dis_type"][gone],
                np.full(len(gone), 2),
                ctx.death_dates(gone, m),
                None,
                None,
            )
        )
    return concat_chunks(parts) if parts else _empty(ctx, "disability_cert")


def _certs(
    ctx: Ctx,
    idx: np.ndarray,
    grade: np.ndarray,
    kind: np.ndarray,
    status: np.ndarray,
    issue: np.ndarray,
    event: np.ndarray | None,
    detail: pa.Array | None,
) -> FeedChunk:
    p = ctx.pop.p
    cols = person_cols(ctx.pop, ctx.plan, idx, ctx.rng, region_share=1.0, phone_share=0.5)
    cert = concat(p["id"].take(pa.array(idx, pa.int64())), zpad(kind + 1, 1), zpad(grade + 1, 1))
    cols.update(
        {
            "cert_number": cert,
            "disability_type": pick(data.DISABILITY_TYPE, kind),
            "disability_grade": pick(data.DISABILITY_GRADE, grade),
            "cert_status": pick(("新办", "等级变更", "注销"), status),
            "issue_date": issue,
        }
    )
    return ctx.people_chunk("disability_cert", idx, cols, event, detail)
