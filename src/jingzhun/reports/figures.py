"""Figures for dashboards and printable reports: pure functions over a connection from
:func:`jingzhun.reports.data.connect`, each limited to the villages whose code starts with ``prefix``
(the caller's scope from :mod:`jingzhun.auth.scope`, narrowed to the region shown).

Every function returns plain rows (lists of dicts) so a page can draw a chart and the table under it
from the same numbers, and an xlsx export can write them.
"""

from __future__ import annotations

from typing import Any

import duckdb

from jingzhun import regions
from jingzhun.reports.data import rows, sql_str

STUDENT = ("学前教育", "小学", "初中", "高中", "中职", "高职高专", "本科及以上")
COMPULSORY = ("小学", "初中")


def _like(prefix: str) -> str:
    return sql_str(prefix + "%")


def child_prefix(code: str, level: str) -> str:
    """The code prefix of a region.

    >>> child_prefix("520121201000", "township")
    '520121201'
    """
    return regions.prefix_of(code, level)


def region_children(con: duckdb.DuckDBPyConnection, code: str | None) -> list[dict[str, Any]]:
    """The regions directly under ``code`` (the top level when None), with households, people and
    monitored households (监测户) in each."""
    where = "parent_code IS NULL" if code is None else f"parent_code = {sql_str(code)}"
    kids = rows(con, f"SELECT code, name, level FROM region WHERE {where} ORDER BY code")
    if not kids:
        return []
    width = len(child_prefix(kids[0]["code"], kids[0]["level"]))
    counts = {
        r["p"]: r
        for r in rows(
            con,
            f"""SELECT substr(h.village_code, 1, {width}) AS p, count(*) AS households,
                       count(h.monitoring_type) AS monitored, sum(coalesce(m.people, 0)) AS people
                FROM household h
                LEFT JOIN (SELECT household_id, count(*) AS people FROM member GROUP BY 1) m
                    USING (household_id)
                GROUP BY 1""",
        )
    }
    out = []
    for kid in kids:
        c = counts.get(child_prefix(kid["code"], kid["level"]), {})
        out.append(
            kid
            | {
                "households": int(c.get("households") or 0),
                "people": int(c.get("people") or 0),
                "monitored": int(c.get("monitored") or 0),
            }
        )
    return out


def overview(con: duckdb.DuckDBPyConnection, prefix: str) -> dict[str, int]:
    """Households, people, registered-poor (脱贫户) households and monitored households in scope."""
    r = rows(
        con,
        f"""SELECT count(*) AS households,
                   count(*) FILTER (WHERE household_type = '脱贫户') AS lifted,
                   count(monitoring_type) AS monitored,
                   (SELECT count(*) FROM member m JOIN household h2 USING (household_id)
                    WHERE h2.village_code LIKE {_like(prefix)}) AS people
            FROM household WHERE village_code LIKE {_like(prefix)}""",
    )[0]
    return {k: int(v or 0) for k, v in r.items()}


def objects_by_type(con: duckdb.DuckDBPyConnection, prefix: str) -> list[dict[str, Any]]:
    """Monitored households by monitoring type (监测对象类别)."""
    return rows(
        con,
        f"""SELECT monitoring_type AS label, count(*) AS households FROM household
            WHERE village_code LIKE {_like(prefix)} AND monitoring_type IS NOT NULL
            GROUP BY 1 ORDER BY 2 DESC, 1""",
    )


def objects_by_cause(con: duckdb.DuckDBPyConnection, prefix: str) -> list[dict[str, Any]]:
    """Monitored households by main risk (风险类型), else by poverty cause."""
    return rows(
        con,
        f"""SELECT coalesce(risk_type, poverty_cause, '未填写') AS label, count(*) AS households
            FROM household WHERE village_code LIKE {_like(prefix)} AND monitoring_type IS NOT NULL
            GROUP BY 1 ORDER BY 2 DESC, 1""",
    )


def triggers_fired(con: duckdb.DuckDBPyConnection, prefix: str, run_id: str | None) -> list[dict[str, Any]]:
    """Open alerts of run ``run_id`` by rule: households for which each risk rule fired, and how many
    of them are new this period."""
    return rows(
        con,
        f"""SELECT rule_id, count(DISTINCT household_id) AS households,
                   count(*) FILTER (WHERE status = 'new') AS new
            FROM alerts WHERE run_id = ? AND village_code LIKE {_like(prefix)} AND status <> 'cleared'
            GROUP BY 1 ORDER BY 2 DESC, 1""",
        [run_id],
    )


def alerts_by_month(con: duckdb.DuckDBPyConnection, prefix: str) -> list[dict[str, Any]]:
    """New, persisting and cleared alerts per period (the ``alerts`` relation holds the latest finished
    run of every period, see :class:`jingzhun.reports.sources.RegistryCache`)."""
    return rows(
        con,
        f"""SELECT period, count(*) FILTER (WHERE status = 'new') AS new,
                   count(*) FILTER (WHERE status = 'persisting') AS persisting,
                   count(*) FILTER (WHERE status = 'cleared') AS cleared
            FROM alerts WHERE village_code LIKE {_like(prefix)} GROUP BY 1 ORDER BY 1""",
    )


