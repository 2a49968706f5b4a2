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
# Time bookkeeping (docs/DOMAIN.md "Time"): every feed record carries the period of the first import that
# brought it (its arrival, ``_arrived``), seen by policies as the field ``received`` of every feed; every
# registry row the period of its extract (``_period``).
ARRIVED = "_arrived"
RECEIVED = "received"
EXTRACT_PERIOD = "_period"
# The shared parameter giving how many months before the period's start a record received in the period
# may be dated and still count as new (window ``new``).
GRACE_PARAM = "record_grace_months"
# Feeds whose records are facts with a date (events: counted once, when they arrive) and feeds whose
# records set a subject's state (what the latest record by date says holds until a newer one changes it).
EVENT_FEEDS = ("medical_claim", "assistance", "disability_cert", "civil_registry", "disaster_loss")
STATE_FEEDS = ("enrolment", "employment", "housing_safety", "water_safety")

# The tables behind each policy-visible table (evaluation context, built by jingzhun.policy.context).
CTX = {"household": "jz_ctx_household", "member": "jz_ctx_member", "village": "jz_ctx_village"}
FEEDS = tuple(d.name for d in DATASETS.values() if d.kind == "feed")
PERSON_FEEDS = tuple(d.name for d in DATASETS.values() if d.kind == "feed" and d.person_level)
VILLAGE_FEEDS = tuple(n for n in FEEDS if n not in PERSON_FEEDS)
TABLES = ("household", "member", "village", *FEEDS)
# Village feeds whose records concern a natural village (自然村): for a household (or a person of it) they
# are read through a context view that gives each record the households it concerns — those of its
# natural village, or of the whole administrative village when the record names none (DOMAIN.md "Keys of
# place"); for a village row, the records themselves.
PLACE_FEEDS = ("water_safety",)


def source_table(source: str, key: str) -> str:
    """The relation an aggregation over ``source`` reads when it groups on ``key``.

    >>> source_table("water_safety", "household_id"), source_table("water_safety", "village_code")
    ('jz_ctx_water_safety', 'water_safety')
    >>> source_table("member", "household_id")
    'jz_ctx_member'
    """
    if source in PLACE_FEEDS and key == "household_id":
        return f"jz_ctx_{source}"
    return CTX.get(source, source)

# Keys a row of each kind carries (what an aggregation or a rule reference can join on).
ROW_KEYS: dict[str, tuple[str, ...]] = {
    "household": ("household_id", "village_code"),
    "person": ("person_id", "household_id", "village_code"),
    "member": ("person_id", "household_id", "village_code"),
    "village": ("village_code",),
    **{f: ("person_id", "household_id") for f in PERSON_FEEDS},
    **{f: ("village_code",) for f in VILLAGE_FEEDS},
    **{f: ("household_id", "village_code") for f in PLACE_FEEDS},
}
ENTITY_KEY = {"person": "person_id", "household": "household_id", "village": "village_code"}


def fields_of(table: str) -> list[str]:
    out: list[str] = []
    if table in DATASETS:
        out += DATASETS[table].names
    if table in PERSON_FEEDS:
        out += list(LINK_FIELDS)
    if table in FEEDS:
        out.append(RECEIVED)
    out += [f for f in DERIVED.get(table, {}) if f not in out]
    return out


def field_type(table: str, name: str) -> tuple[str, str | None] | None:
    """(policy type, enum name) of ``table.name``, or None when there is no such field."""
    if table in DERIVED and name in DERIVED[table]:
        return DERIVED[table][name], None
    if table in PERSON_FEEDS and name in LINK_FIELDS:
        return LINK_FIELDS[name], None
    if table in FEEDS and name == RECEIVED:
        return "month", None
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
    ('household_id', 'village_code')
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
    elif source in PLACE_FEEDS:
        options = ("village_code",) if row_kind == "village" else ("household_id",)
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
