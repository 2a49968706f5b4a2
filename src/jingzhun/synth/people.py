"""Attributes of individual people, whole columns at a time: names, ID numbers, birth dates, education,
school status, health, disability, labour capacity and work. Shared by registered members and the other
rural people of a county who appear only in feeds.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from jingzhun.synth import data
from jingzhun.synth.strings import chars, concat, weighted

# label indices (see data.py)
(
    SCHOOL_NONE,
    SCHOOL_PRE,
    SCHOOL_PRIMARY,
    SCHOOL_JUNIOR,
    SCHOOL_SENIOR,
    SCHOOL_VOC,
    SCHOOL_COLLEGE,
    SCHOOL_UNI,
) = range(8)
HEALTHY, CHRONIC, SERIOUS, DISABLED = range(4)
SKILLED, ORDINARY, WEAK, LOST, NONE_LABOUR = range(5)

_SURNAMES = pa.array([s for s, _ in data.SURNAMES], pa.string())
_SURNAME_W = np.array([w for _, w in data.SURNAMES], dtype=np.float64)
_GIVEN = {k: chars(v) for k, v in data.GIVEN_CHARS.items()}


def surnames(rng: np.random.Generator, n: int) -> np.ndarray:
    """Surname indices, common surnames more often."""
    return weighted(rng, _SURNAME_W, n)


def surname_text(idx: np.ndarray) -> pa.Array:
    return _SURNAMES.take(pa.array(idx))


def cohort(birth: np.ndarray) -> np.ndarray:
    """0: born before 1965, 1: 1965–1994, 2: 1995 on."""
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    return np.where(year < 1965, 0, np.where(year < 1995, 1, 2))


def given_names(rng: np.random.Generator, sex: np.ndarray, birth: np.ndarray) -> pa.Array:
    """One- or two-character given names typical of the person's sex and birth cohort."""
    n = len(sex)
    group = cohort(birth) * 2 + sex
    first = pa.nulls(n, pa.string())
    second = pa.nulls(n, pa.string())
    parts1: list[pa.Array] = []
    parts2: list[pa.Array] = []
    order: list[np.ndarray] = []
    two = rng.random(n) < np.where(group < 2, 0.62, 0.8)
    for g in range(6):
        sel = np.flatnonzero(group == g)
        pool = _GIVEN[(g // 2, g % 2)]
        a = pool.take(pa.array(rng.integers(0, len(pool), size=len(sel))))
        b = pool.take(pa.array(rng.integers(0, len(pool), size=len(sel))))
        b = pa.compute.if_else(pa.array(two[sel]), b, "")
        parts1.append(a)
        parts2.append(b)
        order.append(sel)
    if n:
        idx = np.concatenate(order)
        inverse = np.empty(n, dtype=np.int64)
        inverse[idx] = np.arange(n)
        first = pa.concat_arrays(parts1).take(pa.array(inverse))
        second = pa.concat_arrays(parts2).take(pa.array(inverse))
    return concat(first, second)


def full_names(
    rng: np.random.Generator, surname_idx: np.ndarray, sex: np.ndarray, birth: np.ndarray
) -> pa.Array:
    return concat(surname_text(surname_idx), given_names(rng, sex, birth))


def birth_dates(rng: np.random.Generator, age: np.ndarray, start: np.datetime64) -> np.ndarray:
    """Birth dates for whole-year ages at ``start`` (datetime64[D])."""
    days = np.floor(np.asarray(age, dtype=np.float64) * 365.25).astype(np.int64) + rng.integers(
        1, 365, len(age)
    )
    return start - days


def age_at(birth: np.ndarray, day: np.datetime64 | np.ndarray) -> np.ndarray:
    """Whole years between birth and ``day`` (one day, or one per person)."""
    return np.floor((day - birth).astype(np.int64) / 365.25).astype(np.int64)


def sequence_numbers(draw: np.ndarray, sex: np.ndarray) -> np.ndarray:
    """3-digit ID sequence numbers from draws in [0, 500): odd for men, even for women, never ``x00``
    (a number ending in ``000`` looks like one Excel rounded, which ingest refuses).

    >>> sequence_numbers(np.array([0, 50, 7]), np.array([1, 1, 0])).tolist()
    [2, 102, 15]
    """
    draw = np.where(draw % 50 == 0, draw + 1, draw)
    return draw * 2 + (sex == 0)


def unique_sequences(rng: np.random.Generator, birth: np.ndarray, sex: np.ndarray) -> np.ndarray:
    """3-digit ID sequence numbers (odd for men) unique per birth date, so no two people share a number."""
    n = len(birth)
    seq = sequence_numbers(rng.integers(0, 500, size=n), sex)
    day = birth.astype(np.int64)
    for _ in range(50):
        key = day * 1000 + seq
        _, first, counts = np.unique(key, return_index=True, return_counts=True)
        if (counts == 1).all():
            return seq
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        k = int(dup.sum())
        seq[dup] = sequence_numbers(rng.integers(0, 500, size=k), sex[dup])
    raise RuntimeError("could not make ID numbers unique")  # pragma: no cover


def _cum_draw(rng: np.random.Generator, probs: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Draw a category per row from the probability row ``probs[group]``."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)[group]
    u = rng.random(len(group))
    return np.minimum((u[:, None] > cum).sum(axis=1), probs.shape[1] - 1)


_SCHOOL_BY_AGE = {  # age group -> probabilities over SCHOOL_STATUS
    "pre": (0.25, 0.75, 0, 0, 0, 0, 0, 0),
    "15": (0, 0, 0, 0.7, 0.2, 0.1, 0, 0),
    "16": (0.22, 0, 0, 0, 0.5, 0.28, 0, 0),
    "19": (0.72, 0, 0, 0, 0, 0, 0.14, 0.14),
}

_EDU_BY_COHORT = np.array(
    [  # 学龄前 文盲 小学 初中 高中 中专 大专
        [0, 0.40, 0.42, 0.14, 0.03, 0.01, 0.0],  # born < 1960
        [0, 0.10, 0.40, 0.40, 0.07, 0.02, 0.01],  # 1960-1979
        [0, 0.03, 0.20, 0.52, 0.12, 0.07, 0.06],  # 1980-1999
        [0, 0.0, 0.05, 0.45, 0.20, 0.15, 0.15],  # 2000 on
    ]
)


def school_and_education(
    rng: np.random.Generator, age: np.ndarray, birth: np.ndarray, sex: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """School status (在校生状况) consistent with age, and education (文化程度)."""
    n = len(age)
    school = np.zeros(n, dtype=np.int64)
    for key, lo, hi in (("pre", 3, 5), ("15", 15, 15), ("16", 16, 18), ("19", 19, 22)):
        sel = (age >= lo) & (age <= hi)
        if sel.any():
            school[sel] = _cum_draw(
                rng, np.array([_SCHOOL_BY_AGE[key]], dtype=float), np.zeros(sel.sum(), int)
            )
    school[(age >= 6) & (age <= 11)] = SCHOOL_PRIMARY
    school[(age >= 12) & (age <= 14)] = SCHOOL_JUNIOR
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    group = np.select([year < 1960, year < 1980, year < 2000], [0, 1, 2], 3)
    edu = _cum_draw(rng, _EDU_BY_COHORT, group)
    old_women = (sex == 1) & (year < 1965) & (rng.random(n) < 0.3)
    edu[old_women] = 1
    edu_of_school = np.array([-1, 0, 2, 3, 4, 5, 6, 6])
    edu = np.where(school > 0, edu_of_school[school], edu)
    edu[age < 6] = 0
    edu[(age >= 6) & (school == SCHOOL_NONE) & (age <= 15)] = 2
    return school, edu


def health(rng: np.random.Generator, age: np.ndarray, factor: np.ndarray | float) -> np.ndarray:
    """健康状况 index; ``factor`` raises illness and disability (registered poor households)."""
    f = np.asarray(factor, dtype=np.float64)
    chronic = np.select([age < 30, age < 45, age < 60, age < 70], [0.01, 0.05, 0.13, 0.26], 0.36) * f
    serious = np.select([age < 30, age < 60], [0.003, 0.012], 0.025) * f
    disabled = np.select([age < 18, age < 60], [0.008, 0.035], 0.085) * f
    u = rng.random(len(age))
    return np.select(
        [u < disabled, u < disabled + serious, u < disabled + serious + chronic],
        [DISABLED, SERIOUS, CHRONIC],
        HEALTHY,
    )


def disability(rng: np.random.Generator, status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grade (0 = 一级 … 3 = 四级) and type index for the disabled; -1 for others."""
    n = len(status)
    grade = np.where(status == DISABLED, weighted(rng, (0.12, 0.23, 0.30, 0.35), n), -1)
    kind = np.where(status == DISABLED, weighted(rng, data.DISABILITY_TYPE_WEIGHTS, n), -1)
    return grade, kind


def labour(
    rng: np.random.Generator, age: np.ndarray, status: np.ndarray, grade: np.ndarray, school: np.ndarray
) -> np.ndarray:
    """劳动技能 consistent with age, health and schooling."""
    u = rng.random(len(age))
    out = np.full(len(age), NONE_LABOUR)
    adult = (age >= 16) & ~(school >= SCHOOL_SENIOR)
    prime = adult & (age < 60)
    out = np.where(prime & (status == HEALTHY), np.where(u < 0.22, SKILLED, ORDINARY), out)
    out = np.where(prime & (status == CHRONIC), np.where(u < 0.5, WEAK, ORDINARY), out)
    out = np.where(
        adult & (age >= 60) & (age < 70),
        np.where(u < np.where(status == CHRONIC, 0.85, 0.55), WEAK, ORDINARY),
        out,
    )
    out = np.where(adult & (age >= 70), np.where(u < 0.6, LOST, WEAK), out)
    out = np.where(adult & (status == SERIOUS), np.where(u < 0.5, LOST, WEAK), out)
    severe = (status == DISABLED) & (grade <= 1)
    out = np.where(
        adult & (status == DISABLED), np.where(severe, LOST, np.where(u < 0.7, WEAK, ORDINARY)), out
    )
    return np.where((age >= 70) & (out <= ORDINARY), WEAK, out)


def work_months(
    rng: np.random.Generator, age: np.ndarray, capacity: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Months worked last year and whether the person works away (外出务工)."""
    n = len(age)
    able = (capacity <= ORDINARY) & (age >= 16) & (age < 60)
    away = able & (rng.random(n) < np.where(age <= 45, 0.62, 0.35))
    months = np.where(away, rng.integers(6, 13, n), np.where(able, rng.integers(1, 10, n), 0))
    weak = (capacity == WEAK) & (age >= 16) & (age < 65)
    months = np.where(weak, rng.integers(0, 5, n), months)
    return months, away


def monthly_wage(rng: np.random.Generator, capacity: np.ndarray, away: np.ndarray) -> np.ndarray:
    """Monthly wage in yuan for people who work."""
    base = np.where(capacity == SKILLED, 5200.0, np.where(capacity == ORDINARY, 4000.0, 2200.0))
    return np.round(base * np.where(away, 1.0, 0.72) * rng.lognormal(0.0, 0.25, len(capacity)), -1)


def employers(rng: np.random.Generator, n: int, county_name: str) -> tuple[np.ndarray, pa.Array, pa.Array]:
    """Place of work (index, text) and employer names for ``n`` workers."""
    place = weighted(rng, [w for _, w in data.WORK_PLACES], n)
    place_text = pa.array([p for p, _ in data.WORK_PLACES], pa.string()).take(pa.array(place))
    local = pa.compute.if_else(pa.array(np.isin(place, [len(data.WORK_PLACES) - 1])), county_name, place_text)
    city = pa.compute.utf8_slice_codeunits(pa.compute.replace_substring_regex(local, r"^(.*省)?", ""), 0, 2)
    name_chars = chars(data.EMPLOYER_NAME)
    firm = concat(
        name_chars.take(pa.array(rng.integers(0, len(name_chars), n))),
        name_chars.take(pa.array(rng.integers(0, len(name_chars), n))),
    )
    trade = pa.array(list(data.EMPLOYER_TRADE), pa.string()).take(
        pa.array(rng.integers(0, len(data.EMPLOYER_TRADE), n))
    )
    prefix = pa.compute.if_else(pa.array(np.isin(place, [len(data.WORK_PLACES) - 2])), "", city)
    return place, local, concat(prefix, firm, trade, "有限公司")
