"""Probabilistic linkage with Splink 5 (Fellegi–Sunter) on whatever engine runs the linkage: the Splink
database API comes from the engine (:meth:`jingzhun.engines.base.Engine.splink_api`) and every level is a
Splink level creator that writes its own dialect, so nothing here knows which engine it is on.

Scale: work is bounded by the records to link, not by the registry.

- **Candidates.** Only registered people who share at least one blocking key with a record to link
  are handed to Splink (one semi-join per rule over the registry); Splink's pairs are exactly the same as
  with the whole registry, because every pair it scores comes from a blocking rule.
- **Training** (:func:`train`) reads bounded samples: u from random pairs between a uniform sample of the
  registry and a sample of the records (``training.u_registry_sample``, ``training.max_records``,
  ``training.u_max_pairs``); m by expectation maximisation over pairs of that record sample with their
  blocked candidates (``training.em_blocking``, ``training.em_max_pairs``); the prior λ by counting
  pairs that a deterministic rule (``training.prior_rules``) finds between the record sample and the
  whole registry (one hash join), divided by its assumed recall. Nothing is downloaded.
- A trained :class:`~jingzhun.link.model.Model` can be stored and given again (:func:`predict_pairs`
  ``model=``), so a monthly run scores new records without training.

The result is a table of candidate pairs with their match probability; bands are applied by the caller.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from jingzhun.link.config import FRAME_COLUMNS, LinkConfig
from jingzhun.link.frames import DERIVED, column_sql, derived
from jingzhun.link.model import Model
from jingzhun.link.sql import scalar, tree

# The columns Splink sees: the row id instead of the raw ID number.
SPLINK_COLUMNS = ("uid", *(c for c in FRAME_COLUMNS if c != "id_number"))

_ROLE_TO_FRAME = {"id_number": "id_text", "id_number_raw": "id_text", "name": "name_norm"}
PAIRS_COLUMNS = ("pkey", "person_id", "match_probability")


def _levels(spec: dict[str, Any]) -> tuple[str, list[tuple[str, Any]], tuple[str, ...]]:
    """Output name, non-null levels as (label, Splink level creator), strongest first, and the frame
    columns read (the first decides the null level)."""
    import splink.comparison_level_library as cll

    kind, column = spec["type"], spec["column"]
    col = _ROLE_TO_FRAME.get(column, column)

    def label(level: Any, text: str) -> tuple[str, Any]:
        return text, level.configure(label_for_charts=text)

    if kind == "name":
        t = list(spec.get("thresholds") or [0.92, 0.85])
        levels = [
            label(cll.ExactMatchLevel("name_norm"), "exact"),
            label(cll.ExactMatchLevel("name_py"), "same pinyin"),
            label(cll.JaroWinklerLevel("name_py", t[0]), f"pinyin JW >= {t[0]}"),
            label(cll.And(cll.LevenshteinLevel("name_norm", 1), cll.ExactMatchLevel("surname_py")),
                  "one character differs"),
            *(label(cll.JaroWinklerLevel("name_py", x), f"pinyin JW >= {x}") for x in t[1:]),
        ]
        return "name", levels, ("name_norm", "name_py", "surname_py")
    if kind == "birth_date":
        levels = [
            label(cll.ExactMatchLevel("birth_date"), "exact"),
            label(cll.DamerauLevenshteinLevel("birth_str", 1), "one digit or swap"),
            label(cll.AbsoluteDateDifferenceLevel("birth_date", input_is_string=False, metric="day",
                                                  threshold=366), "within a year"),
        ]
        return "birth_date", levels, ("birth_date", "birth_str")
    if kind == "region":
        levels = [
            label(cll.ExactMatchLevel("region_code"), "same village"),
            label(cll.ExactMatchLevel("township"), "same township"),
            label(cll.ExactMatchLevel("county"), "same county"),
        ]
        return "region", levels, ("region_code", "township", "county")
    if kind == "id_fuzzy":
        t = list(spec.get("thresholds") or [1])
        levels = [label(cll.ExactMatchLevel(col), "exact")]
        levels += [label(cll.DamerauLevenshteinLevel(col, x), f"<= {x} edits") for x in t]
        return "id_number", levels, (col,)
    if kind == "exact":
        return col, [label(cll.ExactMatchLevel(col), "exact")], (col,)
    if kind == "jaro_winkler":
        t = list(spec.get("thresholds") or [0.9, 0.8])
        levels = [label(cll.ExactMatchLevel(col), "exact")]
        levels += [label(cll.JaroWinklerLevel(col, x), f"JW >= {x}") for x in t]
        return col, levels, (col,)
    if kind == "levenshtein":
        t = list(spec.get("thresholds") or [1, 2])
        levels = [label(cll.ExactMatchLevel(col), "exact")]
        levels += [label(cll.LevenshteinLevel(col, x), f"<= {x} edits") for x in t]
        return col, levels, (col,)
    raise ValueError(f"unknown comparison type {kind!r}")


def comparison(spec: dict[str, Any], model: Model | None = None) -> tuple[Any, tuple[str, ...]]:
    """The Splink comparison for one configured comparison (m and u from ``model`` when given), and the
    frame columns it reads.

    >>> comp, cols = comparison({"column": "sex", "type": "exact"})
    >>> [lvl.label_for_charts for lvl in comp.get_comparison("duckdb").comparison_levels], cols
    (['null', 'exact', 'else'], ('sex',))
    """
    import splink.comparison_level_library as cll
    from splink import comparison_library as cl

    name, levels, needs = _levels(spec)
    levels = [*levels, ("else", cll.ElseLevel().configure(label_for_charts="else"))]
    creators = [creator for _label, creator in levels]
    if model is not None:
        params = model.levels_for(name, [text for text, _creator in levels])
        creators = [c.configure(m_probability=m, u_probability=u)
                    for c, (m, u) in zip(creators, params, strict=True)]
    null = cll.NullLevel(needs[0]).configure(label_for_charts="null")
    return cl.CustomComparison(comparison_levels=[null, *creators], output_column_name=name), needs


def blocking_sql(columns: list[str]) -> str:
    """A blocking rule joining on equal values (Splink's ``l``/``r`` aliases).

    >>> blocking_sql(["birth_date", "township"])
    'l.birth_date = r.birth_date AND l.township = r.township'
    """
    return " AND ".join(f"l.{c} = r.{c}" for c in columns)


def _block_on(columns: list[str]) -> Any:
    from splink import block_on

    return block_on(*columns)


def populated(engine: Any, frame: str, columns: set[str]) -> set[str]:
    """The columns (stored or derived, :func:`jingzhun.link.frames.column_sql`) of prepared frame
    ``frame`` holding at least one non-NULL value (one scan)."""
    if not columns:
        return set()
    cols = sorted(columns)
    row = engine.fetch_arrow(tree(
        "SELECT " + ", ".join(f"count({column_sql(c, 'l')}) AS {c}" for c in cols) + f" FROM {frame} l"
    )).to_pylist()[0]
    return {c for c in cols if row[c]}


def splink_view_sql(frame: str, uid: str = "uid", where: str | None = None) -> str:
    """SELECT of the columns Splink sees from a prepared frame (derived columns computed here)."""
    stored = ", ".join(f"l.{c}" for c in SPLINK_COLUMNS if c != "uid" and c not in DERIVED)
    return (f"SELECT l.{uid} AS uid, {stored}, {derived('l')} FROM {frame} l "
            f"{f'WHERE {where}' if where else ''}")


def candidates_sql(registry: str, records: str, rules: list[list[str]]) -> str:
    """Registered people (a Splink view, :func:`splink_view_sql`) sharing at least one blocking key with a
    record of ``records`` (a Splink view): one semi-join per rule.

    (Comparing plain columns of the view is about three times faster on DuckDB than comparing the
    derived expressions inside the subqueries.)
    """
    exists = " OR ".join(
        f"EXISTS (SELECT 1 FROM {records} r WHERE " + " AND ".join(f"r.{c} = l.{c}" for c in rule) + ")"
        for rule in rules
    )
    return f"SELECT l.* FROM {registry} l WHERE {exists}"


class _Scope:
    """Temporary relations of one probabilistic step, dropped at the end."""

    def __init__(self, engine: Any, prefix: str):
        self.engine, self.prefix = engine, prefix
        self.names: list[str] = []

    def name(self, suffix: str) -> str:
        name = f"{self.prefix}{suffix}"
        self.names.append(name)
        return name

    def materialize(self, suffix: str, sql: str) -> str:
        name = self.name(suffix)
        self.engine.materialize(name, tree(sql))
        return name

    def view(self, suffix: str, sql: str) -> str:
        name = self.name(suffix)
        self.engine.create_view(name, tree(sql))
        return name

    def close(self) -> None:
        for name in reversed(self.names):
            self.engine.drop(name)


@contextlib.contextmanager
def _quiet_splink() -> Iterator[None]:
    splink_logger = logging.getLogger("splink")
    previous = splink_logger.level
    splink_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        splink_logger.setLevel(previous)


def _linker(engine: Any, registry_view: str, records_view: str, settings: Any) -> tuple[Any, Any]:
    from splink import Linker

    api = engine.splink_api()
    sdf_l = api.register(registry_view, table_name=f"{registry_view}_in", dataset_display_name="registry")
    sdf_r = api.register(records_view, table_name=f"{records_view}_in", dataset_display_name="feed")
    # the settings are built here from validated configurations: Splink's own validation (it parses every
    # level's SQL again, about a second per linker) only logs, and the logs are silenced anyway
    return Linker([sdf_l, sdf_r], settings, log_level=None, validate_settings=False), api


def _settings(comparisons: list[Any], rules: list[list[str]], prior: float | None = None) -> Any:
    from splink import SettingsCreator

    extra: dict[str, Any] = {"probability_two_random_records_match": prior} if prior else {}
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="uid",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[_block_on(r) for r in rules] or [_block_on(["name_py"])],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        **extra,
    )


def usable_columns(engine: Any, registry: str, records: str) -> set[str]:
    """Columns holding values on both prepared frames (comparisons and rules on others are dropped)."""
    cols = set(SPLINK_COLUMNS) - {"uid"}
    return populated(engine, registry, cols) & populated(engine, records, cols)


def train(
    engine: Any, registry: str, records: str, config: LinkConfig, usable: set[str], prefix: str
) -> Model:
    """Train a model on bounded samples (see the module docstring). ``registry`` and ``records`` are Splink
    views (:func:`splink_view_sql`) of the whole registry and of the records to link."""
    from splink.internals.exceptions import EMTrainingException

    training = config.training
    specs = [s for s in config.comparisons if _levels(s)[2][0] in usable]
    scope = _Scope(engine, prefix)
    try:
        n_registry = int(scalar(engine, f"SELECT count(*) FROM {registry}") or 0)
        max_records = int(training.get("max_records", 50_000))
        sample = scope.materialize("ts", f"SELECT * FROM {records} ORDER BY uid LIMIT {max_records}")
        n_sample = int(scalar(engine, f"SELECT count(*) FROM {sample}") or 0)
        # u: random pairs between a uniform sample of the registry and the record sample
        wanted = int(training.get("u_registry_sample", 200_000))
        share = min(1_000_000, max(1, round(1_000_000 * wanted / max(n_registry, 1))))
        reg_sample = scope.materialize("us", f"SELECT * FROM {registry} WHERE {sample_sql('uid', share)}")
        with _quiet_splink():
            linker, api = _linker(engine, reg_sample, sample,
                                  _settings([comparison(s)[0] for s in specs], config.blocking, 0.5))
            try:
                # every pair of the (already bounded) samples is counted in one pass (one query, no SQL per
                # chunk); Splink's early stop after a chunk would pick the chunks by the engine's own hash(),
                # so the model would depend on the engine
                linker.training.estimate_u_using_random_sampling(
                    max_pairs=float(training.get("u_max_pairs", 1e6)), seed=int(training.get("seed", 42)),
                    min_count_per_level=None, num_chunks=int(training.get("u_chunks", 1)),
                )
                u_model = Model.from_splink(linker.misc.save_model_to_json(), {})
            finally:
                api.delete_tables_created_by_splink_from_db()
        # λ: pairs found by the deterministic rules between the sample and the whole registry
        prior = _prior(engine, registry, sample, training, usable, n_registry, n_sample)
        # m: EM over the sample's blocked candidates
        em_rules = [list(r) for r in training.get("em_blocking", []) if set(r) <= usable]
        em_skipped: list[dict[str, str]] = []
        m_model = u_model
        if em_rules:
            cand = scope.materialize("ec", candidates_sql(registry, sample, em_rules))
            settings = _settings([comparison(s, u_model)[0] for s in specs], config.blocking, prior)
            with _quiet_splink():
                linker, api = _linker(engine, cand, sample, settings)
                try:
                    for rule in em_rules:
                        try:
                            linker.training.estimate_parameters_using_expectation_maximisation(
                                _block_on(rule), max_pairs=training.get("em_max_pairs"),
                                estimate_without_term_frequencies=True,
                            )
                        except (EMTrainingException, ValueError) as exc:
                            # too few records to train on (a small feed, or a month where nearly
                            # everything linked exactly): keep the comparisons' default m probabilities
                            em_skipped.append({"rule": blocking_sql(rule), "reason": str(exc).split(".")[0]})
                    m_model = Model.from_splink(linker.misc.save_model_to_json(), {})
                finally:
                    api.delete_tables_created_by_splink_from_db()
        import splink

        return Model(prior=prior, comparisons=m_model.comparisons, info={
            "registry": n_registry, "records_sampled": n_sample, "registry_sampled_share": share / 1e6,
            "em_rules": [blocking_sql(r) for r in em_rules], "em_skipped": em_skipped,
            "splink": splink.__version__,
        })
    finally:
        scope.close()


def sample_sql(column: str, share: int) -> str:
    """A condition keeping about ``share`` per million rows, chosen by the md5 of ``column``: the same rows
    on every engine (``hash()`` differs between engines; md5's hex text does not). The first six hex
    digits are compared as text with the threshold's, which orders them as numbers.

    >>> sample_sql("uid", 500_000)
    "substr(md5(CAST(uid AS VARCHAR)), 1, 6) < '800000'"
    >>> sample_sql("uid", 1_000_000)
    'TRUE'
    """
    if share >= 1_000_000:
        return "TRUE"
    return f"substr(md5(CAST({column} AS VARCHAR)), 1, 6) < '{share * 16**6 // 1_000_000:06x}'"


def _prior(engine: Any, registry: str, sample: str, training: dict[str, Any], usable: set[str],
           n_registry: int, n_sample: int) -> float:
    rules = [list(r) for r in training.get("prior_rules", []) if set(r) <= usable]
    found = 0
    if rules and n_registry and n_sample:
        pairs = " UNION ".join(
            f"SELECT r.uid AS a, l.uid AS b FROM {sample} r JOIN {registry} l ON "
            + " AND ".join(f"l.{c} = r.{c}" for c in rule)
            for rule in rules
        )
        found = int(scalar(engine, f"SELECT count(*) FROM ({pairs})") or 0)
    recall = float(training.get("prior_recall", 0.8))
    prior = found / recall / max(n_registry * n_sample, 1) if found else 0.0
    if not 1e-15 < prior < 1:
        # no deterministic pair (tiny inputs): assume each record belongs to about one registered person
        prior = 1.0 / max(n_registry, 2)
    return prior


def predict_pairs(
    engine: Any, registry: str, records: str, config: LinkConfig, target: str, *,
    model: Model | None = None, prefix: str | None = None, registry_usable: set[str] | None = None,
) -> tuple[Model | None, dict[str, Any]]:
    """Score blocked pairs of ``records`` (a prepared profile frame with pinyin; its ``pkey`` is the id)
    against ``registry`` (a prepared registry frame with pinyin) into ``target`` (:data:`PAIRS_COLUMNS`).

    ``model``: use these parameters; None trains one (:func:`train`). ``registry_usable``: the registry's
    populated columns when already known (:func:`populated`). Returns the model used (None when
    no comparison is usable) and a summary. Comparisons whose columns are empty on either side (a feed
    without phone numbers, digests in hashed mode) are dropped, and so are blocking rules on such columns.
    """
    scope = _Scope(engine, prefix or f"{target}__")
    try:
        reg_view = scope.view("rv", splink_view_sql(registry))
        rec_view = scope.view("fv", splink_view_sql(records, uid="pkey"))
        usable = usable_columns(engine, registry, records) if registry_usable is None else (
            registry_usable & populated(engine, records, set(SPLINK_COLUMNS) - {"uid"}))
        specs = [s for s in config.comparisons if _levels(s)[2][0] in usable]
        if not specs:
            engine.materialize(target, tree(
                "SELECT CAST(NULL AS VARCHAR) AS pkey, CAST(NULL AS VARCHAR) AS person_id, "
                "CAST(NULL AS DOUBLE) AS match_probability LIMIT 0"))
            return None, {"comparisons": [], "pairs": 0}
        rules = [list(r) for r in config.blocking if set(r) <= usable] or [["name_py"]]
        if model is None:
            model = train(engine, reg_view, rec_view, config, usable, f"{scope.prefix}t_")
        cand = scope.materialize("cand", candidates_sql(reg_view, rec_view, rules))
        settings = _settings([comparison(s, model)[0] for s in specs], rules, model.prior)
        with _quiet_splink():
            linker, api = _linker(engine, cand, rec_view, settings)
            try:
                predictions = linker.inference.predict(
                    threshold_match_probability=config.min_probability, warning_mode="never"
                )
                engine.materialize(target, tree(f"""
                    SELECT CASE WHEN source_dataset_l = 'feed' THEN uid_l ELSE uid_r END AS pkey,
                           CASE WHEN source_dataset_l = 'feed' THEN uid_r ELSE uid_l END AS person_id,
                           match_probability
                    FROM {predictions.physical_name}
                """))
            finally:
                api.delete_tables_created_by_splink_from_db()
        summary = {
            "comparisons": [_levels(s)[0] for s in specs],
            # what could not apply, so that callers can say so (a list without townships, phones ...)
            "dropped_comparisons": [_levels(s)[0] for s in config.comparisons if s not in specs],
            "dropped_blocking": [blocking_sql(list(r)) for r in config.blocking if not set(r) <= usable],
            "blocking": [blocking_sql(r) for r in rules],
            "candidates": int(scalar(engine, f"SELECT count(*) FROM {cand}") or 0),
            "pairs": int(scalar(engine, f"SELECT count(*) FROM {target}") or 0),
            "prior": model.prior,
        }
        return model, summary
    finally:
        scope.close()
