"""The evaluation context: what rules read besides the registered relations (household with size and
per-capita income, member with age, village), as sqlglot trees.

Rules read ``jz_ctx_household``, ``jz_ctx_member`` and ``jz_ctx_village``. The first two are not views:
:func:`inline` replaces each read with a SELECT of just the columns that read uses (neither DuckDB nor
Spark drops an unused LEFT JOIN of a view, so a view costs its joins at every read). Only two narrow
aggregations are stored, and only when some read needs them: ``jz_ctx_household_derived`` (member count,
net and per-capita income) and ``jz_ctx_id_households`` (ID numbers listed in several households).

The SQL below is fixed text written here (never from a policy file); values (the period, a household id)
enter only as typed literals through sqlglot placeholders.

>>> from sqlglot import parse_one
>>> tree = parse_one("SELECT m.age FROM jz_ctx_member AS m", read="duckdb")
>>> tree, needs = inline(tree, "2025-06")
>>> sorted(needs)
[]
>>> print(tree.sql("duckdb"))  # doctest: +NORMALIZE_WHITESPACE
SELECT m.age FROM (SELECT m.person_id, m.household_id, 2025 - YEAR(m.birth_date)
  - CASE WHEN MONTH(m.birth_date) * 100 + DAY(m.birth_date) > 630 THEN 1 ELSE 0 END AS age
  FROM member AS m) AS m
>>> [name for name, _ in context_steps("2025-06", {"jz_ctx_household_derived"})]
['jz_ctx_household_derived', 'jz_ctx_village']
"""

from __future__ import annotations

from sqlglot import exp, parse_one

from jingzhun.policy.checker import period_dates

# Household size (docs/DOMAIN.md "Time"): the registry extract's members, then the events of 公安 dated
# from the start of the extract's period to the period's end: a death or a move out of a listed member
# lowers it; a birth or a move in raises it in the household of the listed parent (or relative) whose ID
# number the record carries, unless the person is listed already (an extract taken after the event).
_HOUSEHOLD_DERIVED = """
WITH listed AS (SELECT household_id, COUNT(*) AS n FROM member GROUP BY household_id),
gone AS (
  SELECT m.household_id, COUNT(DISTINCT m.person_id) AS n
  FROM civil_registry AS c
  JOIN member AS m ON c.person_id = m.person_id
  JOIN household AS hh ON hh.household_id = m.household_id
  WHERE c.event IN ('死亡', '迁出') AND c.event_date <= CAST(:end AS DATE)
    AND c.event_date >= CAST(hh._period || '-01' AS DATE)
  GROUP BY m.household_id
),
came AS (
  SELECT m.household_id, COUNT(DISTINCT COALESCE(c.id_number, c.record_id)) AS n
  FROM civil_registry AS c
  JOIN member AS m ON c.parent_id_number = m.id_number
  JOIN household AS hh ON hh.household_id = m.household_id
  WHERE c.event IN ('出生', '迁入') AND c.event_date <= CAST(:end AS DATE)
    AND c.event_date >= CAST(hh._period || '-01' AS DATE)
    AND NOT EXISTS (SELECT 1 FROM member AS x WHERE x.id_number = c.id_number)
  GROUP BY m.household_id
),
mc AS (
  SELECT l.household_id, l.n - COALESCE(gone.n, 0) + COALESCE(came.n, 0) AS member_count
  FROM listed AS l
  LEFT JOIN gone ON l.household_id = gone.household_id
  LEFT JOIN came ON l.household_id = came.household_id
),
iy AS (SELECT household_id, MAX(year) AS income_year FROM income WHERE year <= :year GROUP BY household_id),
inc AS (
  SELECT i.household_id, iy.income_year,
    COALESCE(i.wage_income, 0) + COALESCE(i.business_income, 0) + COALESCE(i.property_income, 0)
      + COALESCE(i.transfer_income, 0) - COALESCE(i.business_costs, 0) AS net_income
  FROM income AS i JOIN iy ON i.household_id = iy.household_id AND i.year = iy.income_year
)
SELECT h.household_id, COALESCE(mc.member_count, 0) AS member_count,
  CAST(inc.net_income AS DOUBLE) AS net_income, inc.income_year,
  CASE WHEN mc.member_count > 0 THEN CAST(inc.net_income AS DOUBLE) / mc.member_count END
    AS per_capita_income
FROM household AS h
LEFT JOIN mc ON h.household_id = mc.household_id
LEFT JOIN inc ON h.household_id = inc.household_id
"""

