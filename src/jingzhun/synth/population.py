"""Households and their members for one county, plus the county's other rural people (not registered),
who appear only in department feeds. Everything is drawn column-wise; no loop runs per person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from jingzhun.synth import data, people
from jingzhun.synth.config import SynthConfig
from jingzhun.synth.households import household_attributes
from jingzhun.synth.regions import RegionPlan
from jingzhun.synth.strings import concat, id_numbers, phones, weighted, zpad

SIZE_P = (0.12, 0.20, 0.19, 0.21, 0.15, 0.08, 0.03, 0.02)  # sizes 1..8, mean ≈ 3.5
ROLE_HEAD, ROLE_SPOUSE, ROLE_CHILD, ROLE_INLAW, ROLE_GRAND, ROLE_PARENT, ROLE_OTHER = range(7)
REL = {name: i for i, name in enumerate(data.RELATIONS)}


@dataclass
class Population:
    """One county: households (``h_*``) and people (``p_*``); registered people come first
    (``p_hh >= 0``), the county's other rural people after them (``p_hh == -1``)."""

    county: int
    county_code6: int
    county_name: str
    villages: np.ndarray  # plan indices of the county's villages
    n_households: int
    n_registered: int
    h: dict[str, Any] = field(default_factory=dict)
    p: dict[str, Any] = field(default_factory=dict)

    @property
    def n_people(self) -> int:
        return len(self.p["sex"])


def _household_sizes(rng: np.random.Generator, total: int) -> np.ndarray:
    sizes = weighted(rng, SIZE_P, int(total / 3.2) + 64) + 1
    cum = np.cumsum(sizes)
    while cum[-1] < total:  # pragma: no cover - extremely unlikely
        sizes = np.r_[sizes, weighted(rng, SIZE_P, 64) + 1]
        cum = np.cumsum(sizes)
    k = int(np.searchsorted(cum, total)) + 1
    sizes = sizes[:k].copy()
    sizes[-1] -= int(cum[k - 1] - total)
    return sizes


def _structure(rng: np.random.Generator, size: np.ndarray) -> dict[str, np.ndarray]:
    """Per household: head age and sex, spouse, and counts of children, in-laws, grandchildren, parents."""
    n = len(size)
    u = rng.random(n)
    old = np.where(size == 1, u < 0.7, np.where(size == 2, u < 0.6, u < 0.45))
    head_age = np.where(
        old, 58 + np.minimum(32, rng.gamma(2.2, 6.0, n)).astype(np.int64), rng.integers(26, 58, n)
    )
    head_age = np.where((size == 1) & ~old, rng.integers(30, 61, n), head_age)
    head_male = rng.random(n) < np.where((size == 1) & old, 0.45, 0.88)
    spouse = (size >= 2) & (rng.random(n) < np.where(old, 0.72, 0.9))
    rest = size - 1 - spouse
    child_old = np.minimum(rest, np.where(rest > 0, 1 + ((rest >= 4) & (rng.random(n) < 0.5)), 0))
    inlaw = np.where(old & (rest - child_old >= 2), 1, 0)
    grand = np.where(old, rest - child_old - inlaw, 0)
    extra = np.maximum(grand - 4, 0)
    grand -= extra
    child_old += extra
    parent = np.where(old, 0, np.minimum(rest, (rng.random(n) < 0.3) * (1 + (rng.random(n) < 0.45))))
    child_young = rest - parent
    other = np.where(old, 0, np.maximum(child_young - 5, 0))
    child = np.where(old, child_old, child_young - other)
    return {
        "old": old,
        "head_age": head_age,
        "head_male": head_male,
        "spouse": spouse.astype(np.int64),
        "child": child,
        "inlaw": inlaw,
        "grand": grand,
        "parent": parent,
        "other": other,
    }


