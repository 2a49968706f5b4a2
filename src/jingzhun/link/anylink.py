"""Linking any two lists, or de-duplicating one, on typed fields (:mod:`jingzhun.link.fields`), with every
scored pair explained: the match weight of each comparison's level (Splink's Bayes factors, with their
term-frequency adjustment) stored beside the pair's probability.

Steps (one DuckDB connection, Splink's DuckDB API):

1. check that every mapped column exists (errors name the file and list its columns) and that ids are
   unique; clean each field by type (:mod:`jingzhun.link.typed`) and count impossible values;
2. drop fields empty on either side and blocking rules on them (reported); count the pairs each rule
   makes (one GROUP BY per side) and drop rules that make more than ``guard.max_candidate_pairs``
   (reported with the count); report when all rules together leave fewer than
   ``guard.min_pairs_per_record`` candidates per record;
3. train: the prior from deterministic rules and their assumed recall, u from random pairs, m by
   expectation maximisation per training rule (a session that cannot run is reported);
4. score the blocked pairs; per pair the level and weight of every comparison;
5. link mode: each right record's best candidate, banded (a second candidate within
   ``thresholds.ambiguity_bits`` sends it to review); dedupe mode: every pair above the review
   threshold, and the **guard**: when more than ``guard.max_duplicate_share`` of the records would be
   flagged as duplicates, the run stops with :class:`DuplicateGuardError` (an implausible share means
   a configuration that cannot tell people apart, not a register full of duplicates);
6. clerk decisions (an ops store or a table) applied: a rejected pair is never proposed again, an
   accepted one is a link (``method = review_accepted``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from jingzhun.errors import ConfigError, FileLevelError, JingzhunError, Location
from jingzhun.link import sql as q
from jingzhun.link import typed
from jingzhun.link.fields import NAME_TYPES, FieldsConfig, FieldSpec, Rule
from jingzhun.sqltext import literal, quote


class DuplicateGuardError(JingzhunError):
    """A de-duplication would flag an implausible share of the records (see ``guard.max_duplicate_share``)."""


@dataclass
class AnyLinkResult:
    """Links (link mode: one row per right record; dedupe: one row per pair at or above the review
    threshold) with both records' values as typed and every comparison's level and weight; the review
    band alone; the model's parameters (one row per comparison level); warnings and counts."""

    links: pa.Table
    review: pa.Table
    model: pa.Table
    summary: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _check_columns(table: pa.Table, cfg: FieldsConfig, side: str, label: str) -> None:
    available = table.column_names
    shown = ", ".join(available)
    id_col = cfg.left_id if side == "left" else cfg.right_id
    if id_col not in available:
        raise FileLevelError(f"id column {id_col!r} ({side}.id) not found; the file's columns: {shown}",
                             Location(file=label, field=id_col))
    for spec in cfg.fields:
        cols = spec.left_columns if side == "left" else spec.right_columns
        missing = [c for c in cols if c not in available]
        if missing:
            raise FileLevelError(
                f"column(s) {missing} of field {spec.name!r} ({spec.type}) not found; the file's columns: {shown}",
                Location(file=label, field=missing[0]),
                hint=f"map the field to existing columns with fields.{spec.name}.{side}: [...]")


