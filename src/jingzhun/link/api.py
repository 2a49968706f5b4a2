"""Linking feeds to the registry on any engine: exact on ID numbers, then probabilistic (Splink) for the
rest, clerk decisions applied, one row per feed record with its method, score and band.

Everything runs as engine-neutral SQL through an :class:`~jingzhun.engines.base.Engine` (a DuckDB
connection is accepted too and wrapped). A :class:`LinkSession` links several feeds against one registry
and prepares the registry side once; :func:`link_feed_result` is a one-feed session.

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

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from jingzhun.link import frames
from jingzhun.link.cache import LinkCache, cache_key, model_id, register_parts
from jingzhun.link.combine import combine_sql, links_sql
from jingzhun.link.config import LinkConfig, Side, default_config
from jingzhun.link.exact import exact_candidates, exact_pairs
from jingzhun.link.model import Model
from jingzhun.link.probabilistic import _Scope, predict_pairs
from jingzhun.link.quality import band_method_counts, quality_from_counts
from jingzhun.link.review import as_decision_table, review_pairs_sql
from jingzhun.link.sql import cast_to_schema, quote, scalar, tree

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

__all__ = [
    "LINK_SCHEMA", "LinkResult", "LinkSession", "default_config", "link_feed", "link_feed_result",
    "review_queue",
]

_EMPTY_EXACT = ("SELECT CAST(NULL AS VARCHAR) AS record_id, CAST(NULL AS VARCHAR) AS person_id, "
                "CAST(NULL AS VARCHAR) AS household_id, CAST(NULL AS BIGINT) AS n_candidates LIMIT 0")
_EMPTY_PAIRS = ("SELECT CAST(NULL AS VARCHAR) AS record_id, CAST(NULL AS VARCHAR) AS person_id, "
                "CAST(NULL AS DOUBLE) AS match_probability LIMIT 0")


@dataclass
class LinkResult:
    """Links (one row per feed record, :data:`LINK_SCHEMA`), the review queue side by side, and a summary
    (counts, timings, the model used). Linked with ``into``, the links stay in the engine as that table
    and ``links`` is None."""

    links: pa.Table | None
    review: pa.Table
    summary: dict[str, Any] = field(default_factory=dict)
    model: Model | None = None


def _opener(engine: Any, sql: str) -> Callable[[], pa.RecordBatchReader]:
    """A function streaming the rows of ``sql`` from ``engine`` when called."""
    return lambda: engine.fetch_batches(tree(sql))


def as_engine(engine_or_connection: Any) -> Any:
    """An :class:`~jingzhun.engines.base.Engine` as is; a DuckDB connection wrapped in one (convenience for
    callers holding a connection; the connection stays theirs)."""
    from jingzhun.engines.base import Engine

    if isinstance(engine_or_connection, Engine):
        return engine_or_connection
    from jingzhun.engines.duckdb import DuckDBEngine

    return DuckDBEngine(connection=engine_or_connection)


def _side_key(side: Side) -> str:
    return json.dumps([side.id, sorted(side.columns.items()), side.household_id])


class LinkSession:
    """Link feeds to one registry relation on one engine. The registry's key table (for exact linkage),
    its prepared frame with pinyin (for probabilistic linkage and review) and the pinyin table are built at
    most once per session and shared by every feed; :meth:`close` drops them.

    ``registry``: a relation on the engine with (by default) person_id, household_id, name, id_number, sex,
    birth_date, village_code and optionally phone (join ``member`` to ``household`` first).

    ``cache``: a :class:`~jingzhun.link.cache.LinkCache`; records linked before under the same registry
    version (``registry_version``, required with a cache), configuration and model are not linked again
    (see :mod:`jingzhun.link.cache`).

    Models: feeds whose probabilistic configuration is the same (:func:`~jingzhun.link.cache.model_id`)
    share one model, trained by the first of them that has records to score and kept for the session (and
    stored in the cache, for later runs). ``retrain``: ignore stored models and train again (once per
    model in this session; the new one replaces the stored one).
    """

    def __init__(self, engine: Any, registry: str, *, cache: LinkCache | None = None,
                 registry_version: str | None = None, retrain: bool = False):
        self.engine = as_engine(engine)
        self.registry = registry
        self.cache = cache
        self.registry_version = registry_version
        if cache is not None and registry_version is None:
            from jingzhun.errors import JingzhunError

            raise JingzhunError("a link cache needs the registry's version (registry_version=...): "
                                "stored links are valid only for the registry they were made with")
        self.prefix = f"__jz_link_{uuid.uuid4().hex[:8]}_"
        self._scope = _Scope(self.engine, self.prefix)
        self._keys: dict[tuple[str, str | None], str] = {}
        self._frames: dict[tuple[str, bool], str] = {}
        self._counts: dict[str, int] = {}
        self._populated: dict[str, set[str]] = {}
        self._pinyin: str | None = None
        self._models: dict[str, Model] = {}
        self.retrain = retrain

    # -- shared registry side ----------------------------------------------------------------------------

    def pinyin(self) -> str:
        """The (ch, py) relation of every character's reading."""
        if self._pinyin is None:
            from jingzhun.link.normalise import pinyin_table

            self._pinyin = self._scope.name("py")
            self.engine.register_table(self._pinyin, pinyin_table())
        return self._pinyin

    def keys(self, side: Side, key: bytes | None = None) -> str:
        """The registry's (uid, household_id, id_number) relation; ``id_number`` as HMAC digests when
        ``key`` is given (keyed-hash linkage)."""
        digest = hashlib.sha256(key).hexdigest() if key is not None else None
        ident = (_side_key(side), digest)
        if ident not in self._keys:
            plain = self._keys.get((_side_key(side), None))
            if plain is None:
                plain = self._scope.name(f"k{len(self._keys)}")
                frames.prepare_keys(self.engine, self.registry, side, plain)
                self._keys[(_side_key(side), None)] = plain
            if key is not None:
                from jingzhun.link.hashing import hmac_expr, key_pads

                pads = self._scope.name(f"pads{len(self._keys)}")
                self.engine.register_table(pads, key_pads(key))
                hashed = self._scope.materialize(
                    f"k{len(self._keys)}",
                    f"SELECT t.uid, t.household_id, {hmac_expr('t.id_number', 'x')} AS id_number "
                    f"FROM {plain} t CROSS JOIN {pads} x",
                )
                self.engine.drop(pads)
                self._keys[ident] = hashed
        return self._keys[ident]

    def registry_frame(self, side: Side, hashed: bool = False) -> str:
        """The registry's prepared frame with pinyin (every person)."""
        ident = (_side_key(side), hashed)
        if ident not in self._frames:
            target = self._scope.name(f"f{len(self._frames)}")
            frames.prepare_registry(self.engine, self.registry, side, target, self.pinyin(), hashed=hashed)
            self._frames[ident] = target
        return self._frames[ident]

    def populated(self, frame: str) -> set[str]:
        """The columns of a registry frame holding values (computed once per frame)."""
        if frame not in self._populated:
            from jingzhun.link.probabilistic import SPLINK_COLUMNS, populated

            self._populated[frame] = populated(self.engine, frame, set(SPLINK_COLUMNS) - {"uid"})
        return self._populated[frame]

    def count(self, relation: str) -> int:
        if relation not in self._counts:
            self._counts[relation] = int(scalar(self.engine, f"SELECT count(*) FROM {relation}") or 0)
        return self._counts[relation]

    # -- one feed ----------------------------------------------------------------------------------------

    def link(
        self,
        feed: str,
        config: LinkConfig | None = None,
        decisions: Any = None,
        *,
        hashed: bool | None = None,
        key: bytes | None = None,
        unmask_review: bool = False,
        model: Model | None = None,
        ordered: bool = True,
        version: str | bool | None = None,
        progress: Callable[[str], None] | None = None,
        into: str | None = None,
    ) -> LinkResult:
        """Link every record of relation ``feed`` (see :func:`link_feed` for the arguments).

        ``model``: score with these parameters instead of training on the records at hand (with a cache,
        the stored model is used, or trained once and stored). ``ordered``: sort the links by record_id
        (callers that sort anyway save a sort of every record). ``version``: with a cache, what identifies
        a record's content (a column, e.g. ``_import_id``; default: an md5 of its linkage fields).
        ``into``: keep the links in the engine as table ``into`` (columns of :data:`LINK_SCHEMA`, not
        sorted) instead of fetching them: at national scale they stay where a writer can stream them.
        """
        cfg = config or default_config()
        hashed = cfg.hashed if hashed is None else hashed
        if hashed and key is None:
            from jingzhun.errors import ConfigError

            raise ConfigError("hashed linkage needs the shared key (key=...) to hash the registry's ID numbers")
        say = progress or (lambda _msg: None)
        # the same names for every feed (dropped at the end of each): statements repeat from feed to feed
        # and their parsed trees are reused (jingzhun.link.sql.tree)
        scope = _Scope(self.engine, f"{self.prefix}x_")
        t0 = time.perf_counter()
        try:
            result = self._link(scope, feed, cfg, decisions, hashed, key if hashed else None, unmask_review,
                                model, ordered, version, say, into)
        finally:
            scope.close()
        result.summary["seconds"] = round(time.perf_counter() - t0, 3)
        return result

    def _link(self, scope: _Scope, feed: str, cfg: LinkConfig, decisions: Any, hashed: bool,
              key: bytes | None, unmask_review: bool, model: Model | None, ordered: bool,
              version: str | bool | None, say: Callable[[str], None], into: str | None) -> LinkResult:
        engine, cache = self.engine, self.cache
        timings: dict[str, float] = {}
        clock = [time.perf_counter()]

        def lap(name: str) -> None:
            now = time.perf_counter()
            timings[name] = round(now - clock[0], 3)
            clock[0] = now

        say("prepare")
        # errors name the caller's relation; the statements read it under a name that is the same for
        # every feed
        frames.check_relation(engine, feed, cfg.right)
        source = feed
        feed = scope.view("src", f"SELECT * FROM {source}")
        keys = self.keys(cfg.left, key)
        n_left = self.count(keys)
        skip = cfg.skip_valid_unmatched and not hashed
        shared = model is None and cfg.probabilistic
        if shared:
            model = self._models.get(model_id(cfg))
            if model is None and cache is not None and not self.retrain:
                model = cache.load_model(cfg)
                if model is not None and registry_changed_size(model, n_left, cfg):
                    model = None  # λ depends on the registry's size: train again (replaces the stored one)
        # outcomes stored under this key were made with the same registry, configuration and model (no
        # model yet: only records that needed none were stored)
        stored_key = (self._cache_key(cfg, model if cfg.probabilistic else None, key)
                      if cache is not None else None)
        # outcomes stored by earlier runs, for the records (id and version) present now
        for table in ("records", "multi", "profiles"):
            register_parts(engine, cache, cfg.name, stored_key, scope.name(f"c{table}"), table)
        if cache is None:
            # nothing stored: every record is new, and nothing is copied to find out
            cached = scope.view("crec", f"SELECT * FROM {scope.prefix}crecords")
            new_keys = scope.view("nk", frames.feed_keys_sql(engine, feed, cfg.right, hashed=hashed))
            n_new = -1
        else:
            versions = scope.view("fv", frames.feed_versions_sql(engine, source, cfg.right, version or True))
            cached = scope.materialize("crec", f"""
                SELECT c.* FROM {scope.prefix}crecords c
                WHERE EXISTS (SELECT 1 FROM {versions} f WHERE f.uid = c.record_id AND f.version = c.version)
            """)
            # only the other records' numbers are read and normalised
            new_keys = scope.materialize("nk", frames.feed_keys_sql(
                engine, feed, cfg.right, hashed=hashed, version=version or True, skip=cached))
            n_new = int(scalar(engine, f"SELECT count(*) FROM {new_keys}") or 0)
        lap("prepare_s")

        say("exact")
        exact, multi = scope.name("e"), scope.name("em")
        registry_keys = keys if cfg.exact else scope.view("k0", f"SELECT * FROM {keys} LIMIT 0")
        exact_pairs(engine, registry_keys, new_keys, exact, check_unmatched=skip)
        if int(scalar(engine, f"SELECT count(*) FROM {exact} WHERE n_candidates > 1") or 0):
            exact_candidates(engine, keys, new_keys, exact, multi)
        else:
            engine.materialize(multi, tree(_EMPTY_EXACT))
        skipped = "AND NOT coalesce(id_valid, false)" if skip else ""
        todo = scope.view("todo", f"SELECT record_id FROM {exact} "
                                  f"WHERE n_candidates > 1 OR (n_candidates = 0 {skipped})")
        feed_frame = scope.name("r")
        frames.prepare_feed(engine, feed, cfg.right, feed_frame, hashed=hashed, only=todo)
        lap("exact_s")

        say("probabilistic")
        rest = scope.materialize("rest", f"""
            SELECT r.* FROM {feed_frame} r WHERE NOT EXISTS (SELECT 1 FROM {multi} m WHERE m.record_id = r.uid)
        """)
        # stored pairs of the profiles present now (the stored records' and the new records')
        known = scope.materialize("known", f"""
            SELECT DISTINCT p.pkey, p.person_id, p.match_probability FROM {scope.prefix}cprofiles p
            WHERE EXISTS (SELECT 1 FROM {cached} c WHERE c.pkey = p.pkey AND c.rest)
               OR EXISTS (SELECT 1 FROM {rest} r WHERE r.pkey = p.pkey)
        """)
        cached_multi = scope.materialize("cmul", f"""
            SELECT m.* FROM {scope.prefix}cmulti m JOIN {cached} c ON c.record_id = m.record_id
            WHERE c.n_candidates > 1
        """)
        new_profiles = scope.materialize("prof", f"""
            SELECT DISTINCT pkey, id_text, name_norm, sex, birth_date, region_code, phone FROM {rest} r
            WHERE NOT EXISTS (SELECT 1 FROM {known} k WHERE k.pkey = r.pkey)
        """)
        n_profiles = int(scalar(engine, f"SELECT count(*) FROM {new_profiles}") or 0)
        scored = scope.name("pp")
        prob_summary: dict[str, Any] = {}
        if cfg.probabilistic and n_profiles and n_left:
            profiles_py = scope.name("profpy")
            frames.add_pinyin(engine, new_profiles, profiles_py, self.pinyin())
            registry = self.registry_frame(cfg.left, hashed)
            pairs_new = scope.name("ppn")
            trained = model is None
            model, prob_summary = predict_pairs(engine, registry, profiles_py, cfg, pairs_new, model=model,
                                                prefix=f"{scope.prefix}s_",
                                                registry_usable=self.populated(registry))
            prob_summary["trained"] = trained
            if shared and model is not None:
                self._models[model_id(cfg)] = model
            # every new profile is recorded, with no person when it has no candidate
            engine.materialize(scored, tree(f"""
                SELECT pkey, person_id, match_probability FROM {pairs_new}
                UNION ALL
                SELECT p.pkey, CAST(NULL AS VARCHAR), CAST(NULL AS DOUBLE) FROM {new_profiles} p
                WHERE NOT EXISTS (SELECT 1 FROM {pairs_new} x WHERE x.pkey = p.pkey)
            """))
            if cache is not None and model is not None and trained:
                cache.save_model(cfg, model)
        else:
            engine.materialize(scored, tree(
                "SELECT CAST(NULL AS VARCHAR) AS pkey, CAST(NULL AS VARCHAR) AS person_id, "
                "CAST(NULL AS DOUBLE) AS match_probability LIMIT 0"))
        prob_summary["profiles_scored"] = n_profiles if cfg.probabilistic and n_left else 0
        # the version is stored with the outcome (NULL without a cache: nothing to join)
        version_sql, version_join = (("k.version", f"JOIN {new_keys} k ON k.uid = e.record_id")
                                     if cache is not None else ("CAST(NULL AS VARCHAR)", ""))
        records_sql = f"""
            SELECT e.record_id, {version_sql} AS version, e.person_id, e.household_id, e.n_candidates,
                   e.id_valid, r.fingerprint, r.pkey,
                   r.uid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {multi} m WHERE m.record_id = e.record_id)
                       AS rest
            FROM {exact} e {version_join}
            LEFT JOIN {feed_frame} r ON r.uid = e.record_id
        """
        records_new = (scope.materialize("recn", records_sql) if cache is not None
                       else scope.view("recn", records_sql))
        if cache is not None:
            new_key = self._cache_key(cfg, model if cfg.probabilistic else None, key)
            if new_key != stored_key:
                # a model was trained now: the records stored without one (none of which needed it) move
                # to the new key together with this run's
                parts = {"records": f"SELECT * FROM {cached} UNION ALL SELECT * FROM {records_new}",
                         "multi": f"SELECT * FROM {cached_multi} UNION ALL SELECT * FROM {multi}",
                         "profiles": f"SELECT * FROM {scored}"}
            else:
                parts = {"records": f"SELECT * FROM {records_new}", "multi": f"SELECT * FROM {multi}",
                         "profiles": f"SELECT * FROM {scored}"}
            if n_new or new_key != stored_key:
                cache.append(cfg.name, new_key, {name: _opener(engine, sql) for name, sql in parts.items()})
        lap("probabilistic_s")

        say("combine")
        records = scope.view("rec", f"SELECT * FROM {cached} UNION ALL SELECT * FROM {records_new}")
        all_multi = scope.view("mul", f"SELECT * FROM {cached_multi} UNION ALL SELECT * FROM {multi}")
        pairs = scope.materialize("p", f"""
            SELECT r.record_id, x.person_id, x.match_probability
            FROM {records} r
            JOIN (SELECT * FROM {known} UNION ALL SELECT * FROM {scored}) x ON x.pkey = r.pkey
            WHERE r.rest AND x.person_id IS NOT NULL
        """)
        others = scope.view("oth", f"""
            SELECT record_id AS uid, fingerprint FROM {records} WHERE fingerprint IS NOT NULL
        """)
        decided = scope.name("d")
        engine.register_table(decided, as_decision_table(decisions, cfg.name))
        combined = scope.materialize("k", combine_sql(others, all_multi, pairs, decided, keys, cfg))
        links: pa.Table | None = None
        if into is None:
            order = " ORDER BY record_id" if ordered else ""
            links = engine.fetch_arrow(tree(links_sql(records, combined, skip) + order)).cast(LINK_SCHEMA)
            counts = band_method_counts(links)
        else:
            engine.materialize(into, tree(cast_to_schema(links_sql(records, combined, skip), LINK_SCHEMA)))
            counts = engine.fetch_arrow(tree(
                f"SELECT band, method, count(*) AS n FROM {into} GROUP BY band, method")).to_pylist()
        # the review queue shows both records side by side: prepare just those
        review_ids = scope.view("rid", f"SELECT record_id FROM {combined} WHERE band = 'review'")
        shown = scope.name("rv")
        frames.prepare_feed(engine, feed, cfg.right, shown, hashed=hashed, only=review_ids)
        left = self._frames.get((_side_key(cfg.left), hashed))
        if left is None:
            left = scope.name("l")
            where = (f"CAST({quote(cfg.left.id)} AS VARCHAR) IN "
                     f"(SELECT candidate_person_id FROM {combined} WHERE band = 'review')")
            frames.prepare_registry(engine, self.registry, cfg.left, left, None, hashed=hashed, where=where)
        review = engine.fetch_arrow(tree(review_pairs_sql(left, shown, combined, cfg.name, unmask_review)))
        lap("combine_s")

        n_cached = int(scalar(engine, f"SELECT count(*) FROM {cached}") or 0)
        n_records = sum(int(c["n"]) for c in counts)
        if n_new < 0:
            n_new = n_records
        summary = {
            "feed": cfg.name,
            "records": n_records,
            "registry": n_left,
            "hashed": hashed,
            **quality_from_counts(counts),
            "reused": n_cached,
            "linked_now": n_new,
            "model": {**prob_summary, **({"digest": model.digest()[:16], **model.info}
                                         if model is not None and cfg.probabilistic else {})},
            "timings": timings,
        }
        return LinkResult(links, review, summary, model if cfg.probabilistic else None)

    def _cache_key(self, cfg: LinkConfig, model: Model | None, key: bytes | None) -> str:
        if self.registry_version is None:
            from jingzhun.errors import JingzhunError

            raise JingzhunError("reusing links needs the registry's version (LinkSession(registry_version=...))")
        return cache_key(cfg, self.registry_version, model, key)

    def close(self) -> None:
        """Drop the session's relations (the engine stays open)."""
        self._scope.close()
        self._keys.clear()
        self._frames.clear()
        self._pinyin = None

    def __enter__(self) -> LinkSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def registry_changed_size(model: Model, n_registry: int, cfg: LinkConfig) -> bool:
    """Whether the registry is now ``training.retrain_registry_ratio`` times larger or smaller than the one
    ``model`` was trained on (its prior λ, the chance that a record and a registered person match, scales
    with 1/size; a pilot registry's model would overrate every pair of the county-wide one).

    >>> cfg = default_config()
    >>> m = Model(0.001, {}, {"registry": 1000})
    >>> registry_changed_size(m, 1500, cfg), registry_changed_size(m, 2500, cfg), registry_changed_size(m, 400, cfg)
    (False, True, True)
    """
    ratio = float(cfg.training.get("retrain_registry_ratio", 2.0))
    trained_on = model.info.get("registry")
    if not ratio or not trained_on or not n_registry:
        return False
    return max(n_registry / trained_on, trained_on / n_registry) > ratio


