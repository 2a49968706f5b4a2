"""Exact linkage: feed records joined to registered people on the normalised ID number (or its digest)."""

from __future__ import annotations

from typing import Any


def exact_pairs(con: Any, left: str, right: str, target: str) -> None:
    """Create temp table ``target(record_id, person_id, household_id, n_candidates)``.

    ``left``/``right`` are prepared frames (:mod:`jingzhun.link.frames`). A record whose number belongs to
    several registered people (a duplicated ID number) gets one row per candidate, ``n_candidates > 1``.
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {target} AS
        SELECT r.uid AS record_id, l.uid AS person_id, l.household_id,
               count(*) OVER (PARTITION BY r.uid) AS n_candidates
        FROM {right} r JOIN {left} l ON r.id_number = l.id_number
        WHERE r.id_number IS NOT NULL
    """)
