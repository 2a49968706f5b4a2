"""The synthetic province: cities, counties, townships and villages with 12-digit statistical codes and
place names built from syllables, sized so each village holds roughly 800–1,500 registered people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from jingzhun.synth import data
from jingzhun.synth.strings import chars, concat, pick, zpad

PERSONS_PER_VILLAGE = 1100


@dataclass
class RegionPlan:
    """Every region of the province as parallel arrays, one set per level (indices link levels)."""

    province_code: str
    province_name: str
    city_code: list[str]
    city_name: list[str]
    county_code6: np.ndarray  # int, e.g. 520122
    county_name: list[str]
    county_city: np.ndarray
    town_code: list[str]
    town_name: list[str]
    town_county: np.ndarray
    village_code: pa.Array  # 12-digit strings
    village_name: pa.Array
    village_town: np.ndarray
    village_county: np.ndarray
    village_persons: np.ndarray  # registered persons planned per village
    village_hamlets: np.ndarray  # natural villages (组) per village

    @property
    def n_counties(self) -> int:
        return len(self.county_code6)

    def county_code(self, i: int) -> str:
        return f"{int(self.county_code6[i])}000000"

    def table(self) -> pa.Table:
        """regions.csv: code, name, level, parent_code."""
        codes = [self.province_code]
        names = [self.province_name]
        levels = ["province"]
        parents: list[str | None] = [None]
        codes += self.city_code
        names += self.city_name
        levels += ["city"] * len(self.city_code)
        parents += [self.province_code] * len(self.city_code)
        county_codes = [self.county_code(i) for i in range(self.n_counties)]
        codes += county_codes
        names += self.county_name
        levels += ["county"] * len(county_codes)
        parents += [self.city_code[c] for c in self.county_city]
        codes += self.town_code
        names += self.town_name
        levels += ["township"] * len(self.town_code)
        parents += [county_codes[c] for c in self.town_county]
        head = pa.table({"code": codes, "name": names, "level": levels, "parent_code": parents})
        villages = pa.table(
            {
                "code": self.village_code,
                "name": self.village_name,
                "level": pa.repeat("village", len(self.village_code)),
                "parent_code": pa.array(self.town_code, pa.string()).take(pa.array(self.village_town)),
            }
        )
        return pa.concat_tables([head, villages])


def _group_sizes(rng: np.random.Generator, total: int, low: int, high: int) -> np.ndarray:
    """Split ``total`` items into groups of ``low``..``high`` (the last may be smaller)."""
    sizes = rng.integers(low, high + 1, size=total // low + 1)
    cum = np.cumsum(sizes)
    k = int(np.searchsorted(cum, total)) + 1
    sizes = sizes[:k].copy()
    sizes[-1] -= int(cum[k - 1] - total)
    return sizes[sizes > 0]


def _names(
    rng: np.random.Generator, n: int, suffix: np.ndarray | str, groups: np.ndarray | None = None
) -> pa.Array:
    """Two-syllable place names + suffix, unique within each group (or overall)."""
    first, second = chars(data.PLACE_FIRST), chars(data.PLACE_SECOND)
    ncombo = len(first) * len(second)
    perm = rng.permutation(ncombo)
    if groups is None:
        pos = np.arange(n) % ncombo
    else:
        starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
        rank = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
        offset = rng.integers(0, ncombo, size=len(starts))
        pos = (np.repeat(offset, np.diff(np.r_[starts, n])) + rank) % ncombo
    combo = perm[pos]
    a = first.take(pa.array(combo // len(second)))
    b = second.take(pa.array(combo % len(second)))
    return concat(a, b, suffix if isinstance(suffix, str) else pa.array(suffix, pa.string()))


def plan_regions(rng: np.random.Generator, persons: int) -> RegionPlan:
    """Lay out the province for ``persons`` registered people."""
    n_villages = max(1, round(persons / PERSONS_PER_VILLAGE))
    per_town = _group_sizes(rng, n_villages, 8, 16) if n_villages > 16 else np.array([n_villages])
    n_towns = len(per_town)
    per_county = _group_sizes(rng, n_towns, 10, 20) if n_towns > 20 else np.array([n_towns])
    n_counties = len(per_county)
    per_city = _group_sizes(rng, n_counties, 6, 12) if n_counties > 12 else np.array([n_counties])
    n_cities = len(per_city)
    if n_cities > 99:
        raise ValueError("too many persons for one province layout")

    prov = data.PROVINCE_PREFIX
    city_code = [f"{prov}{i + 1:02d}00000000" for i in range(n_cities)]
    city_name = _names(rng, n_cities, "市").to_pylist()
    county_city = np.repeat(np.arange(n_cities), per_city)
    county_rank = np.arange(n_counties) - np.repeat(np.cumsum(per_city) - per_city, per_city)
    county_code6 = (int(prov) * 10000 + (county_city + 1) * 100 + 21 + county_rank).astype(np.int64)
    county_name = _names(rng, n_counties, "县").to_pylist()

    town_county = np.repeat(np.arange(n_counties), per_county)
    is_zhen = rng.random(n_towns) < 0.62
    town_rank = np.zeros(n_towns, dtype=np.int64)
    for flag in (True, False):  # number 镇 from 101 and 乡 from 201 within each county
        sel = is_zhen == flag
        c = town_county[sel]
        starts = np.r_[0, np.flatnonzero(np.diff(c)) + 1]
        town_rank[sel] = np.arange(len(c)) - np.repeat(starts, np.diff(np.r_[starts, len(c)]))
    town_num = np.where(is_zhen, 101, 201) + town_rank
    town_code = [f"{county_code6[c]}{t:03d}000" for c, t in zip(town_county, town_num, strict=True)]
    town_name = _names(rng, n_towns, np.where(is_zhen, "镇", "乡")).to_pylist()

    village_town = np.repeat(np.arange(n_towns), per_town)
    village_rank = np.arange(n_villages) - np.repeat(np.cumsum(per_town) - per_town, per_town)
    town_prefix = pa.array([c[:9] for c in town_code], pa.string()).take(pa.array(village_town))
    village_code = concat(town_prefix, zpad(201 + village_rank, 3))
    village_name = _names(rng, n_villages, data.VILLAGE_SUFFIX, village_town)

    weights = rng.uniform(0.72, 1.32, size=n_villages)
    share = weights / weights.sum() * persons
    counts = np.floor(share).astype(np.int64)
    rest = persons - int(counts.sum())
    if rest:
        counts[np.argsort(-(share - counts), kind="stable")[:rest]] += 1
    return RegionPlan(
        province_code=f"{prov}0000000000",
        province_name=data.PROVINCE_NAME,
        city_code=city_code,
        city_name=city_name,
        county_code6=county_code6,
        county_name=county_name,
        county_city=county_city,
        town_code=town_code,
        town_name=town_name,
        town_county=town_county,
        village_code=village_code,
        village_name=village_name,
        village_town=village_town,
        village_county=town_county[village_town],
        village_persons=counts,
        village_hamlets=rng.integers(4, 10, size=n_villages),
    )


def hamlet_names(village: np.ndarray, hamlet: np.ndarray) -> pa.Array:
    """Natural-village (组) names, stable for a (village, hamlet) pair within a run."""
    first, second = chars(data.PLACE_FIRST), chars(data.PLACE_SECOND)
    key = np.asarray(village, dtype=np.int64) * 7919 + np.asarray(hamlet, dtype=np.int64) * 104729
    a = first.take(pa.array(key % len(first)))
    b = second.take(pa.array((key // 7) % len(second)))
    suffix = pick(data.HAMLET_SUFFIX, (key // 13) % len(data.HAMLET_SUFFIX))
    return concat(a, b, suffix)
