"""Linkage configuration: which columns to read on each side, comparisons, blocking rules, training and
the probability bands. Loaded from YAML (``config/linkage/<feed>.yaml``; format in docs/LINKAGE.md).

Both sides are mapped onto the same *roles* (``id_number``, ``name``, ``sex``, ``birth_date``,
``region_code``, ``phone``), so any two tables can be linked: the registry and a feed, or two spreadsheets.

>>> cfg = default_config("medical_claim")
>>> cfg.name, cfg.accept, cfg.review
('medical_claim', 0.95, 0.5)
>>> band_of(0.97, cfg), band_of(0.6, cfg), band_of(0.1, cfg)
('accepted', 'review', 'rejected')
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from jingzhun.errors import ConfigError, Location

ROLES = ("id_number", "id_number_raw", "name", "sex", "birth_date", "region_code", "phone")

# Columns of the prepared frames that comparisons and blocking rules may use.
FRAME_COLUMNS = (
    "id_number",
    "id_text",
    "name_norm",
    "name_py",
    "surname_py",
    "given_py",
    "sex",
    "birth_date",
    "birth_str",
    "birth_year",
    "region_code",
    "county",
    "township",
    "village",
    "phone",
)

COMPARISON_TYPES = ("name", "birth_date", "exact", "region", "id_fuzzy", "jaro_winkler", "levenshtein")

DEFAULTS: dict[str, Any] = {
    "name": "generic",
    "left": {
        "id": "person_id",
        "household_id": "household_id",
        "columns": {
            "id_number": "id_number",
            "name": "name",
            "sex": "sex",
            "birth_date": "birth_date",
            "region_code": "village_code",
            "phone": "phone",
        },
    },
    "right": {
        "id": "record_id",
        "columns": {
            "id_number": "id_number",
            "id_number_raw": "id_number_raw",
            "name": "name",
            "sex": "sex",
            "birth_date": "birth_date",
            "region_code": "region_code",
            "phone": "phone",
        },
    },
    "exact": {"enabled": True},
    "probabilistic": {
        "enabled": True,
        "comparisons": [
            {"column": "name", "type": "name", "thresholds": [0.92, 0.85]},
            {"column": "birth_date", "type": "birth_date"},
            {"column": "sex", "type": "exact"},
            {"column": "region_code", "type": "region"},
            {"column": "phone", "type": "exact"},
            {"column": "id_text", "type": "id_fuzzy", "thresholds": [1]},
        ],
        "blocking": [
            ["name_py", "birth_date"],
            ["name_py", "township"],
            ["birth_date", "township"],
            ["name_py", "birth_year"],
        ],
        "training": {
            "max_records": 50_000,
            "u_registry_sample": 200_000,
            "u_max_pairs": 1_000_000,
            "u_chunks": 1,
            "seed": 42,
            "em_blocking": [["birth_date", "township"], ["name_py", "birth_date"], ["name_py", "township"]],
            "em_max_pairs": 500_000,
            "prior_rules": [["name_norm", "birth_date"]],
            "prior_recall": 0.8,
            "retrain_registry_ratio": 2.0,
        },
        "min_probability": 0.05,
        "skip_valid_unmatched": True,
    },
    "thresholds": {"accept": 0.95, "review": 0.5, "ambiguity_bits": 4},
}


@dataclass(frozen=True)
class Side:
    """How one table maps onto the linkage roles."""

    id: str
    columns: dict[str, str]
    household_id: str | None = None


@dataclass(frozen=True)
class LinkConfig:
    """A validated linkage configuration."""

    name: str
    left: Side
    right: Side
    exact: bool
    probabilistic: bool
    comparisons: list[dict[str, Any]]
    blocking: list[list[str]]
    training: dict[str, Any]
    min_probability: float
    skip_valid_unmatched: bool
    accept: float
    review: float
    ambiguity_bits: float
    hashed: bool = False
    source: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "columns":
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _fail(message: str, source: str | None, field_name: str) -> ConfigError:
    return ConfigError(
        message,
        Location(file=source, field=field_name),
        hint="see docs/LINKAGE.md for the configuration format",
    )


def _side(data: Any, source: str | None, which: str) -> Side:
    if not isinstance(data, dict) or "id" not in data:
        raise _fail(f"'{which}' needs an 'id' column name", source, which)
    columns = data.get("columns") or {}
    if not isinstance(columns, dict):
        raise _fail(f"'{which}.columns' must map roles to column names", source, f"{which}.columns")
    unknown = sorted(set(columns) - set(ROLES))
    if unknown:
        raise _fail(
            f"unknown role(s) {unknown} in '{which}.columns'; roles: {', '.join(ROLES)} (for other columns "
            "— surname, address, postcode, any identifier — use a 'fields' configuration, docs/LINKAGE.md)",
            source,
            f"{which}.columns",
        )
    if "name" not in columns:
        raise _fail(f"'{which}.columns' must name the 'name' column", source, f"{which}.columns")
    return Side(str(data["id"]), {k: str(v) for k, v in columns.items() if v}, data.get("household_id"))


def from_dict(data: dict[str, Any], source: str | None = None) -> LinkConfig:
    """Validate a configuration dictionary (merged over :data:`DEFAULTS`)."""
    if not isinstance(data, dict):
        raise _fail("a linkage configuration must be a mapping", source, "")
    merged = _merge(DEFAULTS, data)
    prob = merged.get("probabilistic") or {}
    for i, comp in enumerate(prob.get("comparisons", [])):
        where = f"probabilistic.comparisons[{i}]"
        if not isinstance(comp, dict) or comp.get("type") not in COMPARISON_TYPES:
            raise _fail(f"{where}: 'type' must be one of {', '.join(COMPARISON_TYPES)}", source, where)
        if comp.get("column") not in (*ROLES, *FRAME_COLUMNS):
            raise _fail(f"{where}: unknown column {comp.get('column')!r}; columns: "
                        f"{', '.join(dict.fromkeys((*ROLES, *FRAME_COLUMNS)))}", source, where)
    blocking = prob.get("blocking", [])
    for i, rule in enumerate(blocking):
        cols = [rule] if isinstance(rule, str) else rule
        bad = [c for c in cols if c not in FRAME_COLUMNS]
        if bad or not cols:
            raise _fail(
                f"probabilistic.blocking[{i}]: unknown column(s) {bad}; use: {', '.join(FRAME_COLUMNS)}",
                source,
                f"probabilistic.blocking[{i}]",
            )
    thresholds = merged.get("thresholds") or {}
    try:
        accept, review = float(thresholds["accept"]), float(thresholds["review"])
        bits = float(thresholds.get("ambiguity_bits", 0.0))
    except (KeyError, TypeError, ValueError):
        raise _fail("thresholds.accept and thresholds.review must be numbers", source, "thresholds") from None
    if not 0.0 <= review <= accept <= 1.0:
        raise _fail(
            f"thresholds must satisfy 0 <= review ({review}) <= accept ({accept}) <= 1", source, "thresholds"
        )
    return LinkConfig(
        name=str(merged.get("name") or "generic"),
        left=_side(merged.get("left"), source, "left"),
        right=_side(merged.get("right"), source, "right"),
        exact=bool((merged.get("exact") or {}).get("enabled", True)),
        probabilistic=bool(prob.get("enabled", True)),
        comparisons=list(prob.get("comparisons", [])),
        blocking=[[r] if isinstance(r, str) else list(r) for r in blocking],
        training=dict(prob.get("training") or {}),
        min_probability=float(prob.get("min_probability", 0.05)),
        skip_valid_unmatched=bool(prob.get("skip_valid_unmatched", True)),
        accept=accept,
        review=review,
        ambiguity_bits=bits,
        hashed=bool(merged.get("hashed", False)),
        source=source,
        raw=merged,
    )


def load_config(path: str | Path) -> LinkConfig:
    """Read a YAML linkage configuration; errors name the file and the field."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("configuration file not found", Location(file=str(path))) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            Location(file=str(path), line=mark.line + 1 if mark else None),
        ) from None
    return from_dict(data or {}, source=str(path))


def default_config(feed: str = "generic", **overrides: Any) -> LinkConfig:
    """The default configuration for a person-level feed linked to the registry."""
    return from_dict({"name": feed, **overrides})


def band_of(probability: float, config: LinkConfig) -> str:
    """The band a match probability falls in."""
    if probability >= config.accept:
        return "accepted"
    if probability >= config.review:
        return "review"
    return "rejected"
