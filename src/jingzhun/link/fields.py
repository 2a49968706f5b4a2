"""Typed comparison columns for linking any two lists (or de-duplicating one): which file columns make
each *field*, of which *type*, and the blocking and training rules derived from the fields mapped.

A configuration with a ``fields`` section (``config/linkage/febrl4.yaml``) links lists that have nothing
of the household register: names in parts, addresses, postcodes, a numeric identifier. Each field names
its type; the type decides how values are cleaned (:mod:`jingzhun.link.typed`), which comparison levels
score them and whether exact agreement is weighted by how common the value is (term frequencies).

>>> cfg = fields_from_dict({"left": {"id": "rec_id"}, "right": {"id": "rec_id"},
...     "fields": {"given_name": "given_name", "surname": "surname", "dob": {"type": "date"},
...                "postcode": "postcode"}})
>>> [f.name for f in cfg.fields], cfg.fields[2].left_columns
(['given_name', 'surname', 'dob', 'postcode'], ('dob',))
>>> [r.label for r in derive_blocking(cfg.fields)][:3]
['given_name + surname', 'surname ↔ given_name (swapped)', 'surname + dob']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml

from jingzhun.errors import ConfigError, Location

#: Field types, with what they hold (shown in errors and docs).
FIELD_TYPES: dict[str, str] = {
    "full_name": "a person's whole name (Chinese: compared in pinyin; Latin: word order ignored)",
    "given_name": "given name(s) (名 / forename)",
    "surname": "family name (姓 / surname)",
    "date": "a date such as the birth date (YYYY-MM-DD, YYYYMMDD, YYYY/M/D, YYYY年M月D日, DD/MM/YYYY)",
    "address": "address text (one or several columns joined)",
    "postcode": "postal code",
    "numeric_id": "an identifier made of digits (social-security, account, card number)",
    "categorical": "a value from a short list (state, ethnicity, relation)",
    "text": "any other text (street number, employer)",
    "region_code": "a Chinese statistical division code (12 digits; 6 or 9 compare as county / township)",
    "cn_id": "a Chinese resident ID number (18 characters, 15-digit numbers upgraded)",
    "sex": "sex (男/女, M/F, male/female, 1/2)",
}
NAME_TYPES = ("full_name", "given_name", "surname")
MODES = ("link", "dedupe")
#: Order in which fields are used to build default blocking rules (strongest discriminators first).
_BLOCKING_ORDER = ("surname", "given_name", "full_name", "date", "postcode", "address", "region_code", "text")
_DOC = "see docs/LINKAGE.md, 'Any two lists'"


@dataclass(frozen=True)
class FieldSpec:
    """One typed comparison column: its name (used in rules and outputs), type, the file columns that
    make it on each side (joined with spaces when several), and options."""

    name: str
    type: str
    left_columns: tuple[str, ...]
    right_columns: tuple[str, ...]
    tf: bool = True
    thresholds: tuple[float, ...] = ()
    date_format: str | None = None
    label: str | None = None
    mask: bool = False

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class Rule:
    """A blocking (or training) rule: pairs that agree on every field of ``fields``; ``swapped`` compares a
    given name with the other side's surname and the reverse."""

    fields: tuple[str, ...]
    swapped: bool = False

    @property
    def label(self) -> str:
        if self.swapped:
            return f"{self.fields[0]} ↔ {self.fields[1]} (swapped)"
        return " + ".join(self.fields)


@dataclass(frozen=True)
class FieldsConfig:
    """A validated any-columns configuration."""

    name: str
    mode: str
    left_id: str
    right_id: str
    fields: tuple[FieldSpec, ...]
    blocking: tuple[Rule, ...]
    blocking_given: bool
    em_rules: tuple[Rule, ...]
    prior_rules: tuple[Rule, ...]
    prior_recall: float
    u_max_pairs: float
    seed: int
    accept: float
    review: float
    ambiguity_bits: float
    min_probability: float
    max_pairs: int
    min_pairs_per_record: float
    max_duplicate_share: float
    source: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)

    @property
    def dedupe(self) -> bool:
        return self.mode == "dedupe"


def _fail(message: str, source: str | None, where: str) -> ConfigError:
    return ConfigError(message, Location(file=source, field=where), hint=_DOC)


def _columns(value: Any, default: tuple[str, ...], source: str | None, where: str) -> tuple[str, ...]:
    if value is None:
        return default
    cols = [value] if isinstance(value, str) else value
    if not isinstance(cols, list) or not cols or not all(isinstance(c, str | int) and str(c) for c in cols):
        raise _fail(f"{where} must be a column name or a list of column names", source, where)
    return tuple(str(c) for c in cols)


