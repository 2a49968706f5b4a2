"""What happens to each person and household during the generated months: deaths, job losses, dropouts,
new disabilities, 低保 entries and exits, births, moves. Each is the month index it happens in
(``NEVER`` when it does not), drawn once per county so every feed tells the same story.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from jingzhun.synth import people
from jingzhun.synth.config import SynthConfig

if TYPE_CHECKING:
    from jingzhun.synth.population import Population

NEVER = 1_000_000


def draw_month(
    rng: np.random.Generator,
    eligible: np.ndarray,
    p_month: float | np.ndarray,
    months: int,
    at_least_one: bool = False,
) -> np.ndarray:
    """Month index of a first occurrence with monthly probability ``p_month`` (``NEVER`` if none).

    With ``at_least_one``, one eligible unit is forced to have it when the draw found none, so a small
    run still has something to find.

    >>> rng = np.random.default_rng(0)
    >>> m = draw_month(rng, np.array([True, False, True]), 0.0, 6, at_least_one=True)
    >>> int((m < NEVER).sum()), int(m[1])
    (1, 1000000)
    """
    n = len(eligible)
    p_any = 1.0 - (1.0 - np.asarray(p_month, dtype=np.float64)) ** months
    hit = eligible & (rng.random(n) < p_any)
    month = rng.integers(0, months, n)
    if at_least_one and not hit.any() and eligible.any():
        candidates = np.flatnonzero(eligible)
        hit[candidates[rng.integers(0, len(candidates))]] = True
    return np.where(hit, month, NEVER)


@dataclass
class Timeline:
    months: int
    p: dict[str, np.ndarray] = field(default_factory=dict)  # per person
    h: dict[str, np.ndarray] = field(default_factory=dict)  # per household

    def alive(self, m: int) -> np.ndarray:
        """People present in month ``m`` (not dead, not moved away, not dead before the start)."""
        alive = (self.p["death"] > m) & (self.p["move_out"] >= m) & ~self.p["dead_before"]
        if "phantom" in self.p:
            alive &= ~self.p["phantom"]
        return alive


def draw_timeline(rng: np.random.Generator, pop: Population, cfg: SynthConfig) -> Timeline:
    k = cfg.months
    ev = cfg.events
    p, h = pop.p, pop.h
    n = pop.n_people
    reg = p["hh"] >= 0
    age = p["age"]
    q = np.select([age < 50, age < 65, age < 75, age < 85], [0.0001, 0.0004, 0.0012, 0.0035], 0.010)
    natural = draw_month(rng, np.ones(n, bool), q, k)
    workers = p["worker"] & reg
    lab_death = draw_month(rng, workers, ev.labourer_death, k, at_least_one=True)
    death = np.minimum(natural, lab_death)
    job_loss = draw_month(rng, p["worker"] & (lab_death == NEVER), ev.job_loss, k, at_least_one=True)
    job_loss = np.where(job_loss < death, job_loss, NEVER)
    pupil = reg & (age >= 6) & (age <= 15) & (p["school"] >= people.SCHOOL_PRIMARY)
    dropout = draw_month(rng, pupil & (death == NEVER), ev.dropout, k, at_least_one=True)
    not_disabled = p["health"] != people.DISABLED
    severe = draw_month(rng, not_disabled & reg, ev.severe_disability, k, at_least_one=True)
    mild = draw_month(rng, not_disabled & (severe == NEVER), ev.severe_disability * 2.5, k)
    upgrade = draw_month(rng, (p["health"] == people.DISABLED) & (p["dis_grade"] >= 2), 0.0006, k)
    women = (p["sex"] == 1) & (age >= 20) & (age <= 40)
    birth = draw_month(rng, women & (death == NEVER), 0.004, k)
    move_out = draw_month(
        rng,
        reg & (age >= 18) & (death == NEVER) & (birth == NEVER),
        np.where(women & (age <= 30), 0.0015, 0.0001),
        k,
    )
    move_in = draw_month(rng, ~reg & (death == NEVER), 0.0005, k)
    two_ins = draw_month(rng, reg & p["med_ins"] & (death == NEVER), ev.two_insurances, k, at_least_one=True)

    # a few elderly registered people died before the start but are still listed (数据打架)
    elderly = reg & (age >= 65) & (death == NEVER)
    dead_before = draw_month(rng, elderly, ev.dead_listed * 3.5 / max(k, 1), k, at_least_one=True) < NEVER
    dead_report = rng.integers(0, k, n)

    n_h = pop.n_households
    in_aid = h["dibao"] | h["tekun"]
    low = (h["monitoring"] >= 0) | (h["net_per_capita"] < 9000)
    entry = draw_month(
        rng, ~in_aid, np.where(low, ev.dibao_entry * 3, ev.dibao_entry * 0.3), k, at_least_one=True
    )
    exit_ = draw_month(rng, h["dibao"], 0.003, k)
    house = draw_month(rng, h["grade"] <= 1, ev.house_unsafe, k, at_least_one=True)
    return Timeline(
        k,
        p={
            "death": np.where(dead_before, NEVER, death),
            "labourer_death": lab_death,
            "job_loss": job_loss,
            "dropout": dropout,
            "severe": severe,
            "mild": mild,
            "upgrade": upgrade,
            "birth": birth,
            "move_out": move_out,
            "move_in": move_in,
            "two_ins": two_ins,
            "dead_before": dead_before,
            "dead_report": dead_report,
        },
        h={"dibao_entry": entry, "dibao_exit": exit_, "house_unsafe": house, "n": np.array([n_h])},
    )
