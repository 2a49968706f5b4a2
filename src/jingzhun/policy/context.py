"""The evaluation context: derived tables every rule reads (household with size and per-capita income,
member with age, village), as sqlglot trees built once per evaluation.

The SQL below is fixed text written here (never from a policy file); values (the period, a household id)
enter only as typed literals through sqlglot placeholders.

>>> steps = context_steps("2025-06")
>>> [name for name, _ in steps]
['jz_ctx_household_derived', 'jz_ctx_id_households', 'jz_ctx_household', 'jz_ctx_member', 'jz_ctx_village']
>>> "2025" in steps[0][1].sql("duckdb")
True
"""

from __future__ import annotations

from sqlglot import exp, parse_one

from jingzhun.policy.checker import period_dates

_HOUSEHOLD_DERIVED = """
WITH mc AS (SELECT household_id, COUNT(*) AS member_count FROM member GROUP BY household_id),
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

_ID_HOUSEHOLDS = """
SELECT id_number, COUNT(DISTINCT household_id) AS n
FROM member WHERE id_number IS NOT NULL GROUP BY id_number HAVING COUNT(DISTINCT household_id) > 1
"""

_HOUSEHOLD = """
SELECT h.*, COALESCE(d.member_count, 0) AS member_count, d.net_income, d.income_year, d.per_capita_income,
  SUBSTRING(h.village_code, 1, 2) AS province_code,
  CONCAT(SUBSTRING(h.village_code, 1, 6), '000000') AS county_code,
  CONCAT(SUBSTRING(h.village_code, 1, 9), '000') AS township_code
FROM household AS h
LEFT JOIN jz_ctx_household_derived AS d ON h.household_id = d.household_id
"""

_MEMBER = """
SELECT m.*,
  :year - YEAR(m.birth_date)
    - CASE WHEN MONTH(m.birth_date) * 100 + DAY(m.birth_date) > :monthday THEN 1 ELSE 0 END AS age,
  h.village_code, SUBSTRING(h.village_code, 1, 2) AS province_code,
  COALESCE(idh.n, 1) AS id_number_households
FROM member AS m
LEFT JOIN household AS h ON m.household_id = h.household_id
LEFT JOIN jz_ctx_id_households AS idh ON m.id_number = idh.id_number
"""

# The same without the ID-number count, when no rule uses it (saves a join in every person rule).
_MEMBER_NO_ID = _MEMBER.replace("COALESCE(idh.n, 1)", "1").replace(
    "LEFT JOIN jz_ctx_id_households AS idh ON m.id_number = idh.id_number", ""
)

_VILLAGE = """
SELECT village_code, SUBSTRING(village_code, 1, 2) AS province_code,
  CONCAT(SUBSTRING(village_code, 1, 6), '000000') AS county_code,
  CONCAT(SUBSTRING(village_code, 1, 9), '000') AS township_code, COUNT(*) AS household_count
FROM household GROUP BY village_code
"""


def _tree(sql: str, household_id: str | None, alias: str | None, **values: object) -> exp.Expr:
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


def context_steps(
    period: str, household_id: str | None = None, id_households: bool = True
) -> list[tuple[str, exp.Expr]]:
    """(name, SELECT) for the context, in build order. The first two are narrow tables worth storing
    (aggregations); the rest are cheap row-wise views (see :data:`CONTEXT_VIEWS`). With ``household_id``,
    only that household (for explaining one household). Without ``id_households`` (no rule uses
    ``member.id_number_households``) that count is not computed (it reads 1) and its table is skipped."""
    _, end = period_dates(period)
    member = _MEMBER if id_households else _MEMBER_NO_ID
    steps = [
        ("jz_ctx_household_derived", _tree(_HOUSEHOLD_DERIVED, household_id, "h", year=end.year)),
        ("jz_ctx_id_households", _tree(_ID_HOUSEHOLDS, None, None)),
        ("jz_ctx_household", _tree(_HOUSEHOLD, household_id, "h")),
        (
            "jz_ctx_member",
            _tree(member, household_id, "m", year=end.year, monthday=end.month * 100 + end.day),
        ),
        ("jz_ctx_village", _tree(_VILLAGE, household_id, "household")),
    ]
    return [s for s in steps if id_households or s[0] != "jz_ctx_id_households"]


#: Context steps that engines may keep as views (computed where used) rather than store.
CONTEXT_VIEWS = frozenset({"jz_ctx_household", "jz_ctx_member", "jz_ctx_village"})