class _Run:
    def __init__(self, con: Any, cfg: FieldsConfig):
        self.con, self.cfg = con, cfg
        self.specs = {f.name: f for f in cfg.fields}
        self.warnings: list[str] = []

    def sql(self, text: str) -> list[Any]:
        return self.con.execute(text).fetchall()

    def one(self, text: str) -> Any:
        return self.con.execute(text).fetchall()[0][0]

    def prepare(self, source: str, target: str, side: str, label: str) -> dict[str, int]:
        """Materialize the prepared frame of one side; returns impossible-value counts per field."""
        cfg = self.cfg
        id_col = cfg.left_id if side == "left" else cfg.right_id
        dup = self.con.execute(
            f"SELECT CAST({quote(id_col)} AS VARCHAR) AS k, count(*) FROM {source} GROUP BY 1 HAVING count(*) > 1 "
            "ORDER BY 2 DESC, 1 LIMIT 3").fetchall()
        if dup:
            raise FileLevelError(
                f"id column {id_col!r} is not unique: {', '.join(f'{k!r} ({n}x)' for k, n in dup)}",
                Location(file=label, field=id_col), hint="each row needs its own id")
        nulls = self.one(f"SELECT count(*) FROM {source} WHERE {quote(id_col)} IS NULL")
        if nulls:
            raise FileLevelError(f"id column {id_col!r} is empty in {nulls} row(s)",
                                 Location(file=label, field=id_col))
        raws = ", ".join(
            f"{typed.raw_sql(s.left_columns if side == 'left' else s.right_columns)} AS {quote(s.name + '__raw')}"
            for s in cfg.fields)
        cleaned = ", ".join(typed.clean_sql(s, quote(s.name + "__raw")) for s in cfg.fields)
        fp = "sha256(concat_ws('|', " + ", ".join(
            f"coalesce({quote(s.name + '__raw')}, '')" for s in cfg.fields) + "))"
        base = f"{target}__b"
        self.sql(f"""CREATE OR REPLACE TEMP TABLE {base} AS
            SELECT *, {cleaned}, {fp} AS fingerprint
            FROM (SELECT CAST({quote(id_col)} AS VARCHAR) AS uid, {raws} FROM {source})""")
        for spec in cfg.fields:
            if spec.type == "cn_id":
                self.sql(f"CREATE OR REPLACE TEMP TABLE {base}_id AS {typed.cn_id_sql(spec, base)}")
                self.sql(f"DROP TABLE {base}")
                self.sql(f"ALTER TABLE {base}_id RENAME TO {base}")
        names = [s for s in cfg.fields if s.type in NAME_TYPES]
        joins = " ".join(
            f"LEFT JOIN ({typed.name_key_sql(s, base, 'jz_pinyin')}) k{i} ON k{i}.uid = b.uid"
            for i, s in enumerate(names))
        keys = "".join(f", k{i}.k AS {quote(s.name + '__key')}" for i, s in enumerate(names))
        self.sql(f"CREATE OR REPLACE TEMP TABLE {target} AS SELECT b.*{keys} FROM {base} b {joins}")
        self.sql(f"DROP TABLE {base}")
        checks = [(spec, typed.impossible_sql(spec)) for spec in cfg.fields]
        checks = [(spec, cond) for spec, cond in checks if cond]
        found = (self.sql("SELECT " + ", ".join(f"count(*) FILTER (WHERE {c})" for _s, c in checks)
                          + f" FROM {target}")[0] if checks else ())
        counts = {}
        for (spec, _cond), n in zip(checks, found, strict=True):
            if n:
                counts[spec.name] = int(n)
                self.warnings.append(
                    f"{label}: {n} impossible value(s) in field {spec.name!r} ({spec.type}, column(s) "
                    f"{', '.join(spec.left_columns if side == 'left' else spec.right_columns)}): "
                    "not read as any other value; compared as text where the type allows")
        return counts

    def populated(self, frame: str, label: str) -> set[str]:
        row = self.con.execute("SELECT " + ", ".join(
            f"count({quote(typed.null_column(s))})" for s in self.cfg.fields) + f" FROM {frame}").fetchall()[0]
        out = set()
        for spec, n in zip(self.cfg.fields, row, strict=True):
            if n:
                out.add(spec.name)
            else:
                self.warnings.append(f"{label}: field {spec.name!r} is empty in every row: not compared")
        return out


def _splink_view(frame: str, specs: list[FieldSpec]) -> str:
    cols = ["uid"]
    for s in specs:
        cols.append(s.name)
        cols += {"date": [s.name + "__s"], "region_code": [s.name + "__t", s.name + "__c"],
                 "cn_id": [s.name + "__txt"]}.get(s.type, [])
        if s.type in NAME_TYPES:
            cols.append(s.name + "__key")
    return f"SELECT {', '.join(quote(c) for c in cols)} FROM {frame}"


def _other_name(spec: FieldSpec, specs: list[FieldSpec]) -> str | None:
    partner = {"given_name": "surname", "surname": "given_name"}.get(spec.type)
    return next((s.name for s in specs if s.type == partner), None)


