"""Exact linkage: feed records joined to registered people on the normalised ID number (or its digest).

One hash join of two narrow relations of already-normalised numbers, aggregated per record; nothing else
about a record is computed here, except the validity of numbers that matched nobody (only for those).
"""

from __future__ import annotations

from typing import Any

from jingzhun.link.sql import tree


def exact_pairs(engine: Any, keys: str, feed_keys: str, target: str, *, check_unmatched: bool = True) -> None:
    """Materialize ``target(record_id, person_id, household_id, n_candidates, id_valid)``: one row per feed
    record (``feed_keys``: a (uid, id_number) relation or query, see
    :func:`jingzhun.link.frames.feed_keys_sql`; ``keys``: :func:`jingzhun.link.frames.prepare_keys`).

    ``n_candidates`` counts the registered people holding the record's number: 0 (``person_id`` NULL), 1
    (the link), or more for a duplicated number (the smallest person_id here; :func:`exact_candidates`
    lists them all for those few records). ``id_valid`` is computed only for records that matched nobody
    (NULL otherwise, or everywhere when ``check_unmatched`` is false: digests have no check digit).
    """
    from jingzhun.link.frames import valid_sql

    valid = valid_sql("r.id_number") if check_unmatched else "NULL"
    engine.materialize(target, tree(f"""
        SELECT r.uid AS record_id, min(l.uid) AS person_id, min(l.household_id) AS household_id,
               count(l.uid) AS n_candidates, bool_or(CASE WHEN l.uid IS NULL THEN {valid} END) AS id_valid
        FROM ({feed_keys}) r LEFT JOIN {keys} l ON r.id_number = l.id_number
        GROUP BY r.uid
    """))


def exact_candidates(engine: Any, keys: str, feed_keys: str, exact: str, target: str) -> None:
    """Materialize ``target(record_id, person_id, household_id, n_candidates)``: every candidate of the
    records whose number several registered people hold."""
    engine.materialize(target, tree(f"""
        SELECT e.record_id, l.uid AS person_id, l.household_id, e.n_candidates
        FROM {exact} e JOIN ({feed_keys}) r ON r.uid = e.record_id JOIN {keys} l ON l.id_number = r.id_number
        WHERE e.n_candidates > 1
    """))
