"""What policies can see: the catalogue's tables and fields (with policy types), derived fields, and how
each table joins to the row being evaluated.

>>> field_type("member", "health")
('string', 'health')
>>> field_type("household", "per_capita_income")
('number', None)
>>> suggest("helth", fields_of("member"))
'health'
"""

from __future__ import annotations

import difflib

from jingzhun.catalog import DATASETS

# Catalogue type -> policy type.
_TYPES = {
    "int": "number",
    "decimal": "number",
    "date": "date",
    "bool": "bool",
    "string": "string",
    "enum": "string",
    "id_number": "string",
    "region_code": "string",
    "month": "month",
}

# Fields computed for every evaluation (docs/POLICY_LANGUAGE.md "Derived fields").
DERIVED: dict[str, dict[str, str]] = {
    "household": {
        "member_count": "number",
        "net_income": "number",
        "per_capita_income": "number",
        "income_year": "number",
        "province_code": "string",
        "county_code": "string",
        "township_code": "string",
    },
    "member": {
        "age": "number",
        "village_code": "string",
        "province_code": "string",
        "id_number_households": "number",
    },
    "village": {
        "village_code": "string",
        "province_code": "string",
        "county_code": "string",
        "township_code": "string",
        "household_count": "number",
    },
}
# Columns added to person-level feeds by linkage.
LINK_FIELDS = {"person_id": "string", "household_id": "string"}

# The tables behind each policy-visible table (evaluation context, built by jingzhun.policy.context).
CTX = {"household": "jz_ctx_household", "member": "jz_ctx_member", "village": "jz_ctx_village"}
FEEDS = tuple(d.name for d in DATASETS.values() if d.kind == "feed")
PERSON_FEEDS = tuple(d.name for d in DATASETS.values() if d.kind == "feed" and d.person_level)
VILLAGE_FEEDS = tuple(n for n in FEEDS if n not in PERSON_FEEDS)
TABLES = ("household", "member", "village", *FEEDS)

# Keys a row of each kind carries (what an aggregation or a rule reference can join on).
ROW_KEYS: dict[str, tuple[str, ...]] = {
    "household": ("household_id", "village_code"),
    "person": ("person_id", "household_id", "village_code"),
    "member": ("person_id", "household_id", "village_code"),
    "village": ("village_code",),
    **{f: ("person_id", "household_id") for f in PERSON_FEEDS},
    **{f: ("village_code",) for f in VILLAGE_FEEDS},
}
ENTITY_KEY = {"person": "person_id", "household": "household_id", "village": "village_code"}


def fields_of(table: str) -> list[str]:
    out: list[str] = []
    if table in DATASETS:
        out += DATASETS[table].names
    if table in PERSON_FEEDS:
        out += list(LINK_FIELDS)
    out += [f for f in DERIVED.get(table, {}) if f not in out]
    return out


def field_type(table: str, name: str) -> tuple[str, str | None] | None:
    """(policy type, enum name) of ``table.name``, or None when there is no such field."""
    if table in DERIVED and name in DERIVED[table]:
        return DERIVED[table][name], None
    if table in PERSON_FEEDS and name in LINK_FIELDS:
        return LINK_FIELDS[name], None
    ds = DATASETS.get(table)
    if ds is None or not ds.has(name):
        return None
    f = ds.field(name)
    return _TYPES[f.type], f.enum


def date_field(table: str) -> tuple[str, str] | None:
    """(field, policy type) that places a feed's records in time."""
    ds = DATASETS.get(table)
    if ds is None or not ds.date_field:
        return None
    return ds.date_field, _TYPES[ds.field(ds.date_field).type]


def join_key(source: str, row_kind: str) -> str | None:
    """The key on which rows of ``source`` are aggregated for a row of ``row_kind``; None if they cannot be.

    >>> join_key("medical_claim", "household"), join_key("medical_claim", "person")
    ('household_id', 'person_id')
    >>> join_key("water_safety", "person"), join_key("member", "village")
    ('village_code', 'village_code')
    >>> join_key("medical_claim", "village") is None
    True
    """
    have = ROW_KEYS.get(row_kind, ())
    if source == "member":
        options: tuple[str, ...] = (
            ("household_id", "village_code") if row_kind != "person" else ("household_id",)
        )
    elif source == "household":
        options = ("village_code",) if row_kind == "village" else ()
    elif source in PERSON_FEEDS:
        options = ("person_id", "household_id") if row_kind in ("person", "member") else ("household_id",)
    elif source in VILLAGE_FEEDS:
        options = ("village_code",)
    else:
        options = ()
    for k in options:
        if k in have:
            return k
    return None


def suggest(word: str, options: list[str] | tuple[str, ...]) -> str | None:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return close[0] if close else None