def _has_cjk(cfg: FieldsConfig, left: pa.Table, right: pa.Table | None) -> bool:
    """Whether any name field holds Chinese characters (pinyin is then needed)."""
    import pyarrow.compute as pc

    for spec in cfg.fields:
        if spec.type not in NAME_TYPES:
            continue
        for table, cols in ((left, spec.left_columns), (right, spec.right_columns)):
            if table is None:
                continue
            for col in cols:
                text = pc.cast(table.column(col), pa.string())
                if pc.any(pc.match_substring_regex(text, "[\u3400-\u9fff]")).as_py():
                    return True
    return False


def _usable_rules(rules: tuple[Rule, ...], usable: set[str]) -> list[Rule]:
    return [r for r in rules if set(r.fields) <= usable]


def link_tables(cfg: FieldsConfig, left: pa.Table, right: pa.Table | None = None, *, decisions: Any = None,
                left_label: str = "left", right_label: str = "right",
                threads: int | None = None, unmask: bool = False) -> AnyLinkResult:
    """Link ``right`` to ``left`` (``cfg.mode == 'link'``) or find duplicates inside ``left`` (dedupe).
    ``*_label``: how errors and warnings name the inputs (their file names). Values of fields with
    ``mask`` (Chinese ID numbers by default) are masked in the output unless ``unmask``."""
    import duckdb

    from jingzhun.link.normalise import pinyin_table
    from jingzhun.link.review import as_decision_table

    if cfg.dedupe:
        right, right_label = None, left_label
    elif right is None:
        raise JingzhunError("linking needs two tables (left and right); mode: dedupe finds duplicates in one")
    _check_columns(left, cfg, "left", left_label)
    if right is not None:
        _check_columns(right, cfg, "right", right_label)
    started, clock = time.perf_counter(), {}
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}").fetchall()
    try:
        run = _Run(con, cfg)
        cjk = _has_cjk(cfg, left, right)
        con.register("jz_pinyin_in", pinyin_table() if cjk else pa.table({"ch": pa.array([], pa.string()),
                                                                           "py": pa.array([], pa.string())}))
        con.execute("CREATE TEMP TABLE jz_pinyin AS SELECT * FROM jz_pinyin_in").fetchall()
        con.register("src_l", left)
        impossible = {left_label: run.prepare("src_l", "frame_l", "left", left_label)}
        usable = run.populated("frame_l", left_label)
        if right is not None:
            con.register("src_r", right)
            impossible[right_label] = run.prepare("src_r", "frame_r", "right", right_label)
            usable &= run.populated("frame_r", right_label)
        clock["prepare_s"] = round(time.perf_counter() - started, 3)
        specs = [s for s in cfg.fields if s.name in usable]
        if not specs:
            raise ConfigError("no field holds values on both sides: nothing to compare",
                              Location(file=cfg.source, field="fields"))
        counts = _blocking(run, specs, usable, right is not None)
        rules = [Rule(tuple(c["fields"]), c["swapped"]) for c in counts if c["used"]]
        if not rules:
            raise ConfigError(
                "no blocking rule can apply: " + "; ".join(f"{c['rule']}: {c['why']}" for c in counts),
                Location(file=cfg.source, field="blocking"), hint="add blocking rules on fields both files fill")
        result = _score(run, specs, rules, usable, right is not None, as_decision_table(decisions, cfg.name),
                        clock, cjk, unmask)
        result.summary.update({
            "name": cfg.name, "mode": cfg.mode,
            "records_left": int(run.one("SELECT count(*) FROM frame_l")),
            "records_right": int(run.one("SELECT count(*) FROM frame_r")) if right is not None else None,
            "fields": [s.name for s in specs], "blocking": counts, "impossible": impossible,
            "seconds": round(time.perf_counter() - started, 3), "timings": clock,
        })
        result.warnings = run.warnings
        if cfg.dedupe:
            _guard(cfg, result)
        return result
    finally:
        con.close()


