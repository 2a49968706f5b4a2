"""民政 assistance, 人社 employment and 公安 civil-registry events for one county and month."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.synth import people
from jingzhun.synth.feedbase import EVENT, Ctx, FeedChunk, chunk, concat_chunks, days_in, person_cols
from jingzhun.synth.population import ROLE_SPOUSE
from jingzhun.synth.strings import id_numbers, pick
from jingzhun.synth.timeline import EARLY, labourer

ASSIST = ("低保", "特困", "临时救助")
CHANGE = ("纳入", "在保", "退出")


def assistance(ctx: Ctx, m: int) -> FeedChunk:
    """低保 households (every member, monthly), 特困 people, 临时救助 and a few unregistered 低保 people.

    A household entering 低保 or 特困 gets 纳入 in its month, then 在保; leaving gives 退出 and then nothing.
    Where the 纳入 is delivered late, the department entered the case late: no 在保 records are sent
    for the months before the 纳入 arrives.
    """
    pop, rng, tl = ctx.pop, ctx.rng, ctx.tl
    p, h = pop.p, pop.h
    n = pop.n_people
    alive = tl.alive(m)
    hh = p["hh"]
    reg = hh >= 0
    hx = np.where(reg, hh, 0)
    start = ctx.month_start(m)
    entry, exit_ = tl.h["dibao_entry"], tl.h["dibao_exit"]
    t_entry, t_exit = tl.h["tekun_entry"], tl.h["tekun_exit"]
    in_dibao_h = ((h["dibao"] & (exit_ >= m)) | (entry <= m)) & _entered(ctx, "dibao_entry", entry, m)
    in_dibao = reg & alive & in_dibao_h[hx]
    change = np.where(entry[hx] == m, 0, np.where(exit_[hx] == m, 2, 1))
    in_tekun_h = ((h["tekun"] & (t_exit >= m)) | (t_entry <= m)) & _entered(ctx, "tekun_entry", t_entry, m)
    tekun = reg & alive & in_tekun_h[hx] & (p["role"] == 0)
    t_change = np.where(t_entry[hx] == m, 0, np.where(t_exit[hx] == m, 2, 1))
    other_dibao = ~reg & alive & (ctx.stable(2).random(n) < 0.03)
    temp = alive & (rng.random(n) < np.where(reg, 0.0006, 0.0004))
    if m < EARLY and not (temp & reg).any() and (alive & reg).any():
        cand = np.flatnonzero(alive & reg)
        temp[cand[rng.integers(0, len(cand))]] = True

    parts = []
    for mask, kind in ((in_dibao, 0), (other_dibao, 0), (tekun, 1), (temp, 2)):
        idx = np.flatnonzero(mask)
        k = len(idx)
        if not k:
            continue
        late_kind, unit = None, idx
        if kind == 0 and mask is in_dibao:
            ch = change[idx]
            amount = np.where(ch == 2, 0.0, h["dibao_amount"][hx[idx]])
            event = np.select([ch == 0, ch == 2], [EVENT["dibao_entry"], EVENT["dibao_exit"]], -1)
            late_kind, unit = event, hx[idx]
        elif kind == 0:
            ch = np.ones(k, dtype=np.int64)
            amount = np.round(ctx.stable(3).uniform(300, 520, n)[idx], -1)
            event = None
        elif kind == 1:
            ch = t_change[idx]
            amount = np.where(ch == 2, 0.0, h["tekun_amount"][hx[idx]])
            event = np.select([ch == 0, ch == 2], [EVENT["tekun_entry"], EVENT["tekun_exit"]], -1)
            late_kind, unit = event, hx[idx]
        else:
            ch = np.zeros(k, dtype=np.int64)
            amount = np.round(rng.uniform(500, 5000, k), -2)
            event = np.where(reg[idx], EVENT["temp_assistance"], -1)
            late_kind = event
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
        c = ctx.people_chunk("assistance", idx, cols, event)
        if late_kind is not None:
            c.late_kind, c.unit = np.asarray(late_kind, np.int64), np.asarray(unit, np.int64)
        parts.append(c)
    return concat_chunks(parts) if parts else chunk("assistance", {}, *(np.zeros(0, int),) * 3)


def _entered(ctx: Ctx, kind: str, entry: np.ndarray, m: int) -> np.ndarray:
    """Per household: False while a 纳入 dated in an earlier month has not arrived yet."""
    out = np.ones(len(entry), bool)
    waiting = np.flatnonzero(entry < m)
    if len(waiting):
        out[waiting] = entry[waiting] + ctx.late_months(kind, waiting, entry[waiting]) <= m
    return out


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
    c = ctx.people_chunk("employment", idx, cols, event)
    c.late_kind = event
    return c


def civil_registry(ctx: Ctx, m: int) -> FeedChunk:
    """Deaths (a few reported late for people who died before the start), births, moves out and in,
    and children whose hukou moves into a registered parent's household."""
    pop, rng, tl = ctx.pop, ctx.rng, ctx.tl
    p = pop.p
    start = ctx.month_start(m)
    reg = p["hh"] >= 0
    parts = []
    died = np.flatnonzero(tl.p["death"] == m)
    if len(died):
        date = ctx.death_dates(died, m)
        ev = np.where(
            ~reg[died], -1, np.where(labourer(p, died, date), EVENT["labourer_death"], EVENT["death"])
        )
        parts.append(_events(ctx, died, 1, date, ev))
    late = np.flatnonzero(tl.p["dead_before"] & (tl.p["dead_report"] == m))
    if len(late):
        date = ctx.month_start(0) - rng.integers(30, 400, len(late))
        c = _events(ctx, late, 1, date, np.full(len(late), EVENT["conflict_dead_listed"]))
        c.late_kind[:] = -1
        parts.append(c)
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
        parts.append(
            _newcomers(
                ctx, mothers, 0, days_in(rng, start, len(mothers)), "birth", _named_parent(ctx, mothers, m)
            )
        )
    parents = np.flatnonzero(tl.p["child_in"] == m)
    if len(parents):
        born = start - rng.integers(365, 15 * 365, len(parents))
        c = _newcomers(ctx, parents, 2, born, "move_in")
        c.cols["event_date"] = days_in(rng, start, len(parents))
        parts.append(c)
    return concat_chunks(parts) if parts else chunk("civil_registry", {}, *(np.zeros(0, int),) * 3)