def _field(name: str, spec: Any, source: str | None) -> FieldSpec:
    where = f"fields.{name}"
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, dict):
        raise _fail(f"{where} must be a type name or a mapping with 'type'", source, where)
    kind = spec.get("type")
    if kind not in FIELD_TYPES:
        allowed = "; ".join(f"{k}: {v}" for k, v in FIELD_TYPES.items())
        raise _fail(f"{where}: unknown type {kind!r}; allowed types — {allowed}", source, where)
    unknown = sorted(set(spec) - {"type", "column", "columns", "left", "right", "tf", "thresholds", "format",
                                  "label", "mask"})
    if unknown:
        raise _fail(f"{where}: unknown key(s) {unknown}; allowed: type, column(s), left, right, tf, "
                    "thresholds, format, label, mask", source, where)
    both = _columns(spec.get("columns", spec.get("column")), (name,), source, f"{where}.columns")
    thresholds = spec.get("thresholds") or ()
    if not isinstance(thresholds, list | tuple) or not all(isinstance(t, int | float) for t in thresholds):
        raise _fail(f"{where}.thresholds must be a list of numbers", source, f"{where}.thresholds")
    return FieldSpec(
        name=name, type=str(kind),
        left_columns=_columns(spec.get("left"), both, source, f"{where}.left"),
        right_columns=_columns(spec.get("right"), both, source, f"{where}.right"),
        tf=bool(spec.get("tf", kind in ("full_name", "given_name", "surname", "postcode", "categorical",
                                         "text", "address"))),
        thresholds=tuple(float(t) for t in thresholds),
        date_format=spec.get("format"),
        label=spec.get("label"),
        mask=bool(spec.get("mask", kind == "cn_id")),
    )


def _rules(value: Any, names: set[str], source: str | None, where: str) -> tuple[Rule, ...]:
    if not isinstance(value, list):
        raise _fail(f"{where} must be a list of rules (each a field name or a list of field names)", source,
                    where)
    out = []
    for i, rule in enumerate(value):
        cols = [rule] if isinstance(rule, str) else rule
        if not isinstance(cols, list) or not cols:
            raise _fail(f"{where}[{i}] must be a field name or a list of field names", source, f"{where}[{i}]")
        bad = [c for c in cols if c not in names]
        if bad:
            raise _fail(f"{where}[{i}]: unknown field(s) {bad}; fields: {', '.join(sorted(names))}", source,
                        f"{where}[{i}]")
        out.append(Rule(tuple(str(c) for c in cols)))
    return tuple(out)


def _number(data: dict[str, Any], key: str, default: float, source: str | None, where: str) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(f"{where}.{key} must be a number, not {value!r}", source, f"{where}.{key}")
    return float(value)


def fields_from_dict(data: dict[str, Any], source: str | None = None) -> FieldsConfig:
    """Validate an any-columns configuration; every error names the file and the key, and lists what is
    allowed."""
    if not isinstance(data, dict):
        raise _fail("a linkage configuration must be a mapping", source, "")
    allowed_top = {"name", "mode", "left", "right", "fields", "blocking", "training", "thresholds", "guard",
                   "min_probability"}
    unknown = sorted(set(data) - allowed_top)
    if unknown:
        raise _fail(f"unknown key(s) {unknown}; allowed: {', '.join(sorted(allowed_top))}", source, unknown[0])
    mode = data.get("mode", "link")
    if mode not in MODES:
        raise _fail(f"mode must be one of {', '.join(MODES)}, not {mode!r}", source, "mode")
    sides = {}
    for which in ("left", "right") if mode == "link" else ("left",):
        side = data.get(which)
        if not isinstance(side, dict) or not side.get("id"):
            raise _fail(f"'{which}' needs 'id': the column that identifies a row", source, which)
        sides[which] = str(side["id"])
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, dict) or not raw_fields:
        raise _fail("'fields' must map field names to types, e.g. {surname: surname, dob: date}", source,
                    "fields")
    fields = tuple(_field(str(name), spec, source) for name, spec in raw_fields.items())
    names = {f.name for f in fields}
    training = data.get("training") or {}
    thresholds = data.get("thresholds") or {}
    guard = data.get("guard") or {}
    for key, value in (("training", training), ("thresholds", thresholds), ("guard", guard)):
        if not isinstance(value, dict):
            raise _fail(f"'{key}' must be a mapping", source, key)
    given = "blocking" in data
    blocking = _rules(data["blocking"], names, source, "blocking") if given else derive_blocking(fields)
    em = (_rules(training["em_blocking"], names, source, "training.em_blocking") if "em_blocking" in training
          else derive_em_rules(fields))
    prior = (_rules(training["prior_rules"], names, source, "training.prior_rules")
             if "prior_rules" in training else derive_prior_rules(fields))
    accept = _number(thresholds, "accept", 0.95, source, "thresholds")
    review = _number(thresholds, "review", 0.5, source, "thresholds")
    if not 0.0 <= review <= accept <= 1.0:
        raise _fail(f"thresholds must satisfy 0 <= review ({review}) <= accept ({accept}) <= 1", source,
                    "thresholds")
    return FieldsConfig(
        name=str(data.get("name") or (Path(source).stem if source else "adhoc")),
        mode=mode,
        left_id=sides["left"],
        right_id=sides.get("right", sides["left"]),
        fields=fields,
        blocking=blocking,
        blocking_given=given,
        em_rules=em,
        prior_rules=prior,
        prior_recall=_number(training, "prior_recall", 0.7, source, "training"),
        u_max_pairs=_number(training, "u_max_pairs", 5e5, source, "training"),
        seed=int(_number(training, "seed", 42, source, "training")),
        accept=accept,
        review=review,
        ambiguity_bits=_number(thresholds, "ambiguity_bits", 4.0, source, "thresholds"),
        min_probability=float(data.get("min_probability", 0.01)),
        max_pairs=int(_number(guard, "max_candidate_pairs", 20_000_000, source, "guard")),
        min_pairs_per_record=_number(guard, "min_pairs_per_record", 0.5, source, "guard"),
        max_duplicate_share=_number(guard, "max_duplicate_share", 0.05, source, "guard"),
        source=source,
        raw=data,
    )