def _blocking(run: _Run, specs: list[FieldSpec], usable: set[str], two: bool) -> list[dict[str, Any]]:
    cfg, out = run.cfg, []
    by_name = {s.name: s for s in specs}
    total = 0
    for rule in cfg.blocking:
        row: dict[str, Any] = {"rule": rule.label, "fields": list(rule.fields), "swapped": rule.swapped,
                               "pairs": None, "used": False, "why": ""}
        empty = [f for f in rule.fields if f not in usable]
        if empty:
            row["why"] = f"field(s) {empty} empty on a side"
            run.warnings.append(f"blocking rule '{rule.label}' cannot apply: field(s) {empty} hold no values")
        else:
            n = int(run.one(typed.count_pairs_sql(rule, by_name, "frame_l", "frame_r" if two else None)))
            row["pairs"] = n
            if n > cfg.max_pairs:
                row["why"] = f"{n:,} candidate pairs > guard.max_candidate_pairs {cfg.max_pairs:,}"
                run.warnings.append(f"blocking rule '{rule.label}' dropped: it makes {n:,} candidate pairs "
                                    f"(more than guard.max_candidate_pairs = {cfg.max_pairs:,})")
            else:
                row["used"] = True
                total += n
        out.append(row)
    n_left = int(run.one("SELECT count(*) FROM frame_l"))
    n_right = int(run.one("SELECT count(*) FROM frame_r")) if two else n_left
    smaller = min(n_left, n_right)
    if smaller and total < cfg.min_pairs_per_record * smaller:
        run.warnings.append(
            f"blocking leaves only {total:,} candidate pairs for {smaller:,} records "
            f"(fewer than guard.min_pairs_per_record = {cfg.min_pairs_per_record} per record): most true pairs "
            "cannot be found; add blocking rules on fields both files fill")
    return out


