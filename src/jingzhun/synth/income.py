"""Yearly household income by component (工资性, 生产经营性, 财产性, 转移性, 生产经营性支出).

Lognormal spread; formerly poor households lower; monitoring objects (脱贫不稳定户, 边缘易致贫户) pushed
into the monitoring range so some households sit near and below a 6,500–7,000 yuan per-capita line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from jingzhun.synth import people

if TYPE_CHECKING:
    from jingzhun.synth.population import Population


def household_income(rng: np.random.Generator, pop: Population) -> dict[str, np.ndarray]:
    """Components in yuan (float, 2 decimals) for each household of ``pop``."""
    h, p = pop.h, pop.p
    n_h, n_reg = pop.n_households, pop.n_registered
    hh = p["hh"][:n_reg]
    size = h["size"].astype(np.float64)
    poor = h["poor"]
    remit = rng.uniform(0.7, 0.95, n_reg)
    wage = np.bincount(hh, weights=p["wage"][:n_reg] * p["work_months"][:n_reg] * remit, minlength=n_h)
    farmers = np.bincount(
        hh, weights=(p["labour"][:n_reg] <= people.WEAK) & (p["age"][:n_reg] >= 16), minlength=n_h
    )
    business = np.where(
        farmers > 0,
        rng.lognormal(np.log(8000), 0.5, n_h) * (1 + farmers) / 2,
        rng.lognormal(np.log(2500), 0.6, n_h),
    )
    business *= np.where(poor, 0.8, 1.0)
    costs = business * rng.uniform(0.22, 0.45, n_h)
    prop = np.where(rng.random(n_h) < 0.45, rng.lognormal(np.log(450), 0.9, n_h), 0.0)
    prop += np.where(poor, rng.uniform(200, 900, n_h), 0.0)  # cooperative dividends (分红)
    elderly = np.bincount(hh, weights=p["age"][:n_reg] >= 60, minlength=n_h)
    pension = elderly * 12 * np.round(rng.uniform(130, 185, n_h))
    dibao = np.where(h["dibao"], size * 12 * h["dibao_amount"], 0.0)
    tekun = np.where(h["tekun"], 12 * h["tekun_amount"], 0.0)
    eco = np.where(rng.random(n_h) < 0.4, np.round(rng.uniform(100, 900, n_h)), 0.0)
    support = elderly * rng.uniform(1500, 4500, n_h)  # 赡养费 from children living elsewhere
    other = rng.uniform(0, 800, n_h) * np.where(poor, 1.5, 1.0) + support
    transfer = pension + dibao + tekun + eco + other

    # monitoring objects with income risk sit inside the monitoring range
    in_range = (h["monitoring"] == 0) | (h["monitoring"] == 1)
    target = rng.uniform(4800, 7800, n_h) * size
    earned = wage + business - costs
    factor = np.clip((target - transfer - prop) / np.maximum(earned, 1.0), 0.05, 1.0)
    factor = np.where(in_range, factor, 1.0)
    wage, business, costs = wage * factor, business * factor, costs * factor
    r = {
        k: np.round(v, 2)
        for k, v in {
            "wage_income": wage,
            "business_income": business,
            "property_income": prop,
            "transfer_income": transfer,
            "minimum_living_allowance": dibao,
            "extreme_poverty_allowance": tekun,
            "pension": pension,
            "eco_compensation": eco,
            "business_costs": costs,
        }.items()
    }
    net = (
        r["wage_income"]
        + r["business_income"]
        + r["property_income"]
        + r["transfer_income"]
        - r["business_costs"]
    )
    h["net_per_capita"] = net / size
    return r
