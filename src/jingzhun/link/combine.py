"""One row per feed record from exact pairs, probabilistic pairs and clerk decisions (engine-neutral SQL).

Rules: an exact link to one person wins over everything; then a clerk's accepted decision; then the best
remaining candidate (rejected pairs removed). When the second-best candidate is also in the review band and its
match weight is within ``ambiguity_bits`` of the best, the record goes to review even above the accept
threshold. A number held by several registered people sends the record to review with method ``exact``.
"""

from __future__ import annotations

from jingzhun.link.config import LinkConfig


def _weight(p: str) -> str:
    """SQL for the match weight (log2 odds) of a probability, finite at 0 and 1."""
    clamped = f"least(greatest({p}, 1e-15), 1 - 1e-15)"
    return f"log2({clamped} / (1 - {clamped}))"


def combine_sql(feed: str, multi: str, pairs: str, decisions: str, keys: str, cfg: LinkConfig) -> str:
    """SELECT of :data:`jingzhun.link.api.LINK_SCHEMA` columns for the records not linked exactly to one
    person (unordered); :func:`links_sql` adds those.

    ``feed``: prepared frame (uid, fingerprint) of those records; ``multi``: every candidate of the
    records whose number several people hold; ``pairs``: (record_id, person_id, match_probability);
    ``decisions``: (record_fingerprint, person_id, decision); ``keys``: the registry's (uid, household_id).
    """
    return f"""
    WITH fp AS (SELECT uid AS record_id, fingerprint FROM {feed}),
    dec AS (
        SELECT f.record_id, d.person_id, d.decision
        FROM fp f JOIN {decisions} d ON d.record_fingerprint = f.fingerprint
    ),
    cand AS (
        SELECT record_id, person_id, CAST(1.0 AS DOUBLE) AS p, 'exact' AS method FROM {multi}
        UNION ALL
        SELECT record_id, person_id, match_probability AS p, 'probabilistic' AS method FROM {pairs}
    ),
    kept AS (
        SELECT c.* FROM cand c
        WHERE NOT EXISTS (SELECT 1 FROM dec d WHERE d.record_id = c.record_id AND d.person_id = c.person_id
                                                 AND d.decision = 'reject')
    ),
    ranked AS (
        SELECT record_id, person_id, p, method,
               row_number() OVER (PARTITION BY record_id ORDER BY p DESC, person_id) AS rn
        FROM kept
    ),
    best AS (
        SELECT b.record_id, b.person_id, b.p, b.method,
               s.p IS NOT NULL AND s.p >= {cfg.review}
                   AND {_weight("b.p")} - {_weight("s.p")} < {cfg.ambiguity_bits} AS ambiguous
        FROM ranked b LEFT JOIN ranked s ON s.record_id = b.record_id AND s.rn = 2
        WHERE b.rn = 1
    ),
    accepted AS (
        SELECT d.record_id, min(d.person_id) AS person_id
        FROM dec d JOIN {keys} l ON l.uid = d.person_id
        WHERE d.decision = 'accept' GROUP BY d.record_id
    ),
    accepted_score AS (
        SELECT a.record_id, max(k.p) AS p
        FROM accepted a JOIN kept k ON k.record_id = a.record_id AND k.person_id = a.person_id
        GROUP BY a.record_id
    ),
    rejected_any AS (SELECT DISTINCT record_id FROM dec WHERE decision = 'reject'),
    out AS (
        SELECT f.record_id,
               CASE WHEN a.record_id IS NOT NULL THEN a.person_id
                    WHEN b.p >= {cfg.accept} AND NOT b.ambiguous AND b.method <> 'exact'
                         THEN b.person_id END AS person_id,
               CASE WHEN a.record_id IS NOT NULL THEN 'review_accepted' ELSE b.method END AS method,
               CASE WHEN a.record_id IS NOT NULL THEN s.p ELSE b.p END AS score,
               CASE WHEN a.record_id IS NOT NULL THEN 'accepted'
                    WHEN b.record_id IS NULL
                         THEN CASE WHEN ra.record_id IS NOT NULL THEN 'rejected' ELSE 'unlinked' END
                    WHEN b.method = 'exact' THEN 'review'
                    WHEN b.p >= {cfg.accept} AND b.ambiguous THEN 'review'
                    WHEN b.p >= {cfg.accept} THEN 'accepted'
                    WHEN b.p >= {cfg.review} THEN 'review'
                    ELSE 'rejected' END AS band,
               CASE WHEN a.record_id IS NULL THEN b.person_id END AS candidate_person_id,
               f.fingerprint
        FROM fp f
        LEFT JOIN accepted a ON a.record_id = f.record_id
        LEFT JOIN accepted_score s ON s.record_id = f.record_id
        LEFT JOIN best b ON b.record_id = f.record_id
        LEFT JOIN rejected_any ra ON ra.record_id = f.record_id
    )
    SELECT o.record_id, o.person_id, l.household_id, o.method, o.score, o.band, o.candidate_person_id,
           o.fingerprint
    FROM out o LEFT JOIN {keys} l ON l.uid = o.person_id
    """


def links_sql(exact: str, others: str, skip_valid_unmatched: bool) -> str:
    """Every record's row: those linked exactly to one person, those whose valid number matched nobody
    (people not registered: unlinked, nothing else computed, when ``skip_valid_unmatched``), then the
    others (:func:`combine_sql`)."""
    skipped = f"""
    UNION ALL
    SELECT record_id, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS DOUBLE),
           'unlinked', CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR)
    FROM {exact} WHERE n_candidates = 0 AND id_valid""" if skip_valid_unmatched else ""
    return f"""
    SELECT record_id, person_id, household_id, 'exact' AS method, CAST(1.0 AS DOUBLE) AS score,
           'accepted' AS band, CAST(NULL AS VARCHAR) AS candidate_person_id,
           CAST(NULL AS VARCHAR) AS fingerprint
    FROM {exact} WHERE n_candidates = 1{skipped}
    UNION ALL
    SELECT record_id, person_id, household_id, method, score, band, candidate_person_id, fingerprint
    FROM {others}
    """