def _score(run: _Run, specs: list[FieldSpec], rules: list[Rule], usable: set[str], two: bool,
           decided: pa.Table, clock: dict[str, float], cjk: bool, unmask: bool) -> AnyLinkResult:
    import splink
    from splink import Linker, SettingsCreator
    from splink.internals.exceptions import EMTrainingException

    from jingzhun.link.probabilistic import _quiet_splink

    cfg, con = run.cfg, run.con
    t0 = time.perf_counter()
    by_name = {s.name: s for s in specs}
    comps = []
    for s in specs:
        comps.append(typed.comparison(s, _other_name(s, specs), cjk=cjk))
    settings = SettingsCreator(
        link_type="link_only" if two else "dedupe_only",
        unique_id_column_name="uid",
        comparisons=comps,
        blocking_rules_to_generate_predictions=[{"blocking_rule": typed.rule_sql(r, by_name), "sql_dialect": "duckdb"}
                                                for r in rules],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=True,
    )
    run.sql(f"CREATE OR REPLACE TEMP VIEW sv_l AS {_splink_view('frame_l', specs)}")
    api = splink.DuckDBAPI(connection=con)
    inputs = [api.register("sv_l", table_name="sv_l_in", dataset_display_name="left")]
    if two:
        run.sql(f"CREATE OR REPLACE TEMP VIEW sv_r AS {_splink_view('frame_r', specs)}")
        inputs.append(api.register("sv_r", table_name="sv_r_in", dataset_display_name="right"))
    with _quiet_splink():
        linker = Linker(inputs if two else inputs[0], settings, log_level=None)
        prior_rules = _usable_rules(cfg.prior_rules, usable)
        if prior_rules:
            try:
                linker.training.estimate_probability_two_random_records_match(
                    [typed.rule_sql(r, by_name) for r in prior_rules], recall=cfg.prior_recall)
            except Exception as exc:  # Splink raises plain exceptions for rules it cannot use
                run.warnings.append(f"prior not estimated from {[r.label for r in prior_rules]}: {exc}")
        else:
            run.warnings.append("no rule to estimate the prior (training.prior_rules): Splink's default used")
        settings_obj = linker._settings_obj
        if not 0 < settings_obj._probability_two_random_records_match < 1:
            # the deterministic rules found no pair: assume each record has about one match
            n = max(int(run.one("SELECT count(*) FROM frame_l")),
                    int(run.one("SELECT count(*) FROM frame_r")) if two else 2)
            settings_obj._probability_two_random_records_match = 1.0 / n
            run.warnings.append(f"the prior rules found no pair: assumed 1 match per record (prior 1/{n})")
        # Splink reads random pairs in chunks until every level was seen often enough; levels that strangers
        # almost never reach (same pinyin, swapped names) are counted well enough after 20 sightings
        linker.training.estimate_u_using_random_sampling(max_pairs=cfg.u_max_pairs, seed=cfg.seed,
                                                         min_count_per_level=20)
        em_rules = _usable_rules(cfg.em_rules, usable)
        if not em_rules:
            run.warnings.append("no training rule applies (training.em_blocking): m values are defaults")
        for rule in em_rules:
            before = linker._settings_obj.core_model_settings.copy()
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(typed.rule_sql(rule, by_name))
            except (EMTrainingException, ValueError) as exc:
                # a session that fails part-way leaves Splink's settings without the comparisons it had set
                # aside (those of its blocking rule): restore them
                linker._settings_obj.core_model_settings = before
                why = str(exc).splitlines()[0]
                if "below the minimum allowed" in why:
                    why = "a comparison level never occurs among the pairs it found (its m would be 0)"
                run.warnings.append(f"training session blocked on '{rule.label}' skipped ({why}); the "
                                    "other sessions' estimates are used")
        clock["train_s"] = round(time.perf_counter() - t0, 3)
        t1 = time.perf_counter()
        predictions = linker.inference.predict(threshold_match_probability=cfg.min_probability)
        model_json = linker.misc.save_model_to_json()
    prior = float(model_json.get("probability_two_random_records_match") or 1e-4)
    _pairs(run, predictions.physical_name, specs, level_weights(model_json), prior, two)
    api.delete_tables_created_by_splink_from_db()
    clock["predict_s"] = round(time.perf_counter() - t1, 3)
    con.register("decided", decided)
    links = _links(run, specs, two, unmask)
    if not two:
        links = with_groups(links)
    review = links.filter(pa.compute.equal(links.column("band"), "review"))
    summary: dict[str, Any] = {
        "pairs_scored": int(run.one("SELECT count(*) FROM pairs")),
        "prior": prior,
        "by_band": {b: int(n) for b, n in con.execute(
            "SELECT band, count(*) FROM links_out GROUP BY 1 ORDER BY 1").fetchall()},
    }
    return AnyLinkResult(links, review, model_table(model_json, specs), summary)


def level_weights(model_json: dict[str, Any]) -> dict[str, list[tuple[str, float]]]:
    """Per comparison, its non-null levels as (label, match weight log₂(m/u)), from a Splink model."""
    import math

    out: dict[str, list[tuple[str, float]]] = {}
    for comp in model_json.get("comparisons", []):
        rows = []
        for level in comp.get("comparison_levels", []):
            m, u = level.get("m_probability"), level.get("u_probability")
            if not level.get("is_null_level") and m and u:
                rows.append((str(level.get("label_for_charts")), math.log2(m / u)))
        out[comp["output_column_name"]] = rows
    return out


def _pairs(run: _Run, predictions: str, specs: list[FieldSpec], weights: dict[str, list[tuple[str, float]]],
           prior: float, two: bool) -> None:
    """Table ``pairs``: left_uid, right_uid, probability, match_weight, and per field its level and weight.

    Splink gives each comparison's weight (``mw_<field>``: log₂ m/u of the level the pair reached) and
    its term-frequency adjustment (``mw_tf_adj_<field>``); the field's weight is their sum, and the level
    is the one whose log₂ m/u that weight is (0 is the null level: either side empty)."""
    cols = {d[0] for d in run.con.execute(f"SELECT * FROM {predictions} LIMIT 0").description}
    per = []
    for s in specs:
        f = s.name
        mw = quote(f"mw_{f}")
        tf = f"mw_tf_adj_{f}"
        total = f"{mw} + {f'coalesce({quote(tf)}, 0)' if tf in cols else '0'}"
        cases = " ".join(f"WHEN abs({mw} - ({w!r})) < 1e-9 THEN {literal(label)}" for label, w in weights.get(f, []))
        per.append(f"CASE WHEN {mw} = 0 THEN 'null' {cases} END AS {quote(f + '__level')}, "
                   f"{total} AS {quote(f + '__weight')}")
    if two:
        ids = ("CASE WHEN source_dataset_l = 'left' THEN uid_l ELSE uid_r END AS left_uid, "
               "CASE WHEN source_dataset_l = 'left' THEN uid_r ELSE uid_l END AS right_uid")
    else:
        ids = "uid_l AS left_uid, uid_r AS right_uid"
    prior_weight = f"log2({prior!r} / (1 - {prior!r}))"
    run.sql(f"""CREATE OR REPLACE TEMP TABLE pairs AS
        SELECT {ids}, match_probability AS probability, match_weight, {prior_weight} AS prior__weight,
               {', '.join(per)}
        FROM {predictions}""")