def coverage(con: duckdb.DuckDBPyConnection, prefix: str, period: str) -> list[dict[str, Any]]:
    """Coverage of registered people in the style of a village report (seed 000): medical insurance,
    compulsory education, 低保, 五保/特困, disability and education subsidies.

    Each row: ``key``, ``count`` (people covered) and, where a rate makes sense, ``base`` and ``rate``.
    Minimum-living and extreme-poverty support count the members of households receiving it (latest
    income year); the disability subsidy counts people with a disability grade; the education subsidy
    counts pupils and students.
    """
    day = sql_str(f"{period}-01")
    students = ", ".join(sql_str(s) for s in STUDENT)
    compulsory = ", ".join(sql_str(s) for s in COMPULSORY)
    r = rows(
        con,
        f"""WITH m AS (
                SELECT m.*, date_diff('year', m.birth_date, DATE {day}) AS age
                FROM member m JOIN household h USING (household_id)
                WHERE h.village_code LIKE {_like(prefix)}),
            inc AS (
                SELECT household_id, minimum_living_allowance AS dibao, extreme_poverty_allowance AS tekun
                FROM income QUALIFY row_number() OVER (PARTITION BY household_id ORDER BY year DESC) = 1)
            SELECT count(*) AS people,
                   count(*) FILTER (WHERE medical_insurance) AS insured,
                   count(*) FILTER (WHERE age BETWEEN 7 AND 15) AS school_age,
                   count(*) FILTER (WHERE age BETWEEN 7 AND 15
                                    AND school_status IN ({compulsory}, '高中', '中职'))
                       AS in_school,
                   count(*) FILTER (WHERE inc.dibao > 0) AS dibao,
                   count(*) FILTER (WHERE inc.tekun > 0) AS tekun,
                   count(*) FILTER (WHERE disability_grade IS NOT NULL) AS disability,
                   count(*) FILTER (WHERE school_status IN ({students})) AS students
            FROM m LEFT JOIN inc USING (household_id)""",
    )[0]
    r = {k: int(v or 0) for k, v in r.items()}

    def rate(n: int, d: int) -> float | None:
        return round(100.0 * n / d, 1) if d else None

    return [
        {
            "key": "medical_insurance",
            "count": r["insured"],
            "base": r["people"],
            "rate": rate(r["insured"], r["people"]),
        },
        {
            "key": "compulsory_education",
            "count": r["in_school"],
            "base": r["school_age"],
            "rate": rate(r["in_school"], r["school_age"]),
        },
        {"key": "dibao", "count": r["dibao"], "base": r["people"], "rate": rate(r["dibao"], r["people"])},
        {"key": "tekun", "count": r["tekun"], "base": r["people"], "rate": rate(r["tekun"], r["people"])},
        {
            "key": "disability_subsidy",
            "count": r["disability"],
            "base": r["people"],
            "rate": rate(r["disability"], r["people"]),
        },
        {
            "key": "education_subsidy",
            "count": r["students"],
            "base": r["people"],
            "rate": rate(r["students"], r["people"]),
        },
    ]


def income_vs_line(con: duckdb.DuckDBPyConnection, prefix: str, line: float) -> dict[str, Any]:
    """Per-capita net income (纯收入 / household size, latest year) against the monitoring line: the
    households in bands of the line, the median and how many are at or below the line."""
    line_sql = float(line)
    bands = rows(
        con,
        f"""WITH pc AS (
                SELECT (coalesce(i.wage_income, 0) + coalesce(i.business_income, 0)
                        + coalesce(i.property_income, 0) + coalesce(i.transfer_income, 0)
                        - coalesce(i.business_costs, 0)) / greatest(coalesce(h.household_size, 1), 1) AS v
                FROM household h JOIN income i USING (household_id)
                WHERE h.village_code LIKE {_like(prefix)}
                QUALIFY row_number() OVER (PARTITION BY h.household_id ORDER BY i.year DESC) = 1)
            SELECT CASE WHEN v <= {line_sql} THEN 1 WHEN v <= 1.5 * {line_sql} THEN 2
                        WHEN v <= 2 * {line_sql} THEN 3 ELSE 4 END AS band,
                   count(*) AS households, median(v) AS median
            FROM pc GROUP BY 1 ORDER BY 1""",
    )
    stats = rows(
        con,
        f"""SELECT count(*) AS households, median(v) AS median FROM (
                SELECT (coalesce(i.wage_income, 0) + coalesce(i.business_income, 0)
                        + coalesce(i.property_income, 0) + coalesce(i.transfer_income, 0)
                        - coalesce(i.business_costs, 0)) / greatest(coalesce(h.household_size, 1), 1) AS v
                FROM household h JOIN income i USING (household_id)
                WHERE h.village_code LIKE {_like(prefix)}
                QUALIFY row_number() OVER (PARTITION BY h.household_id ORDER BY i.year DESC) = 1)""",
    )[0]
    by_band = {b["band"]: int(b["households"]) for b in bands}
    return {
        "line": line_sql,
        "households": int(stats["households"] or 0),
        "median": round(float(stats["median"]), 0) if stats["median"] is not None else None,
        "below": by_band.get(1, 0),
        "bands": [{"band": k, "households": by_band.get(k, 0)} for k in (1, 2, 3, 4)],
    }
