"""Data conflicts (数据打架) planted in the registry extract: one ID number on two households, risk type
缺劳动力 while most members can work, school status 非在校生 for a pupil the school lists as 在读.
(Dead people still listed, two insurance schemes and differing disability grades are planted in the
feeds, see timeline.py and the feed modules.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from jingzhun.synth import people
from jingzhun.synth.config import SynthConfig
from jingzhun.synth.households import RISK
from jingzhun.synth.timeline import NEVER, Timeline, draw_month

if TYPE_CHECKING:
    from jingzhun.synth.population import Population


def plant_registry_conflicts(
    rng: np.random.Generator, pop: Population, tl: Timeline, cfg: SynthConfig
) -> list[dict[str, object]]:
    """Change the registry view of ``pop`` in place; return the conflicts as event rows (first month)."""
    p, h = pop.p, pop.h
    ev = cfg.events
    n_reg = pop.n_registered
    events: list[dict[str, object]] = []
    p["school_reg"] = p["school"].copy()
    p["phantom"] = np.zeros(pop.n_people, dtype=bool)

    # the same person listed in a second household: the copy takes the original's identity
    adult = np.zeros(pop.n_people, dtype=bool)
    adult[:n_reg] = (p["age"][:n_reg] >= 20) & (p["role"][:n_reg] > 0) & ~tl.p["dead_before"][:n_reg]
    adult &= tl.p["death"] == NEVER
    chosen = np.flatnonzero(draw_month(rng, adult, ev.duplicate_id, 1, at_least_one=True) < NEVER)
    if len(chosen) == 1:  # a pair needs two people: add one from another household
        others = np.flatnonzero(adult & (p["hh"] != p["hh"][chosen[0]]))
        if len(others):
            chosen = np.r_[chosen, others[rng.integers(0, len(others))]]
    if len(chosen) >= 2:
        half = len(chosen) // 2
        originals, copies = chosen[:half], chosen[half : 2 * half]
        different = p["hh"][originals] != p["hh"][copies]
        originals, copies = originals[different], copies[different]
        if len(copies):
            idx = np.arange(pop.n_people)
            idx[copies] = originals
            take = pa.array(idx)
            keep = {"hh", "village", "relation", "role", "slot", "person_id", "phantom"}
            for key, values in list(p.items()):  # the copy is the same person: every personal attribute
                if key not in keep:
                    p[key] = values.take(take) if isinstance(values, pa.Array) else values[idx]
            p["phantom"][copies] = True
            pid = p["person_id"]
            for a, b in zip(originals.tolist(), copies.tolist(), strict=True):  # a handful per county
                events.append(
                    {
                        "event": "conflict_duplicate_id",
                        "person": a,
                        "household": int(p["hh"][a]),
                        "dataset": "member",
                        "detail": f"also listed as {pid[b].as_py()}",
                    }
                )
                events.append(
                    {
                        "event": "conflict_duplicate_id",
                        "person": b,
                        "household": int(p["hh"][b]),
                        "dataset": "member",
                        "detail": f"same ID number as {pid[a].as_py()}",
                    }
                )
    tl.p["phantom"] = p["phantom"]

    # risk type 缺劳动力 while most members can work
    able = (h["monitoring"] >= 0) & (h["able_share"] > 0.5) & (h["risk"] != RISK["缺劳动力"])
    lacking = int(((h["monitoring"] >= 0) & (h["risk"] == RISK["缺劳动力"])).sum())
    share = min(1.0, ev.labour_risk_type * max(lacking, 1) / max(int(able.sum()), 1))
    hit = np.flatnonzero(draw_month(rng, able, share, 1, at_least_one=True) < NEVER)
    h["risk"][hit] = RISK["缺劳动力"]
    for i in hit.tolist():
        events.append(
            {
                "event": "conflict_labour_risk_type",
                "person": -1,
                "household": i,
                "dataset": "household",
                "detail": f"able share {h['able_share'][i]:.2f}",
            }
        )

    # pupils the registry calls 非在校生
    pupil = np.zeros(pop.n_people, dtype=bool)
    pupil[:n_reg] = (p["age"][:n_reg] >= 6) & (p["age"][:n_reg] <= 15) & (p["school"][:n_reg] > 1)
    pupil &= (
        (tl.p["dropout"] == NEVER) & (tl.p["death"] == NEVER) & ~p["phantom"] & (tl.p["move_out"] == NEVER)
    )
    hit = np.flatnonzero(draw_month(rng, pupil, ev.school_status, 1, at_least_one=True) < NEVER)
    p["school_reg"][hit] = people.SCHOOL_NONE
    p["school_conflict"] = np.zeros(pop.n_people, dtype=bool)
    p["school_conflict"][hit] = True
    return events