def _links(run: _Run, specs: list[FieldSpec], two: bool, unmask: bool) -> pa.Table:
    """The output rows (table ``links_out``) with bands, clerk decisions applied, and both records' values
    as typed beside every field's level and weight."""
    cfg = run.cfg
    # a rejected pair is never proposed; an accepted pair is a link whatever its score
    run.sql("""CREATE OR REPLACE TEMP TABLE scored AS
        SELECT p.*, r.fingerprint, d.decision
        FROM pairs p JOIN frame_r_or_l r ON r.uid = p.right_uid
        LEFT JOIN decided d ON d.record_fingerprint = r.fingerprint AND d.person_id = p.left_uid
        WHERE d.decision IS DISTINCT FROM 'reject'""".replace("frame_r_or_l", "frame_r" if two else "frame_l"))
    band = (f"CASE WHEN decision = 'accept' THEN 'accepted' "
            f"WHEN probability >= {cfg.accept} AND NOT ambiguous THEN 'accepted' "
            f"WHEN probability >= {cfg.review} OR ambiguous THEN 'review' ELSE 'rejected' END")
    method = "CASE WHEN decision = 'accept' THEN 'review_accepted' ELSE 'probabilistic' END"
    if two:
        run.sql(f"""CREATE OR REPLACE TEMP TABLE ranked AS
            SELECT *, coalesce(second_weight IS NOT NULL AND second_probability >= {cfg.review}
                                AND match_weight - second_weight < {cfg.ambiguity_bits}, false) AS ambiguous
            FROM (SELECT *, row_number() OVER w AS rank,
                         lead(match_weight) OVER w AS second_weight,
                         lead(probability) OVER w AS second_probability
                  FROM scored
                  WINDOW w AS (PARTITION BY right_uid
                               ORDER BY (decision = 'accept') DESC NULLS LAST, match_weight DESC, left_uid))
            WHERE rank = 1""")
        # every right record: unlinked when no candidate at all
        run.sql(f"""CREATE OR REPLACE TEMP TABLE links_out AS
            SELECT r.uid AS right_uid, k.left_uid,
                   CASE WHEN k.left_uid IS NULL THEN 'unlinked' ELSE {band} END AS band,
                   CASE WHEN k.left_uid IS NOT NULL THEN {method} END AS method,
                   k.* EXCLUDE (right_uid, left_uid, rank, second_probability, decision, fingerprint, ambiguous),
                   r.fingerprint, coalesce(k.ambiguous, false) AS ambiguous
            FROM frame_r r LEFT JOIN ranked k ON k.right_uid = r.uid""")
    else:
        run.sql(f"""CREATE OR REPLACE TEMP TABLE links_out AS
            SELECT right_uid, left_uid, {band} AS band, {method} AS method,
                   * EXCLUDE (right_uid, left_uid, decision, fingerprint, ambiguous), fingerprint, ambiguous
            FROM (SELECT *, false AS ambiguous, CAST(NULL AS DOUBLE) AS second_weight FROM scored)
            WHERE probability >= {cfg.review} OR decision = 'accept'""")
    right = "frame_r" if two else "frame_l"
    side_cols = []
    for s in specs:
        f = s.name
        shown = (lambda e: e) if unmask or not s.mask else q.mask
        side_cols += [f"{shown('r.' + quote(f + '__raw'))} AS {quote('right ' + f)}",
                      f"{shown('l.' + quote(f + '__raw'))} AS {quote('left ' + f)}",
                      f"k.{quote(f + '__level')}", f"k.{quote(f + '__weight')}"]
    order = "k.right_uid" if two else "k.probability DESC, k.right_uid, k.left_uid"
    return run.con.sql(f"""
        SELECT {literal(cfg.name)} AS list, k.right_uid AS right_id, k.left_uid AS left_id, k.band, k.method,
               k.probability, k.match_weight, k.prior__weight AS prior_weight, k.second_weight,
               {', '.join(side_cols)}, k.fingerprint
        FROM links_out k LEFT JOIN {right} r ON r.uid = k.right_uid LEFT JOIN frame_l l ON l.uid = k.left_uid
        ORDER BY {order}""").to_arrow_table()


