"""民政 assistance, 人社 employment and 公安 civil-registry events for one county and month."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from jingzhun.synth import people
from jingzhun.synth.feedbase import EVENT, Ctx, FeedChunk, chunk, concat_chunks, days_in, person_cols
from jingzhun.synth.strings import id_numbers, pick

ASSIST = ("低保", "特困", "临时救助")
CHANGE = ("纳入", "在保", "退出")


def assistance(ctx: Ctx, m: int) -> FeedChunk:
    pop, rng, tl = ctx.pop, ctx.rng, ctx.tl
    p, h = pop.p, pop.h
    n = pop.n_people
    alive = tl.alive(m)
    hh = p["hh"]
    reg = hh >= 0
    hx = np.where(reg, hh, 0)
    start = ctx.month_start(m)
    entry, exit_ = tl.h["dibao_entry"], tl.h["dibao_exit"]
    in_dibao_h = (h["dibao"] & (exit_ >= m)) | (entry <= m)
    in_dibao = reg & alive & in_dibao_h[hx]
    change = np.where(entry[hx] == m, 0, np.where(exit_[hx] == m, 2, 1))
    tekun = reg & alive & h["tekun"][hx] & (p["role"] == 0)
    other_dibao = ~reg & alive & (ctx.stable(2).random(n) < 0.03)
    temp = alive & (rng.random(n) < np.where(reg, 0.0006, 0.0004))

    parts = []
    for mask, kind in ((in_dibao, 0), (other_dibao, 0), (tekun, 1), (temp, 2)):
        idx = np.flatnonzero(mask)
        k = len(idx)
        if not k:
            continue
        if kind == 0 and mask is in_dibao:
            ch = change[idx]
            amount = np.where(ch == 2, 0.0, h["dibao_amount"][hx[idx]])
            event = np.select([ch == 0, ch == 2], [EVENT["dibao_entry"], EVENT["dibao_exit"]], -1)
        elif kind == 0:
            ch = np.ones(k, dtype=np.int64)
            amount = np.round(ctx.stable(3).uniform(300, 520, n)[idx], -1)
            event = None
        elif kind == 1:
            ch = np.ones(k, dtype=np.int64)
            amount = h["tekun_amount"][hx[idx]]
            event = None
        else:
            ch = np.zeros(k, dtype=np.int64)
            amount = np.round(rng.uniform(500, 5000, k), -2)
            event = None
        date = np.where(ch == 1, start + rng.integers(0, 5, k), days_in(rng, start, k))
        cols = person_cols(pop, ctx.plan, idx, rng, region_share=1.0, phone_share=0.6)
        cols.update(
            {
                "assistance_type": pick(ASSIST, np.full(k, kind)),
                "change": pick(CHANGE, ch),
                "amount": amount.astype(np.float64),
                "change_date": date,
            }
        )
        parts.append(ctx.people_chunk("assistance", idx, cols, event))
    return concat_chunks(parts) if parts else chunk("assistance", {}, *(np.zeros(0, int),) * 3)


def employment(ctx: Ctx, m: int, period: str) -> FeedChunk:
    """Monthly records of people in work; a job loss gives one 失业 record and then none."""
    pop, rng, tl = ctx.pop, ctx.rng, ctx.tl
    p = pop.p
    jl = tl.p["job_loss"]
    idx = np.flatnonzero(tl.alive(m) & p["worker"] & (jl >= m) & (tl.p["labourer_death"] > m))
    k = len(idx)
    lost = jl[idx] == m
    status = np.where(lost, 2, np.where(p["flexible"][idx], 1, 0))
    insured = ~lost & (
        p["employee_ins"][idx] | ((status == 1) & (ctx.stable(4).random(pop.n_people)[idx] < 0.2))
    )
    income = np.where(lost, 0.0, np.round(p["wage"][idx] * rng.uniform(0.9, 1.1, k), 0))
    take = pa.array(idx, pa.int64())
    cols = person_cols(pop, ctx.plan, idx, rng, region_share=0.7, phone_share=0.9)
    cols.update(
        {
            "period": pa.repeat(period, k),
            "status": pick(("就业", "灵活就业", "失业"), status),
            "employer": p["employer"].take(take),
            "work_place": p["work_place"].take(take),
            "insured": insured,
            "monthly_income": income,
        }
    )
    event = np.where(lost & (p["hh"][idx] >= 0), EVENT["job_loss"], -1)
    return ctx.people_chunk("employment", idx, cols, event)


def civil_registry(ctx: Ctx, m: int) -> FeedChunk:
    """Deaths (a few reported late for people who died before the start), births, moves out and in."""
    pop, rng, tl = ctx.pop, ctx.rng, ctx.tl
    p = pop.p
    start = ctx.month_start(m)
    reg = p["hh"] >= 0
    parts = []
    died = np.flatnonzero(tl.p["death"] == m)
    if len(died):
        ev = np.where(
            ~reg[died],
            -1,
            np.where(tl.p["labourer_death"][died] == m, EVENT["labourer_death"], EVENT["death"]),
        )
        parts.append(_events(ctx, died, 1, days_in(rng, start, len(died)), ev))
    late = np.flatnonzero(tl.p["dead_before"] & (tl.p["dead_report"] == m))
    if len(late):
        date = ctx.month_start(0) - rng.integers(30, 400, len(late))
        parts.append(_events(ctx, late, 1, date, np.full(len(late), EVENT["conflict_dead_listed"])))
    moved = np.flatnonzero(tl.p["move_out"] == m)
    if len(moved):
        parts.append(
            _events(
                ctx, moved, 3, days_in(rng, start, len(moved)), np.where(reg[moved], EVENT["move_out"], -1)
            )
        )
    came = np.flatnonzero(tl.p["move_in"] == m)
    if len(came):
        parts.append(_events(ctx, came, 2, days_in(rng, start, len(came)), None))
    mothers = np.flatnonzero(tl.p["birth"] == m)
    if len(mothers):
        parts.append(_births(ctx, mothers, start))
    return concat_chunks(parts) if parts else chunk("civil_registry", {}, *(np.zeros(0, int),) * 3)


def _events(ctx: Ctx, idx: np.ndarray, kind: int, date: np.ndarray, event: np.ndarray | None) -> FeedChunk:
    cols = person_cols(ctx.pop, ctx.plan, idx, ctx.rng, region_share=1.0, phone_share=0.0)
    cols.update(
        {"event": pick(("出生", "死亡", "迁入", "迁出"), np.full(len(idx), kind)), "event_date": date}
    )
    return ctx.people_chunk("civil_registry", idx, cols, event)


def _births(ctx: Ctx, mothers: np.ndarray, start: np.datetime64) -> FeedChunk:
    """Newborns: a new ID number, the household's surname; not in the registry (person_id NULL in truth)."""
    pop, rng = ctx.pop, ctx.rng
    p, h = pop.p, pop.h
    k = len(mothers)
    hh = p["hh"][mothers]
    sex = rng.integers(0, 2, k)
    birth = days_in(rng, start, k)
    seq = people.sequence_numbers(rng.integers(0, 500, k), sex)
    ids = id_numbers(np.full(k, pop.county_code6), birth, seq)
    surname = np.where(hh >= 0, h["surname"][np.where(hh >= 0, hh, 0)], people.surnames(rng, k))
    name = people.full_names(rng, surname, sex, birth)
    cols = {
        "id_number": ids,
        "name": name,
        "sex": pick(("男", "女"), sex),
        "birth_date": birth,
        "region_code": ctx.plan.village_code.take(pa.array(p["village"][mothers])),
        "phone": pa.nulls(k, pa.string()),
        "event": pick(("出生",), np.zeros(k, int)),
        "event_date": birth,
    }
    event = np.where(hh >= 0, EVENT["birth"], -1)
    return chunk("civil_registry", cols, np.full(k, -1), hh, p["village"][mothers], event)
