"""Probabilistic linkage with Splink 5 on DuckDB (Fellegi–Sunter): comparisons and blocking rules from the
configuration, u estimated by random sampling, m by expectation maximisation, the prior from deterministic
rules; nothing is downloaded.

The result is a table of candidate pairs with their match probability; bands are applied by the caller.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from jingzhun.link.config import FRAME_COLUMNS, LinkConfig

# The prepared frame's columns as Splink sees them: the row id instead of the raw ID number.
SPLINK_COLUMNS = ("uid", *(c for c in FRAME_COLUMNS if c != "id_number"))

_ROLE_TO_FRAME = {"id_number": "id_text", "id_number_raw": "id_text", "name": "name_norm"}


def _null(*cols: str) -> dict[str, Any]:
    cond = " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in cols)
    return {"sql_condition": cond, "label_for_charts": "null", "is_null_level": True}


def _level(sql: str, label: str) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label}


_ELSE = {"sql_condition": "ELSE", "label_for_charts": "else"}


def comparison_dict(spec: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The Splink comparison (as a settings dictionary) for one configured comparison, and the frame
    columns it reads.

    >>> comp, cols = comparison_dict({"column": "sex", "type": "exact"})
    >>> [lvl["label_for_charts"] for lvl in comp["comparison_levels"]], cols
    (['null', 'exact', 'else'], ('sex',))
    """
    kind, column = spec["type"], spec["column"]
    col = _ROLE_TO_FRAME.get(column, column)
    if kind == "name":
        t = list(spec.get("thresholds") or [0.92, 0.85])
        levels = [
            _null("name_norm"),
            _level("name_norm_l = name_norm_r", "exact"),
            _level("name_py_l = name_py_r", "same pinyin"),
            _level(f"jaro_winkler_similarity(name_py_l, name_py_r) >= {t[0]}", f"pinyin JW >= {t[0]}"),
            _level(
                "levenshtein(name_norm_l, name_norm_r) <= 1 AND surname_py_l = surname_py_r",
                "one character differs",
            ),
        ]
        levels += [
            _level(f"jaro_winkler_similarity(name_py_l, name_py_r) >= {x}", f"pinyin JW >= {x}")
            for x in t[1:]
        ]
        return {"output_column_name": "name", "comparison_levels": [*levels, _ELSE]}, (
            "name_norm",
            "name_py",
            "surname_py",
        )
    if kind == "birth_date":
        levels = [
            _null("birth_date"),
            _level("birth_date_l = birth_date_r", "exact"),
            _level("damerau_levenshtein(birth_str_l, birth_str_r) <= 1", "one digit or swap"),
            _level("abs(date_diff('day', birth_date_l, birth_date_r)) <= 366", "within a year"),
        ]
        return {"output_column_name": "birth_date", "comparison_levels": [*levels, _ELSE]}, (
            "birth_date",
            "birth_str",
        )
    if kind == "region":
        levels = [
            _null("region_code"),
            _level("region_code_l = region_code_r", "same village"),
            _level("township_l = township_r", "same township"),
            _level("county_l = county_r", "same county"),
        ]
        return {"output_column_name": "region", "comparison_levels": [*levels, _ELSE]}, (
            "region_code",
            "township",
            "county",
        )
    if kind == "id_fuzzy":
        t = list(spec.get("thresholds") or [1])
        levels = [_null(col), _level(f"{col}_l = {col}_r", "exact")]
        levels += [_level(f"damerau_levenshtein({col}_l, {col}_r) <= {x}", f"<= {x} edits") for x in t]
        return {"output_column_name": "id_number", "comparison_levels": [*levels, _ELSE]}, (col,)
    if kind == "exact":
        return {
            "output_column_name": col,
            "comparison_levels": [_null(col), _level(f"{col}_l = {col}_r", "exact"), _ELSE],
        }, (col,)
    if kind == "jaro_winkler":
        t = list(spec.get("thresholds") or [0.9, 0.8])
        levels = [_null(col), _level(f"{col}_l = {col}_r", "exact")]
        levels += [_level(f"jaro_winkler_similarity({col}_l, {col}_r) >= {x}", f"JW >= {x}") for x in t]
        return {"output_column_name": col, "comparison_levels": [*levels, _ELSE]}, (col,)
    if kind == "levenshtein":
        t = list(spec.get("thresholds") or [1, 2])
        levels = [_null(col), _level(f"{col}_l = {col}_r", "exact")]
        levels += [_level(f"levenshtein({col}_l, {col}_r) <= {x}", f"<= {x} edits") for x in t]
        return {"output_column_name": col, "comparison_levels": [*levels, _ELSE]}, (col,)
    raise ValueError(f"unknown comparison type {kind!r}")


def blocking_sql(columns: list[str]) -> str:
    """A Splink blocking rule joining on equal values.

    >>> blocking_sql(["birth_date", "county"])
    'l.birth_date = r.birth_date AND l.county = r.county'
    """
    return " AND ".join(f"l.{c} = r.{c}" for c in columns)