def _events(ctx: Ctx, idx: np.ndarray, kind: int, date: np.ndarray, event: np.ndarray | None) -> FeedChunk:
    cols = person_cols(ctx.pop, ctx.plan, idx, ctx.rng, region_share=1.0, phone_share=0.0)
    cols.update(
        {
            "event": pick(("出生", "死亡", "迁入", "迁出"), np.full(len(idx), kind)),
            "event_date": date,
            "parent_id_number": None,
        }
    )
    c = ctx.people_chunk("civil_registry", idx, cols, event)
    if event is not None:
        c.late_kind = np.array(event, np.int64)
    return c


def _new_id_numbers(ctx: Ctx, birth: np.ndarray, sex: np.ndarray) -> pa.Array:
    """ID numbers for people new to the county, unique: never one of the county's people nor one given
    to a newcomer before (a valid number never points at the wrong person). A number is fixed by the
    birth date and the 3-digit sequence, so uniqueness is checked on (birth date, sequence)."""
    pop, rng = ctx.pop, ctx.rng
    taken_keys = ctx.cache.get("id_keys")
    if not isinstance(taken_keys, np.ndarray):
        seqs = pc.utf8_slice_codeunits(pop.p["id"], 14, 17).cast(pa.int64()).to_numpy()
        taken_keys = np.sort(pop.p["birth"].astype("datetime64[D]").astype(np.int64) * 1000 + seqs)
    k = len(birth)
    day = birth.astype("datetime64[D]").astype(np.int64)
    seq = people.sequence_numbers(rng.integers(0, 500, k), sex)  # never x00: no number ends in 000
    for _ in range(50):
        key = day * 1000 + seq
        pos = np.minimum(np.searchsorted(taken_keys, key), len(taken_keys) - 1)
        clash = taken_keys[pos] == key
        _, first = np.unique(key, return_index=True)
        clash[np.setdiff1d(np.arange(k), first)] = True
        if not clash.any():
            break
        seq = np.where(clash, people.sequence_numbers(rng.integers(0, 500, k), sex), seq)
    new = np.sort(day * 1000 + seq)
    ctx.cache["id_keys"] = np.insert(taken_keys, np.searchsorted(taken_keys, new), new)
    return id_numbers(np.full(k, pop.county_code6), birth, seq)


def _named_parent(ctx: Ctx, mothers: np.ndarray, m: int) -> np.ndarray:
    """The parent a birth record names: the mother, or (for about a third of the mothers married to a
    registered household head, and one at least per county) the father, who lives in the same household."""
    p, h = ctx.pop.p, ctx.pop.h
    hh = p["hh"][mothers]
    head = h["head"][np.maximum(hh, 0)]
    father = (hh >= 0) & (p["role"][mothers] == ROLE_SPOUSE) & (p["sex"][head] == 0) & ctx.tl.alive(m)[head]
    chosen = father & (ctx.rng.random(len(mothers)) < 0.35)
    if not chosen.any() and father.any() and not ctx.cache.get("father_named"):  # once per county at least
        chosen[np.flatnonzero(father)[0]] = True
    ctx.cache["father_named"] = bool(ctx.cache.get("father_named")) or bool(chosen.any())
    return np.where(chosen, head, mothers)


def _newcomers(
    ctx: Ctx,
    parents: np.ndarray,
    kind: int,
    birth: np.ndarray,
    event_name: str,
    named: np.ndarray | None = None,
) -> FeedChunk:
    """People new to the county's lists (a new ID number, the household's surname; truth person_id NULL):
    newborns (``kind`` 0, 出生) and children moving in (2, 迁入), placed in the household of the parent
    whose true ID number they carry in 父（母）亲证件号码 (``named``: that parent, in the same household
    as ``parents``; default ``parents``)."""
    pop, rng = ctx.pop, ctx.rng
    p, h = pop.p, pop.h
    k = len(parents)
    hh = p["hh"][parents]
    sex = rng.integers(0, 2, k)
    ids = _new_id_numbers(ctx, birth, sex)
    surname = np.where(hh >= 0, h["surname"][np.where(hh >= 0, hh, 0)], people.surnames(rng, k))
    name = people.full_names(rng, surname, sex, birth)
    cols = {
        "id_number": ids,
        "name": name,
        "sex": pick(("男", "女"), sex),
        "birth_date": birth,
        "region_code": ctx.plan.village_code.take(pa.array(p["village"][parents])),
        "phone": pa.nulls(k, pa.string()),
        "event": pick(("出生", "死亡", "迁入", "迁出"), np.full(k, kind)),
        "event_date": birth,
        "parent_id_number": p["id"].take(pa.array(parents if named is None else named, pa.int64())),
    }
    event = np.where(hh >= 0, EVENT[event_name], -1)
    c = chunk("civil_registry", cols, np.full(k, -1), hh, p["village"][parents], event)
    c.late_kind, c.unit = event, parents.astype(np.int64)
    return c