def _members(rng: np.random.Generator, st: dict[str, np.ndarray], size: np.ndarray) -> dict[str, np.ndarray]:
    """Explode households into members: role, rank within role, age, sex, relation, surname source."""
    n_h = len(size)
    hh = np.repeat(np.arange(n_h), size)
    start = np.cumsum(size) - size
    slot = np.arange(len(hh)) - start[hh]
    bounds = np.cumsum(
        np.stack(
            [np.ones(n_h, np.int64), st["spouse"], st["child"], st["inlaw"], st["grand"], st["parent"]],
            axis=1,
        ),
        axis=1,
    )
    b = bounds[hh]
    role = (slot[:, None] >= b).sum(axis=1)
    role_start = np.where(role == 0, 0, b[np.arange(len(hh)), np.maximum(role - 1, 0)])
    rank = slot - role_start
    m = len(hh)
    head_age = st["head_age"][hh]
    old = st["old"][hh]
    c0 = np.where(
        st["old"], st["head_age"] - 23 - rng.uniform(0, 8, n_h), st["head_age"] - 22 - rng.uniform(0, 5, n_h)
    )
    c0m = c0[hh]
    child0_male = rng.random(n_h) < 0.53
    head_male = st["head_male"][hh]
    u = rng.uniform(0, 1, m)
    age = np.select(
        [
            role == ROLE_HEAD,
            role == ROLE_SPOUSE,
            role == ROLE_CHILD,
            role == ROLE_INLAW,
            role == ROLE_GRAND,
            role == ROLE_PARENT,
        ],
        [
            head_age,
            head_age + np.where(head_male, -1, 1) * rng.integers(0, 6, m),
            np.where(old, np.maximum(c0m - 3.0 * rank - u, 18), c0m - 2.7 * rank - u * 1.5),
            c0m + rng.uniform(-4, 3, m),
            c0m - 22 - 2.5 * rank - rng.uniform(0, 6, m),
            head_age + 23 + rng.uniform(0, 9, m),
        ],
        head_age + rng.uniform(-25, 10, m),
    )
    age = np.clip(np.floor(age), 0, 98).astype(np.int64)
    rand_male = rng.random(m) < 0.53
    is_male = np.select(
        [
            role == ROLE_HEAD,
            role == ROLE_SPOUSE,
            (role == ROLE_CHILD) & (rank == 0),
            role == ROLE_INLAW,
            role == ROLE_PARENT,
        ],
        [
            head_male,
            ~head_male,
            child0_male[hh],
            ~child0_male[hh],
            np.where(st["parent"][hh] == 2, rank == 0, rng.random(m) < 0.32),
        ],
        rand_male,
    )
    relation = np.select(
        [
            role == ROLE_HEAD,
            role == ROLE_SPOUSE,
            role == ROLE_CHILD,
            role == ROLE_INLAW,
            role == ROLE_GRAND,
            role == ROLE_PARENT,
        ],
        [
            REL["户主"],
            REL["配偶"],
            np.where(is_male, REL["之子"], REL["之女"]),
            np.where(is_male, REL["之女婿"], REL["之儿媳"]),
            np.where(is_male, REL["之孙子"], REL["之孙女"]),
            np.where(is_male, REL["之父"], REL["之母"]),
        ],
        REL["之兄弟姐妹"],
    )
    # children carry the family line's surname (the head's if a man, else the husband's/late husband's)
    own_surname = np.select(
        [role == ROLE_HEAD, role == ROLE_SPOUSE, role == ROLE_INLAW, role == ROLE_PARENT],
        [~head_male, ~is_male, True, ~(is_male & head_male)],
        False,
    )
    return {
        "hh": hh,
        "slot": slot,
        "role": role,
        "age": age,
        "sex": np.where(is_male, 0, 1),
        "relation": relation,
        "own_surname": own_surname,
    }


def _ethnicity(
    rng: np.random.Generator, n_villages: int, village: np.ndarray, hh: np.ndarray, redraw: np.ndarray
) -> np.ndarray:
    weights = np.array([w for _, w in data.ETHNICITY_WEIGHTS])
    han_share = np.clip(rng.beta(2.2, 1.3, n_villages), 0.05, 1.0)
    minority = weighted(rng, weights[1:], n_villages) + 1
    n_h = len(village)
    h_eth = np.where(rng.random(n_h) < han_share[village], 0, minority[village])
    h_eth = np.where(rng.random(n_h) < 0.06, weighted(rng, weights, n_h), h_eth)
    eth = h_eth[hh]
    other = weighted(rng, weights, len(hh))
    return np.where(redraw & (rng.random(len(hh)) < 0.25), other, eth)