# Distinct households are counted only for numbers listed more than once (few), not for every number.
_ID_HOUSEHOLDS = """
SELECT id_number, COUNT(DISTINCT household_id) AS n
FROM member
WHERE id_number IN (
  SELECT id_number FROM member WHERE id_number IS NOT NULL GROUP BY id_number HAVING COUNT(*) > 1
)
GROUP BY id_number HAVING COUNT(DISTINCT household_id) > 1
"""

_VILLAGE = """
SELECT village_code, SUBSTRING(village_code, 1, 2) AS province_code,
  CONCAT(SUBSTRING(village_code, 1, 6), '000000') AS county_code,
  CONCAT(SUBSTRING(village_code, 1, 9), '000') AS township_code, COUNT(*) AS household_count
FROM household GROUP BY village_code
"""

# Drinking-water assessments as they concern households (DOMAIN.md "Keys of place"): a record naming a
# natural village concerns the households of that natural village of its administrative village; one
# naming none, every household of the administrative village.
_WATER_BY_HOUSEHOLD = """
SELECT w.*, h.household_id
FROM water_safety AS w
JOIN household AS h ON h.village_code = w.village_code
  AND (NULLIF(TRIM(w.natural_village), '') IS NULL OR TRIM(w.natural_village) = TRIM(h.natural_village))
"""

# Derived columns of the member and household contexts: SQL over ``m`` (member), ``h`` (household),
# ``d`` (jz_ctx_household_derived), ``idh`` (jz_ctx_id_households); placeholders :year and :monthday.
_MEMBER_DERIVED = {
    "age": ":year - YEAR(m.birth_date) - CASE WHEN MONTH(m.birth_date) * 100 + DAY(m.birth_date) > :monthday "
    "THEN 1 ELSE 0 END",
    "village_code": "h.village_code",
    "province_code": "SUBSTRING(h.village_code, 1, 2)",
    "id_number_households": "COALESCE(idh.n, 1)",
}
_HOUSEHOLD_DERIVED_COLUMNS = {
    "member_count": "COALESCE(d.member_count, 0)",
    "net_income": "d.net_income",
    "income_year": "d.income_year",
    "per_capita_income": "d.per_capita_income",
    "province_code": "SUBSTRING(h.village_code, 1, 2)",
    "county_code": "CONCAT(SUBSTRING(h.village_code, 1, 6), '000000')",
    "township_code": "CONCAT(SUBSTRING(h.village_code, 1, 9), '000')",
}
_KEYS = {"member": ("person_id", "household_id"), "household": ("household_id", "village_code")}

#: Context steps that engines may keep as views (computed where used) rather than store.
CONTEXT_VIEWS = frozenset({"jz_ctx_village", "jz_ctx_water_safety"})


def _tree(sql: str, household_id: str | None, alias: str | None, **values: object) -> exp.Select:
    tree = parse_one(sql, read="duckdb")
    assert isinstance(tree, exp.Select)
    lits = {
        k: exp.Literal.number(v) if isinstance(v, int) else exp.Literal.string(str(v))
        for k, v in values.items()
    }
    tree = exp.replace_placeholders(tree, **lits)
    assert isinstance(tree, exp.Select)
    if household_id is not None and alias is not None:
        tree = tree.where(
            exp.EQ(this=exp.column("household_id", table=alias), expression=exp.Literal.string(household_id))
        )
    return tree


def _expr(sql: str, period: str) -> exp.Expr:
    _, end = period_dates(period)
    values = {"year": end.year, "monthday": end.month * 100 + end.day}
    lits = {k: exp.Literal.number(v) for k, v in values.items()}
    return exp.replace_placeholders(parse_one(sql, read="duckdb"), **lits)