def with_groups(links: pa.Table) -> pa.Table:
    """Dedupe pairs with a ``group`` column: records tied by accepted or review pairs form one group (the
    same person recorded three times is one group of three), named after its smallest id.

    >>> t = pa.table({"right_id": ["b", "c", "e"], "left_id": ["a", "b", "d"],
    ...               "band": ["accepted", "review", "rejected"]})
    >>> with_groups(t).column("group").to_pylist()
    ['a', 'a', None]
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    rows = links.select(["right_id", "left_id", "band"]).to_pylist()
    for r in rows:
        if r["band"] in ("accepted", "review"):
            a, b = find(r["left_id"]), find(r["right_id"])
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups = [find(r["left_id"]) if r["band"] in ("accepted", "review") else None for r in rows]
    return links.append_column("group", pa.array(groups, pa.string()))


def model_table(model_json: dict[str, Any], specs: list[FieldSpec]) -> pa.Table:
    """The model's parameters: one row per comparison level (field, level, m, u, match weight), the prior
    first."""
    import math

    prior = float(model_json.get("probability_two_random_records_match") or 0.0)
    rows: list[dict[str, Any]] = [{"field": "(prior)", "type": "", "level": "two random records match",
                                   "m_probability": None, "u_probability": None, "probability": prior,
                                   "match_weight": math.log2(prior / (1 - prior)) if 0 < prior < 1 else None}]
    types = {s.name: s.type for s in specs}
    for comp in model_json.get("comparisons", []):
        name = comp.get("output_column_name")
        for level in comp.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            rows.append({"field": name, "type": types.get(name, ""), "level": level.get("label_for_charts"),
                         "m_probability": m, "u_probability": u, "probability": None,
                         "match_weight": math.log2(m / u) if m and u else None})
    return pa.Table.from_pylist(rows, schema=pa.schema([
        ("field", pa.string()), ("type", pa.string()), ("level", pa.string()), ("m_probability", pa.float64()),
        ("u_probability", pa.float64()), ("probability", pa.float64()), ("match_weight", pa.float64())]))


def _guard(cfg: FieldsConfig, result: AnyLinkResult) -> None:
    flagged = result.links.filter(pa.compute.is_in(result.links.column("band"),
                                                   pa.array(["accepted", "review"])))
    ids = set(flagged.column("left_id").to_pylist()) | set(flagged.column("right_id").to_pylist())
    n = int(result.summary.get("records_left") or 0)
    share = len(ids) / n if n else 0.0
    result.summary["duplicate_records"] = len(ids)
    result.summary["duplicate_share"] = round(share, 6)
    if share > cfg.max_duplicate_share:
        raise DuplicateGuardError(
            f"{len(ids):,} of {n:,} records ({share:.1%}) would be flagged as duplicates, more than "
            f"guard.max_duplicate_share = {cfg.max_duplicate_share:.1%}: the fields mapped cannot tell these "
            "people apart (add fields such as a birth date or ID number, or raise the accept threshold). "
            "Nothing was written. Raise guard.max_duplicate_share only for a list known to hold that many "
            "duplicates.")