def build_county(rng: np.random.Generator, plan: RegionPlan, county: int, cfg: SynthConfig) -> Population:
    """Draw the registered households and members of one county and its unregistered people."""
    start = cfg.start_day
    villages = np.flatnonzero(plan.village_county == county)
    v_persons = plan.village_persons[villages]
    total = int(v_persons.sum())
    size = _household_sizes(rng, total)
    n_h = len(size)
    h_start = np.cumsum(size) - size
    h_vil_local = np.minimum(np.searchsorted(np.cumsum(v_persons), h_start, side="right"), len(villages) - 1)
    h_village = villages[h_vil_local]
    v_first = np.searchsorted(h_vil_local, np.arange(len(villages)))
    h_rank = np.arange(n_h) - v_first[h_vil_local]
    if n_h and h_rank.max() >= 9999:
        raise ValueError("a village has more than 9,999 households")
    h_id = concat("H", plan.village_code.take(pa.array(h_village)), zpad(h_rank + 1, 4))
    h_hamlet = (rng.random(n_h) * plan.village_hamlets[h_village]).astype(np.int64)

    st = _structure(rng, size)
    mem = _members(rng, st, size)
    hh = mem["hh"]
    n_reg = len(hh)

    # household type first: illness and disability are commoner in formerly poor households
    poor = rng.random(n_h) < np.where(st["old"], 0.3, 0.23)

    # the county's other rural people (not registered), adults over-represented
    n_other = max(10, round(total * 0.3))
    u = rng.random(n_other)
    o_age = np.where(
        u < 0.7,
        rng.integers(18, 66, n_other),
        np.where(u < 0.85, rng.integers(0, 18, n_other), rng.integers(66, 91, n_other)),
    )
    o_sex = rng.integers(0, 2, n_other)
    o_village = villages[rng.integers(0, len(villages), n_other)]

    age = np.r_[mem["age"], o_age]
    sex = np.r_[mem["sex"], o_sex]
    n = len(age)
    birth = people.birth_dates(rng, age, start)
    age = people.age_at(birth, start)
    seq = people.unique_sequences(rng, birth, sex)
    id_number = id_numbers(np.full(n, plan.county_code6[county]), birth, seq)

    h_surname = people.surnames(rng, n_h)
    own = people.surnames(rng, n)
    surname = np.r_[np.where(mem["own_surname"], own[:n_reg], h_surname[hh]), own[n_reg:]]
    name = people.full_names(rng, surname, sex, birth)

    p_hh = np.r_[hh, np.full(n_other, -1)]
    p_village = np.r_[h_village[hh], o_village]
    factor = np.r_[np.where(poor[hh], 1.7, 1.0), np.ones(n_other)]
    school, edu = people.school_and_education(rng, age, birth, sex)
    status = people.health(rng, age, factor)
    grade, dtype_ = people.disability(rng, status)
    capacity = people.labour(rng, age, status, grade, school)
    months, away = people.work_months(rng, age, capacity)
    wage = people.monthly_wage(rng, capacity, away)
    ethnicity = np.r_[
        _ethnicity(
            rng,
            len(plan.village_code),
            h_village,
            hh,
            (mem["role"] == ROLE_SPOUSE) | (mem["role"] == ROLE_INLAW),
        ),
        weighted(rng, [w for _, w in data.ETHNICITY_WEIGHTS], n_other),
    ]
    registered = p_hh >= 0
    worker = (
        (months >= 3)
        & (capacity <= people.ORDINARY)
        & (age >= 18)
        & (age < 60)
        & (rng.random(n) < np.where(registered, 0.72, 0.5))
    )
    worker |= ~registered & (age >= 18) & (age < 60) & (capacity <= people.ORDINARY) & (rng.random(n) < 0.3)
    employee_ins = worker & (rng.random(n) < np.where(registered, 0.28, 0.5))
    place, work_place, employer = people.employers(rng, n, plan.county_name[county])
    flexible = rng.random(n) < 0.2
    med_ins = ~employee_ins & (rng.random(n) < 0.995)
    phone = pa.compute.if_else(
        pa.array((age >= 18) & (rng.random(n) < 0.7)), phones(rng, n), pa.scalar(None, pa.string())
    )

    pop = Population(county, int(plan.county_code6[county]), plan.county_name[county], villages, n_h, n_reg)
    pop.p = {
        "hh": p_hh,
        "village": p_village,
        "age": age,
        "sex": sex,
        "birth": birth,
        "id": id_number,
        "name": name,
        "surname": surname,
        "relation": np.r_[mem["relation"], np.full(n_other, -1)],
        "role": np.r_[mem["role"], np.full(n_other, -1)],
        "slot": np.r_[mem["slot"], np.full(n_other, -1)],
        "ethnicity": ethnicity,
        "school": school,
        "education": edu,
        "health": status,
        "dis_grade": grade,
        "dis_type": dtype_,
        "labour": capacity,
        "work_months": months,
        "away": away,
        "wage": wage,
        "worker": worker,
        "employee_ins": employee_ins,
        "work_place_idx": place,
        "work_place": work_place,
        "employer": employer,
        "flexible": flexible,
        "med_ins": med_ins,
        "phone": phone,
    }
    person_id = concat(h_id.take(pa.array(hh)), zpad(mem["slot"] + 1, 2))
    pop.p["person_id"] = pa.concat_arrays([person_id, pa.nulls(n_other, pa.string())])
    pop.h = {
        "id": h_id,
        "village": h_village,
        "hamlet": h_hamlet,
        "size": size,
        "poor": poor,
        "head": h_start,
        "old": st["old"],
        "surname": h_surname,
    }
    household_attributes(rng, pop, cfg)
    return pop
