"""Household-level registry facts: poverty cause, monitoring type and risk, housing, water, contact,
dates of identification and exit, assigned helper, and social assistance (低保/特困) status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from jingzhun.synth import data, people
from jingzhun.synth.config import SynthConfig
from jingzhun.synth.strings import digits, phones, weighted

if TYPE_CHECKING:
    from jingzhun.synth.population import Population

CAUSE = {c: i for i, c in enumerate(data.POVERTY_CAUSES)}
RISK = {c: i for i, c in enumerate(data.RISK_TYPES)}


def _per_household(pop_hh: np.ndarray, values: np.ndarray, n_h: int) -> np.ndarray:
    return np.bincount(pop_hh, weights=values.astype(np.float64), minlength=n_h)


def _draw_rows(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(weights))
    return np.minimum((u[:, None] > cum).sum(axis=1), weights.shape[1] - 1)


def _dates_between(
    rng: np.random.Generator, lo: str | np.datetime64, hi: str | np.datetime64, n: int
) -> np.ndarray:
    a, b = np.asarray(lo, dtype="datetime64[D]"), np.asarray(hi, dtype="datetime64[D]")
    return a + rng.integers(0, max(1, int((b - a).astype(np.int64))), n)


def household_attributes(rng: np.random.Generator, pop: Population, cfg: SynthConfig) -> None:
    """Fill ``pop.h`` with the registry's household facts (in place)."""
    h, p = pop.h, pop.p
    n_h, n_reg = pop.n_households, pop.n_registered
    hh = p["hh"][:n_reg]
    size = h["size"]
    status = p["health"][:n_reg]
    ill = _per_household(hh, (status == people.CHRONIC) | (status == people.SERIOUS), n_h) > 0
    disabled = _per_household(hh, status == people.DISABLED, n_h) > 0
    student = _per_household(hh, p["school"][:n_reg] >= people.SCHOOL_SENIOR, n_h) > 0
    able = _per_household(hh, p["labour"][:n_reg] <= people.ORDINARY, n_h)
    h["able_share"] = able / size
    poor = h["poor"]

    # main poverty cause (脱贫户 only), 因病 the largest share
    w = np.tile(np.array(data.POVERTY_CAUSE_WEIGHTS), (n_h, 1))
    w[:, CAUSE["因病"]] *= np.where(ill, 2.2, 0.5)
    w[:, CAUSE["因残"]] *= np.where(disabled, 3.5, 0.3)
    w[:, CAUSE["因学"]] *= np.where(student, 2.5, 0.4)
    w[:, CAUSE["缺劳力"]] *= np.where(able == 0, 5.0, 0.6)
    h["cause"] = np.where(poor, _draw_rows(rng, w), -1)

    # monitoring objects (监测对象): a few per cent of households
    u = rng.random(n_h)
    mon = np.where(poor & (u < 0.085), 0, np.where(~poor & (u < 0.022), 1, -1))
    mon = np.where((mon < 0) & (rng.random(n_h) < 0.006), 2, mon)
    h["monitoring"] = mon
    rw = np.tile(np.array(data.RISK_TYPE_WEIGHTS), (n_h, 1))
    rw[:, RISK["因病"]] *= np.where(ill, 2.0, 0.4)
    rw[:, RISK["因残"]] *= np.where(disabled, 3.0, 0.2)
    rw[:, RISK["因学"]] *= np.where(student, 2.0, 0.3)
    rw[:, RISK["缺劳动力"]] *= np.where(h["able_share"] <= 0.5, 3.0, 0.0)
    h["risk"] = np.where(mon >= 0, _draw_rows(rng, rw), -1)
    start = cfg.start_day
    risk_date = _dates_between(rng, "2021-06-01", start - 30, n_h)
    eliminated = (mon >= 0) & (risk_date < start - 365) & (rng.random(n_h) < 0.55)
    elim_date = risk_date + rng.integers(180, 400, n_h)
    elim_date = np.minimum(elim_date, start - 1)
    h["risk_date"] = np.where(mon >= 0, risk_date, np.datetime64("NaT"))
    h["eliminated"] = np.where(mon >= 0, eliminated.astype(np.int64), -1)
    h["elim_date"] = np.where(eliminated, elim_date, np.datetime64("NaT"))

    # identification and exit (脱贫户)
    first = np.where(
        rng.random(n_h) < 0.85,
        _dates_between(rng, "2014-08-01", "2015-12-31", n_h),
        _dates_between(rng, "2016-01-01", "2019-06-30", n_h),
    )
    h["first_identified"] = np.where(poor, first, np.where(mon >= 0, h["risk_date"], np.datetime64("NaT")))
    exit_year = 2016 + weighted(rng, (0.12, 0.2, 0.25, 0.28, 0.15), n_h)
    first_year = first.astype("datetime64[Y]").astype(np.int64) + 1970
    h["exit_year"] = np.where(poor, np.maximum(exit_year, first_year + 1).clip(max=2020), -1)

    # housing, water, contact, helper
    h["grade"] = weighted(rng, (0.45, 0.544, 0.0045, 0.0015), n_h)
    h["safe_water"] = rng.random(n_h) > 0.004
    head_phone = p["phone"].take(pa.array(h["head"]))
    h["phone"] = pa.compute.coalesce(head_phone, phones(rng, n_h))
    h["bank"] = digits(rng, n_h, "622848", 13)
    helped = poor | (mon >= 0)
    n_helpers = max(1, int(helped.sum()) // 5)
    helper_sex = rng.integers(0, 2, n_helpers)
    helper_birth = start - rng.integers(24 * 365, 55 * 365, n_helpers)
    helper_names = people.full_names(rng, people.surnames(rng, n_helpers), helper_sex, helper_birth)
    pick_helper = rng.integers(0, n_helpers, n_h)
    h["helper"] = pa.compute.if_else(
        pa.array(helped), helper_names.take(pa.array(pick_helper)), pa.scalar(None, pa.string())
    )

    # social assistance at the start: 低保 households, 特困 people (elderly alone, severely disabled)
    head = h["head"]
    head_age = p["age"][head]
    dibao_p = np.where(mon >= 0, 0.32, np.where(poor, 0.2, 0.025))
    tekun = (size == 1) & (head_age >= 60) & (rng.random(n_h) < 0.3)
    h["tekun"] = tekun
    h["dibao"] = ~tekun & (rng.random(n_h) < dibao_p)
    h["dibao_amount"] = np.round(rng.uniform(280, 460, n_h), -1)
    h["tekun_amount"] = np.round(rng.uniform(700, 900, n_h), -1)