def is_fields_config(data: Any) -> bool:
    """Whether a parsed YAML document is an any-columns configuration (it has ``fields``)."""
    return isinstance(data, dict) and "fields" in data


def load_fields_config(path: str | Path) -> FieldsConfig:
    """Read an any-columns configuration from YAML; errors name the file, the line or the key."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("configuration file not found", Location(file=str(path))) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"not valid YAML: {getattr(exc, 'problem', exc)}",
                          Location(file=str(path), line=mark.line + 1 if mark else None)) from None
    return fields_from_dict(data or {}, source=str(path))


# -- defaults derived from the fields mapped -------------------------------------------------------------


def _ordered(fields: tuple[FieldSpec, ...]) -> list[FieldSpec]:
    ranked = [f for f in fields if f.type in _BLOCKING_ORDER]
    return sorted(ranked, key=lambda f: _BLOCKING_ORDER.index(f.type))


def derive_blocking(fields: tuple[FieldSpec, ...]) -> tuple[Rule, ...]:
    """Default blocking rules: each identifier alone (a number typed right finds its pair whatever the
    rest says), the two name parts together and swapped, then every pair of the five strongest other
    fields (names, date, postcode, address, region, text), so a pair is found unless two of those
    fields are wrong at once."""
    rules: list[Rule] = [Rule((f.name,)) for f in fields if f.type in ("cn_id", "numeric_id")]
    given = [f.name for f in fields if f.type == "given_name"]
    surname = [f.name for f in fields if f.type == "surname"]
    if given and surname:
        rules.append(Rule((given[0], surname[0])))
        rules.append(Rule((surname[0], given[0]), swapped=True))
    strong = [f.name for f in _ordered(fields)][:5]
    for a, b in combinations(strong, 2):
        rule = Rule((a, b))
        if {a, b} != {given[0] if given else "", surname[0] if surname else ""}:
            rules.append(rule)
    if not rules and strong:
        rules.append(Rule((strong[0],)))
    return tuple(rules)


def derive_em_rules(fields: tuple[FieldSpec, ...]) -> tuple[Rule, ...]:
    """Default training sessions (expectation maximisation): one blocked on the names, which estimates
    every other field, one on the date (or postcode, or address), which estimates the names."""
    names = [f.name for f in fields if f.type in NAME_TYPES]
    other = [f.name for f in _ordered(fields) if f.type in ("date", "postcode", "address", "region_code")]
    rules = []
    if names:
        rules.append(Rule(tuple(names)))
    if other:
        rules.append(Rule((other[0],)))
    if not rules:
        rules = [Rule((f.name,)) for f in _ordered(fields)[:2]]
    return tuple(rules)


def derive_prior_rules(fields: tuple[FieldSpec, ...]) -> tuple[Rule, ...]:
    """Default rules for the prior (how likely two random records match): the names with the date, or the
    names with the postcode or address; an ID number alone."""
    ids = [Rule((f.name,)) for f in fields if f.type == "cn_id"]
    names = tuple(f.name for f in fields if f.type in NAME_TYPES)
    other = [f.name for f in _ordered(fields) if f.type in ("date", "postcode", "address")]
    if names and other:
        return (*ids, Rule((*names, other[0])))
    return tuple(ids) or ((Rule(names),) if names else ())
