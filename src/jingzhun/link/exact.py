"""Exact linkage: feed records joined to registered people on the normalised ID number (or its digest)."""

from __future__ import annotations

from typing import Any

from jingzhun.link.sql import tree


def exact_pairs(engine: Any, keys: str, feed: str, target: str) -> None:
    """Materialize ``target(record_id, person_id, household_id, n_candidates)``.

    ``keys`` is the registry's key frame (:func:`jingzhun.link.frames.prepare_keys`), ``feed`` a prepared
    feed frame. One hash join on the already-normalised number; a record whose number belongs to several
    registered people (a duplicated ID number) gets one row per candidate, ``n_candidates > 1``.
    """
    engine.materialize(target, tree(f"""
        SELECT r.uid AS record_id, l.uid AS person_id, l.household_id,
               count(*) OVER (PARTITION BY r.uid) AS n_candidates
        FROM {feed} r JOIN {keys} l ON r.id_number = l.id_number
        WHERE r.id_number IS NOT NULL
    """))
