"""What happens to each person and household during the generated months: deaths, job losses, dropouts
and re-enrolments, new disabilities, 低保 and 特困 entries and exits, births, moves, unsafe houses and
their repair. Each is the month index it happens in (``NEVER`` when it does not), drawn once per county
so every feed tells the same story.

Kinds that may be delivered late occur in each of the first :data:`EARLY` months (forced when the
draw found none), so that a delay of 1, 2 and 4–5 months fits in a six-month run.
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
EARLY = 3  # first months that each get an occurrence of every kind delivered late (forced if none)


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


def at_least_early(
    rng: np.random.Generator, month: np.ndarray, eligible: np.ndarray, count: int = EARLY
) -> np.ndarray:
    """Make sure each of the first ``count`` months has at least one eligible unit whose first
    occurrence falls in it (units that had none are moved there), so that late deliveries of every
    delay (1, 2, 4–5 months) fit in a six-month run.

    >>> m = at_least_early(np.random.default_rng(0), np.full(5, NEVER), np.ones(5, bool), 2)
    >>> sorted(m[m < NEVER].tolist())
    [0, 1]
    """
    month = month.copy()
    for first in range(count):
        if (eligible & (month == first)).any():
            continue
        cand = np.flatnonzero(eligible & (month == NEVER))
        if len(cand):
            month[cand[rng.integers(0, len(cand))]] = first
    return month


def later_month(
    rng: np.random.Generator, first: np.ndarray, share: float, months: int, force: bool = True
) -> np.ndarray:
    """A month after ``first`` (uniform up to the last month) for a ``share`` of the units that have
    ``first`` before the last month; with ``force``, at least one unit gets one and one does not."""
    can = first < months - 1
    month = first + 1 + (rng.random(len(first)) * np.maximum(months - 1 - first, 1)).astype(np.int64)
    hit = can & (rng.random(len(first)) < share)
    cand = np.flatnonzero(can)
    if force and len(cand) >= 2:
        if not hit.any():
            hit[cand[rng.integers(0, len(cand))]] = True
        if hit[cand].all():
            hit[cand[rng.integers(0, len(cand))]] = False
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
    lab_death = at_least_early(rng, lab_death, workers)
    natural = at_least_early(rng, natural, reg & ~labourer(p) & (lab_death == NEVER))
    death = np.minimum(natural, lab_death)
    job_loss = draw_month(rng, p["worker"] & (lab_death == NEVER), ev.job_loss, k, at_least_one=True)
    job_loss = np.where(job_loss < death, job_loss, NEVER)
    job_loss = at_least_early(rng, job_loss, workers & (death == NEVER))
    pupil = reg & (age >= 6) & (age <= 14) & (p["school"] >= people.SCHOOL_PRIMARY)
    dropout = draw_month(rng, pupil & (death == NEVER), ev.dropout, k, at_least_one=True)
    dropout = at_least_early(rng, dropout, pupil & (death == NEVER), 2)
    back = later_month(rng, dropout, 0.5, k)
    not_disabled = p["health"] != people.DISABLED
    severe = draw_month(rng, not_disabled & reg, ev.severe_disability, k, at_least_one=True)
    severe = at_least_early(rng, severe, not_disabled & reg & (death == NEVER))
    mild = draw_month(rng, not_disabled & (severe == NEVER), ev.severe_disability * 2.5, k)
    upgrade = draw_month(rng, (p["health"] == people.DISABLED) & (p["dis_grade"] >= 2), 0.0006, k)
    women = (p["sex"] == 1) & (age >= 20) & (age <= 40)
    birth = draw_month(rng, women & (death == NEVER), 0.004, k)
    birth = at_least_early(rng, birth, women & reg & (death == NEVER))
    move_out = draw_month(
        rng,
        reg & (age >= 18) & (death == NEVER) & (birth == NEVER),
        np.where(women & (age <= 30), 0.0015, 0.0001),
        k,
    )
    move_out = at_least_early(rng, move_out, reg & (age >= 18) & (death == NEVER) & (birth == NEVER))
    move_in = draw_month(rng, ~reg & (death == NEVER), 0.0005, k)
    # a child whose hukou moves into a registered parent's household (placed by the parent's ID number)
    parent = reg & (age >= 24) & (age <= 50) & (death == NEVER) & (move_out == NEVER) & (birth == NEVER)
    child_in = at_least_early(rng, draw_month(rng, parent, 0.0003, k), parent)
    two_ins = draw_month(rng, reg & p["med_ins"] & (death == NEVER), ev.two_insurances, k, at_least_one=True)

    # a few elderly registered people died before the start but are still listed (数据打架)
    elderly = reg & (age >= 65) & (death == NEVER)
    dead_before = draw_month(rng, elderly, ev.dead_listed * 3.5 / max(k, 1), k, at_least_one=True) < NEVER
    dead_report = rng.integers(0, k, n)

    n_h = pop.n_households
    head_alive = (death[h["head"]] == NEVER) & ~dead_before[h["head"]]
    in_aid = h["dibao"] | h["tekun"]
    low = (h["monitoring"] >= 0) | (h["net_per_capita"] < 9000)
    entry = draw_month(
        rng, ~in_aid, np.where(low, ev.dibao_entry * 3, ev.dibao_entry * 0.3), k, at_least_one=True
    )
    entry = at_least_early(rng, entry, ~in_aid & head_alive)
    exit_ = at_least_early(rng, draw_month(rng, h["dibao"], 0.003, k), h["dibao"] & head_alive)
    alone_old = ~in_aid & (entry == NEVER) & head_alive & (age[h["head"]] >= 60)
    tekun_entry = draw_month(rng, alone_old & (h["size"] == 1), ev.tekun_entry, k)
    tekun_entry = at_least_early(rng, tekun_entry, alone_old & (h["size"] == 1))
    tekun_entry = at_least_early(rng, tekun_entry, alone_old)
    tekun_exit = at_least_early(rng, draw_month(rng, h["tekun"], 0.002, k), h["tekun"] & head_alive)
    house = draw_month(rng, h["grade"] <= 1, ev.house_unsafe, k, at_least_one=True)
    house = at_least_early(rng, house, h["grade"] <= 1, 2)
    repaired = later_month(rng, house, 0.5, k)
    return Timeline(
        k,
        p={
            "death": np.where(dead_before, NEVER, death),
            "death_u": rng.random(n),
            "labourer_death": lab_death,
            "job_loss": job_loss,
            "dropout": dropout,
            "dropout_back": back,
            "dropout_status": np.where(rng.random(n) < 0.2, 2, 1),  # 休学 or 辍学
            "severe": severe,
            "mild": mild,
            "upgrade": upgrade,
            "birth": birth,
            "move_out": move_out,
            "move_in": move_in,
            "child_in": child_in,
            "two_ins": two_ins,
            "dead_before": dead_before,
            "dead_report": dead_report,
        },
        h={
            "dibao_entry": entry,
            "dibao_exit": exit_,
            "tekun_entry": tekun_entry,
            "tekun_exit": tekun_exit,
            "house_unsafe": house,
            "house_unsafe_grade": np.where(rng.random(n_h) < 0.7, 2, 3),
            "house_repaired": repaired,
            "house_repaired_grade": rng.integers(0, 2, n_h),
            "n": np.array([n_h]),
        },
    )


def labourer(
    p: dict[str, np.ndarray], idx: np.ndarray | None = None, day: np.ndarray | None = None
) -> np.ndarray:
    """Labourers (DOMAIN.md): aged 16–60 (at ``day``; at the start without) with 技能劳动力 or 普通劳动力;
    for people ``idx`` (everybody without)."""
    sel = slice(None) if idx is None else idx
    age = p["age"][sel] if day is None else people.age_at(p["birth"][sel], day)
    return (age >= 16) & (age <= 60) & (p["labour"][sel] <= people.ORDINARY)