def link_feed_result(
    engine: Any,
    members_relation: str,
    feed_relation: str,
    config: LinkConfig | None = None,
    decisions: Any = None,
    *,
    hashed: bool | None = None,
    key: bytes | None = None,
    unmask_review: bool = False,
    model: Model | None = None,
    progress: Callable[[str], None] | None = None,
) -> LinkResult:
    """Link and return links, review queue and summary (see :func:`link_feed`)."""
    with LinkSession(engine, members_relation) as session:
        return session.link(feed_relation, config, decisions, hashed=hashed, key=key,
                            unmask_review=unmask_review, model=model, progress=progress)


def link_feed(
    engine: Any,
    members_relation: str,
    feed_relation: str,
    config: LinkConfig | None = None,
    decisions: Any = None,
    *,
    hashed: bool | None = None,
    key: bytes | None = None,
) -> pa.Table:
    """Link every record of ``feed_relation`` to the registered people of ``members_relation``.

    ``engine`` is an :class:`~jingzhun.engines.base.Engine` (or a DuckDB connection) on which both
    relations are registered. ``members_relation`` needs person_id, household_id, name, id_number, sex,
    birth_date, village_code (join ``member`` to ``household`` first) and optionally phone;
    ``feed_relation`` the feed's record_id, id_number, id_number_raw, name, sex, birth_date, region_code,
    phone (column names are configurable, see docs/LINKAGE.md). ``decisions`` is an ops store, an Arrow
    table (record_fingerprint, person_id, decision) or None. With ``hashed=True`` the feed's ID column
    holds HMAC digests and the registry is hashed here with ``key``.

    Returns one row per feed record ordered by record_id (:data:`LINK_SCHEMA`): ``person_id`` and
    ``household_id`` are set only in band ``accepted``; ``candidate_person_id`` names the best candidate of
    records in review or rejected.
    """
    return link_feed_result(
        engine, members_relation, feed_relation, config, decisions, hashed=hashed, key=key
    ).links


def review_queue(
    engine: Any,
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
        engine, members_relation, feed_relation, config, decisions, hashed=hashed, key=key,
        unmask_review=unmask
    ).review