def _populated(con: Any, table: str, columns: set[str]) -> set[str]:
    if not columns:
        return set()
    exprs = ", ".join(f"count({c}) AS {c}" for c in sorted(columns))
    row = con.execute(f"SELECT {exprs} FROM {table}").fetchall()[0]
    return {c for c, n in zip(sorted(columns), row, strict=True) if n}


def predict_pairs(con: Any, left: str, right: str, config: LinkConfig, target: str) -> dict[str, Any]:
    """Train a model on the prepared frames ``left``/``right`` and score blocked pairs into temp table
    ``target(record_id, person_id, match_probability)``. Returns a summary of the trained model.

    Comparisons whose columns are empty on either side (a feed without phone numbers, digests in hashed
    mode) are dropped, and so are blocking rules on such columns.
    """
    import splink
    from splink import Linker, SettingsCreator
    from splink.internals.duckdb.database_api import DuckDBAPI
    from splink.internals.exceptions import EMTrainingException

    cols = set(SPLINK_COLUMNS) - {"uid"}
    usable = _populated(con, left, cols) & _populated(con, right, cols)
    comparisons, used = [], []
    for spec in config.comparisons:
        comp, needs = comparison_dict(spec)
        if needs[0] in usable:
            comparisons.append(comp)
            used.append(comp["output_column_name"])
    if not comparisons:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {target} (record_id VARCHAR, person_id VARCHAR, "
            "match_probability DOUBLE)"
        )
        return {"comparisons": [], "pairs": 0}
    rules = [blocking_sql(r) for r in config.blocking if set(r) <= usable]
    training = config.training
    for name, frame in (("l", left), ("r", right)):
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {target}__{name} AS SELECT {', '.join(SPLINK_COLUMNS)} FROM {frame}"
        )
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="uid",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules or ["l.name_py = r.name_py"],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )
    splink_logger = logging.getLogger("splink")
    previous = splink_logger.level
    db_api = DuckDBAPI(connection=con)
    try:
        sdf_l = db_api.register(f"{target}__l", dataset_display_name="registry")
        sdf_r = db_api.register(f"{target}__r", dataset_display_name="feed")
        linker = Linker([sdf_l, sdf_r], settings, log_level=None)
        splink_logger.setLevel(logging.ERROR)
        prior_rules = [blocking_sql(r) for r in training.get("prior_rules", []) if set(r) <= usable]
        if prior_rules:
            with contextlib.suppress(ValueError, ZeroDivisionError):
                linker.training.estimate_probability_two_random_records_match(
                    prior_rules, recall=float(training.get("prior_recall", 0.8))
                )
        prior = linker._settings_obj._probability_two_random_records_match
        if not prior or prior <= 1e-12 or prior >= 1:
            # No deterministic pair among the records left to link (tiny inputs): assume each feed
            # record belongs to about one registered person.
            n_left = con.execute(f"SELECT count(*) FROM {left}").fetchall()[0][0]
            linker._settings_obj._probability_two_random_records_match = 1.0 / max(int(n_left), 2)
        linker.training.estimate_u_using_random_sampling(
            max_pairs=float(training.get("u_max_pairs", 2e6)), seed=int(training.get("seed", 42))
        )
        em_skipped = []
        for em_rule in training.get("em_blocking", []):
            if set(em_rule) <= usable:
                try:
                    linker.training.estimate_parameters_using_expectation_maximisation(
                        blocking_sql(em_rule),
                        max_pairs=training.get("em_max_pairs"),
                        estimate_without_term_frequencies=True,
                    )
                except (EMTrainingException, ValueError) as exc:
                    # Too few unlinked records to train on (a small feed, or a month where nearly
                    # everything linked exactly): keep the comparisons' default m probabilities.
                    em_skipped.append({"rule": blocking_sql(em_rule), "reason": str(exc).split(".")[0]})
        predictions = linker.inference.predict(
            threshold_match_probability=config.min_probability, warning_mode="never"
        )
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {target} AS
            SELECT CASE WHEN source_dataset_l = 'feed' THEN uid_l ELSE uid_r END AS record_id,
                   CASE WHEN source_dataset_l = 'feed' THEN uid_r ELSE uid_l END AS person_id,
                   match_probability
            FROM {predictions.physical_name}
        """)
        n_pairs = con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
        summary = {
            "comparisons": used,
            "blocking": rules,
            "pairs": n_pairs,
            "prior": linker._settings_obj._probability_two_random_records_match,
            "em_skipped": em_skipped,
            "splink": splink.__version__,
        }
    finally:
        splink_logger.setLevel(previous)
        db_api.delete_tables_created_by_splink_from_db()
        for name in ("l", "r"):
            con.execute(f"DROP VIEW IF EXISTS {target}__{name}")
    return summary
