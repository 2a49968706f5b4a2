"""Linking a feed to the registry: exact on ID numbers, then probabilistic (Splink) for the rest, clerk
decisions applied, one row per feed record with its method, score and band.

>>> import duckdb, pyarrow as pa
>>> con = duckdb.connect()
>>> _ = con.register("m", pa.table({"person_id": ["P1"], "household_id": ["H1"], "name": ["张三"],
...     "id_number": ["11010519491231002X"], "sex": ["女"], "birth_date": [None], "village_code": [None],
...     "phone": [None]}))
>>> _ = con.register("f", pa.table({"record_id": ["R1"], "id_number": ["110105491231002"], "name": ["張三"]}))
>>> cfg = default_config("demo", probabilistic={"enabled": False})
>>> link_feed(con, "m", "f", cfg).to_pylist()[0]["method"]
'exact'
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from jingzhun.link import frames
from jingzhun.link.config import LinkConfig, default_config
from jingzhun.link.exact import exact_pairs
from jingzhun.link.review import MASK_MACRO, as_decision_table, review_pairs_sql

LINK_SCHEMA = pa.schema(
    [
        ("record_id", pa.string()),
        ("person_id", pa.string()),
        ("household_id", pa.string()),
        ("method", pa.string()),
        ("score", pa.float64()),
        ("band", pa.string()),
        ("candidate_person_id", pa.string()),
        ("fingerprint", pa.string()),
    ]
)

__all__ = ["LINK_SCHEMA", "LinkResult", "default_config", "link_feed", "link_feed_result", "review_queue"]


@dataclass
class LinkResult:
    """Links (one row per feed record, :data:`LINK_SCHEMA`), the review queue side by side, and a summary
    (counts, timings, the trained model's comparisons)."""

    links: pa.Table
    review: pa.Table
    summary: dict[str, Any] = field(default_factory=dict)


def _weight(p: str) -> str:
    """SQL for the match weight (log2 odds) of a probability, finite at 0 and 1."""
    clamped = f"least(greatest({p}, 1e-15), 1 - 1e-15)"
    return f"log2({clamped} / (1 - {clamped}))"


def _combine_sql(p: str, cfg: LinkConfig) -> str:
    return f"""
    WITH fp AS (SELECT uid AS record_id, fingerprint FROM {p}r),
    exact_unique AS (SELECT record_id, person_id, household_id FROM {p}e WHERE n_candidates = 1),
    dec AS (
        SELECT f.record_id, d.person_id, d.decision
        FROM fp f JOIN {p}d d ON d.record_fingerprint = f.fingerprint
        WHERE f.record_id NOT IN (SELECT record_id FROM exact_unique)
    ),
    cand AS (
        SELECT record_id, person_id, 1.0::DOUBLE AS p, 'exact' AS method FROM {p}e WHERE n_candidates > 1
        UNION ALL
        SELECT record_id, person_id, match_probability, 'probabilistic' FROM {p}p
    ),
    kept AS (
        SELECT c.* FROM cand c
        WHERE NOT EXISTS (SELECT 1 FROM dec d WHERE d.record_id = c.record_id AND d.person_id = c.person_id
                                                 AND d.decision = 'reject')
    ),
    ranked AS (
        SELECT *, row_number() OVER (PARTITION BY record_id ORDER BY p DESC, person_id) AS rn FROM kept
    ),
    best AS (
        SELECT b.record_id, b.person_id, b.p, b.method, s.p AS second_p,
               s.p IS NOT NULL AND s.p >= {cfg.review}
                   AND {_weight("b.p")} - {_weight("s.p")} < {cfg.ambiguity_bits} AS ambiguous
        FROM ranked b LEFT JOIN ranked s ON s.record_id = b.record_id AND s.rn = 2
        WHERE b.rn = 1
    ),
    accepted AS (
        SELECT d.record_id, min(d.person_id) AS person_id
        FROM dec d JOIN {p}lk l ON l.uid = d.person_id
        WHERE d.decision = 'accept' GROUP BY d.record_id
    ),
    rejected_any AS (SELECT DISTINCT record_id FROM dec WHERE decision = 'reject')
    SELECT f.record_id,
           CASE WHEN eu.record_id IS NOT NULL THEN eu.person_id
                WHEN a.record_id IS NOT NULL THEN a.person_id
                WHEN b.p >= {cfg.accept} AND NOT b.ambiguous AND b.method <> 'exact'
                     THEN b.person_id END AS person_id,
           CASE WHEN eu.record_id IS NOT NULL THEN 'exact'
                WHEN a.record_id IS NOT NULL THEN 'review_accepted'
                ELSE b.method END AS method,
           CASE WHEN eu.record_id IS NOT NULL THEN 1.0
                WHEN a.record_id IS NOT NULL THEN (SELECT max(k.p) FROM kept k
                                                   WHERE k.record_id = a.record_id
                                                     AND k.person_id = a.person_id)
                ELSE b.p END AS score,
           CASE WHEN eu.record_id IS NOT NULL OR a.record_id IS NOT NULL THEN 'accepted'
                WHEN b.record_id IS NULL
                     THEN CASE WHEN ra.record_id IS NOT NULL THEN 'rejected' ELSE 'unlinked' END
                WHEN b.method = 'exact' THEN 'review'
                WHEN b.p >= {cfg.accept} AND b.ambiguous THEN 'review'
                WHEN b.p >= {cfg.accept} THEN 'accepted'
                WHEN b.p >= {cfg.review} THEN 'review'
                ELSE 'rejected' END AS band,
           CASE WHEN eu.record_id IS NULL AND a.record_id IS NULL THEN b.person_id END AS candidate_person_id,
           f.fingerprint
    FROM fp f
    LEFT JOIN exact_unique eu ON eu.record_id = f.record_id
    LEFT JOIN accepted a ON a.record_id = f.record_id
    LEFT JOIN best b ON b.record_id = f.record_id
    LEFT JOIN rejected_any ra ON ra.record_id = f.record_id
    """


def link_feed_result(
    con: Any,
    members_relation: str,
    feed_relation: str,
    config: LinkConfig | None = None,
    decisions: Any = None,
    *,
    hashed: bool | None = None,
    key: bytes | None = None,
    unmask_review: bool = False,
    progress: Callable[[str], None] | None = None,
) -> LinkResult:
    """Link and return links, review queue and summary (see :func:`link_feed`)."""
    cfg = config or default_config()
    hashed = cfg.hashed if hashed is None else hashed
    if hashed and key is None:
        from jingzhun.errors import ConfigError

        raise ConfigError("hashed linkage needs the shared key (key=...) to hash the registry's ID numbers")
    say = progress or (lambda _msg: None)
    p = f"__jz_link_{uuid.uuid4().hex[:8]}_"
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    frames.install(con)
    con.execute(MASK_MACRO)
    try:
        say("prepare")
        frames.prepare_keys(con, members_relation, cfg.left, f"{p}lk")
        frames.prepare(con, feed_relation, cfg.right, f"{p}r", is_left=False, hashed=hashed)
        if hashed:
            frames.hash_ids(con, f"{p}lk", key or b"")
        timings["prepare_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        say("exact")
        if cfg.exact:
            exact_pairs(con, f"{p}lk", f"{p}r", f"{p}e")
        else:
            con.execute(
                f"CREATE TEMP TABLE {p}e (record_id VARCHAR, person_id VARCHAR, household_id VARCHAR, "
                "n_candidates BIGINT)"
            )
        timings["exact_s"] = time.perf_counter() - t1
        con.register(f"{p}d_arrow", as_decision_table(decisions, cfg.name))
        con.execute(f"CREATE TEMP TABLE {p}d AS SELECT * FROM {p}d_arrow")
        con.unregister(f"{p}d_arrow")
        t2 = time.perf_counter()
        model: dict[str, Any] = {}
        # records with a valid number that matched nobody belong to people not registered
        skip_valid = "AND NOT id_valid" if cfg.skip_valid_unmatched and not hashed else ""
        con.execute(
            f"CREATE TEMP TABLE {p}rest AS SELECT * FROM {p}r "
            f"WHERE uid NOT IN (SELECT record_id FROM {p}e) {skip_valid}"
        )
        n_rest = con.execute(f"SELECT count(*) FROM {p}rest").fetchall()[0][0]
        n_left = con.execute(f"SELECT count(*) FROM {p}lk").fetchall()[0][0]
        if cfg.probabilistic and n_rest and n_left:
            say("probabilistic")
            from jingzhun.link.probabilistic import predict_pairs

            frames.prepare(con, members_relation, cfg.left, f"{p}l", is_left=True)
            if hashed:
                con.execute(f"UPDATE {p}l SET id_text = NULL")
            model = predict_pairs(con, f"{p}l", f"{p}rest", cfg, f"{p}p")
        else:
            con.execute(
                f"CREATE TEMP TABLE {p}p (record_id VARCHAR, person_id VARCHAR, match_probability DOUBLE)"
            )
        timings["probabilistic_s"] = time.perf_counter() - t2
        say("combine")
        t3 = time.perf_counter()
        con.execute(f"""
            CREATE TEMP TABLE {p}k AS
            SELECT c.record_id, c.person_id, l.household_id, c.method, c.score, c.band, c.candidate_person_id,
                   c.fingerprint
            FROM ({_combine_sql(p, cfg)}) c LEFT JOIN {p}lk l ON l.uid = c.person_id
            ORDER BY c.record_id
        """)
        links = con.sql(f"SELECT * FROM {p}k ORDER BY record_id").to_arrow_table().cast(LINK_SCHEMA)
        if not (cfg.probabilistic and n_rest and n_left):
            # no full registry frame was needed: build one for the review candidates only
            from jingzhun.link.frames import quote

            candidates = (
                f"(SELECT * FROM {members_relation} WHERE CAST({quote(cfg.left.id)} AS VARCHAR) IN "
                f"(SELECT candidate_person_id FROM {p}k WHERE band = 'review'))"
            )
            frames.prepare(con, candidates, cfg.left, f"{p}l", is_left=True)
        review = con.sql(
            review_pairs_sql(f"{p}l", f"{p}r", f"{p}k", cfg.name, unmask_review)
        ).to_arrow_table()
        timings["combine_s"] = time.perf_counter() - t3
    finally:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE ? UNION ALL "
                "SELECT view_name FROM duckdb_views() WHERE view_name LIKE ?",
                [f"{p}%", f"{p}%"],
            ).fetchall()
        ]
        for name in names:
            con.execute(f"DROP TABLE IF EXISTS {name}")
            con.execute(f"DROP VIEW IF EXISTS {name}")
    from jingzhun.link.quality import quality_report

    summary = {
        "feed": cfg.name,
        "records": links.num_rows,
        "registry": n_left,
        "hashed": hashed,
        **quality_report(links),
        "model": model,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "seconds": round(time.perf_counter() - t0, 3),
    }
    return LinkResult(links, review, summary)