def _join(own: str, table: str, alias: str, key: str) -> exp.Join:
    """``LEFT JOIN table AS alias ON own.key = alias.key``."""
    on = exp.EQ(this=exp.column(key, table=own), expression=exp.column(key, table=alias))
    return exp.Join(this=exp.alias_(exp.to_table(table), alias, table=True), side="LEFT", on=on)


def context_select(
    table: str, columns: set[str], period: str, household_id: str | None = None
) -> tuple[exp.Select, set[str]]:
    """SELECT of the member (``table='member'``) or household context with just ``columns`` (and the
    keys), and the stored context tables it reads."""
    own = "m" if table == "member" else "h"
    derived = _MEMBER_DERIVED if table == "member" else _HOUSEHOLD_DERIVED_COLUMNS
    cols = [*_KEYS[table], *sorted(c for c in columns if c not in _KEYS[table])]
    select: list[exp.Expr] = []
    for c in cols:
        if c in derived:
            select.append(exp.alias_(_expr(derived[c], period), c))
        else:
            select.append(exp.column(c, table=own))
    q = exp.select(*select, copy=False).from_(exp.alias_(exp.to_table(table), own, table=True), copy=False)
    used = {t.table for s in select for t in s.find_all(exp.Column)}
    needs: set[str] = set()
    for alias, other, key in (
        ("h", "household", "household_id"),
        ("d", "jz_ctx_household_derived", "household_id"),
        ("idh", "jz_ctx_id_households", "id_number"),
    ):
        if alias in used and alias != own:
            q = q.join(_join(own, other, alias, key), copy=False)
            if other.startswith("jz_"):
                needs.add(other)
    if household_id is not None:
        q = q.where(
            exp.EQ(this=exp.column("household_id", table=own), expression=exp.Literal.string(household_id)),
            copy=False,
        )
    return q, needs


def inline(tree: exp.Expr, period: str, household_id: str | None = None) -> tuple[exp.Expr, set[str]]:
    """``tree`` with every aliased read of ``jz_ctx_member``/``jz_ctx_household`` replaced by a SELECT
    of the columns read through that alias; and the stored context tables those SELECTs need."""
    needs: set[str] = set()
    targets = {"jz_ctx_member": "member", "jz_ctx_household": "household"}
    reads = [t for t in tree.find_all(exp.Table) if t.name in targets and t.alias]
    # columns per alias, read before any replacement (the SELECTs put in use aliases of their own)
    columns = {t.alias: {c.name for c in tree.find_all(exp.Column) if c.table == t.alias} for t in reads}
    needs |= {t.name for t in tree.find_all(exp.Table) if t.name == "jz_ctx_water_safety"}
    for table in reads:
        select, more = context_select(targets[table.name], columns[table.alias], period, household_id)
        alias = table.alias
        needs |= more
        table.replace(exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(alias))))
    return tree, needs


def context_steps(
    period: str, needs: set[str], household_id: str | None = None
) -> list[tuple[str, exp.Expr]]:
    """(name, SELECT) of the stored context tables in ``needs`` and the village view, in build order.
    With ``household_id``, only that household (for explaining one household)."""
    _, end = period_dates(period)
    steps: list[tuple[str, exp.Expr]] = []
    if "jz_ctx_household_derived" in needs:
        steps.append(
            ("jz_ctx_household_derived",
             _tree(_HOUSEHOLD_DERIVED, household_id, "h", year=end.year, end=end.isoformat()))
        )
    if "jz_ctx_id_households" in needs:
        steps.append(("jz_ctx_id_households", _tree(_ID_HOUSEHOLDS, None, None)))
    steps.append(("jz_ctx_village", _tree(_VILLAGE, household_id, "household")))
    if "jz_ctx_water_safety" in needs:
        steps.append(("jz_ctx_water_safety", _tree(_WATER_BY_HOUSEHOLD, household_id, "h")))
    return steps