def link_feed(
    con: Any,
    members_relation: str,
    feed_relation: str,
    config: LinkConfig | None = None,
    decisions: Any = None,
    *,
    hashed: bool | None = None,
    key: bytes | None = None,
) -> pa.Table:
    """Link every record of ``feed_relation`` to the registered people of ``members_relation``.

    ``con`` is a DuckDB connection where both relations are registered (tables, views or Arrow tables).
    ``members_relation`` needs person_id, household_id, name, id_number, sex, birth_date, village_code
    (join ``member`` to ``household`` first) and optionally phone; ``feed_relation`` the feed's
    record_id, id_number, id_number_raw, name, sex, birth_date, region_code, phone (column names are
    configurable, see docs/LINKAGE.md). ``decisions`` is an ops store, an Arrow table
    (record_fingerprint, person_id, decision) or None. With ``hashed=True`` the feed's ID column holds
    HMAC digests and the registry is hashed here with ``key``.

    Returns one row per feed record ordered by record_id (:data:`LINK_SCHEMA`): ``person_id`` and
    ``household_id`` are set only in band ``accepted``; ``candidate_person_id`` names the best candidate of
    records in review or rejected.
    """
    return link_feed_result(
        con, members_relation, feed_relation, config, decisions, hashed=hashed, key=key
    ).links


def review_queue(
    con: Any,
    members_relation: str,
    feed_relation: str,
    config: LinkConfig | None = None,
    decisions: Any = None,
    *,
    unmask: bool = False,
    hashed: bool | None = None,
    key: bytes | None = None,
) -> pa.Table:
    """The pairs waiting for a clerk, both records side by side (ID numbers and phones masked unless
    ``unmask``); pairs already decided are not listed."""
    return link_feed_result(
        con, members_relation, feed_relation, config, decisions, hashed=hashed, key=key, unmask_review=unmask
    ).review
