"""Figures of dashboards and printable reports, defined once and used two ways:

- **precomputed** when the web index is built (:mod:`jingzhun.reports.index`): every figure is grouped
  by the code prefix of every region level at once (:data:`WIDTHS`), so a page reads a few rows by
  prefix instead of aggregating millions;
- **live** for a period other than the one precomputed (its ages and monitoring line differ): the same
  SQL over the households of one region.

:func:`figure_set` gathers everything a dashboard or report shows for one region; pages draw a chart and
the table under it from the same numbers, and xlsx exports write them.

Definitions: a household is *monitored* (监测户) when it has a monitoring type; coverage counts members
(medical insurance, compulsory-education pupils aged 7–15 at the start of the period, members of
households receiving 低保 or 特困 support in the latest income year, people with a disability grade,
pupils and students); per-capita net income is the latest year's net income over the household size.
"""

from __future__ import annotations

from typing import Any

import duckdb

from jingzhun.reports.data import rows, sql_str

STUDENT = ("学前教育", "小学", "初中", "高中", "中职", "高职高专", "本科及以上")
COMPULSORY = ("小学", "初中")
#: code-prefix widths grouped at build time: the whole data (''), province, city, county, township, village
WIDTHS = (0, 2, 4, 6, 9, 12)
COVERAGE_KEYS = (
    "medical_insurance",
    "compulsory_education",
    "dibao",
    "tekun",
    "disability_subsidy",
    "education_subsidy",
)


def cube(select: str, source: str, where: str = "", group: str = "", vc: bool = False) -> str:
    """``select`` (aggregates) of ``source`` grouped by the code prefix of every level in :data:`WIDTHS`
    (and by ``group``); ``{w}`` anywhere is replaced by the width of the level. With ``vc`` the source
    has the village code as the number ``vc`` instead of the text ``village_code``."""
    cond = f"WHERE {where}" if where else ""
    extra = f", {group}" if group else ""
    code = "lpad(vc::VARCHAR, 12, '0')" if vc else "village_code"
    part = f"SELECT substr({code}, 1, {{w}}) AS prefix{extra}, {select} FROM {source} {cond} GROUP BY ALL"
    return " UNION ALL ".join(part.replace("{w}", str(w)) for w in WIDTHS)


# --- what does not depend on a period ---------------------------------------------------------------

_OVERVIEW = """count(*) AS households, count(*) FILTER (WHERE household_type = '脱贫户') AS lifted,
               count(monitoring_type) AS monitored, sum(people) AS people"""
_CAUSE = "coalesce(risk_type, poverty_cause, '未填写')"


def build_registry_figures(con: duckdb.DuckDBPyConnection, household: str) -> None:
    """``ix.fig_overview``, ``ix.fig_by_type``, ``ix.fig_by_cause`` for every region prefix from the
    index's ``household`` table (which carries ``people``, the members counted)."""
    con.execute(f"CREATE TABLE ix.fig_overview AS {cube(_OVERVIEW, household)} ORDER BY prefix")
    con.execute(
        f"CREATE TABLE ix.fig_by_type AS "
        f"{cube('count(*) AS households', household, 'monitoring_type IS NOT NULL', 'monitoring_type AS label')}"
        " ORDER BY prefix"
    )
    con.execute(
        f"CREATE TABLE ix.fig_by_cause AS "
        f"{cube('count(*) AS households', household, 'monitoring_type IS NOT NULL', f'{_CAUSE} AS label')}"
        " ORDER BY prefix"
    )


# --- what depends on the period (ages, the monitoring line) -----------------------------------------


def fact_sql(reg: str, period: str, lines: dict[str, float], where: str = "") -> str:
    """One row per household of schema ``reg`` (``household``, ``member``, ``income`` of the web index)
    for ``period``: the members counted for each coverage item, and per-capita net income with the
    monitoring line of its province (``lines``: province code → line; ``''`` for any other)."""
    day = sql_str(f"{period}-01")
    students = ", ".join(sql_str(s) for s in STUDENT)
    compulsory = ", ".join(sql_str(s) for s in COMPULSORY)
    default = float(lines.get("", 0.0))
    cases = " ".join(f"WHEN {sql_str(p)} THEN {float(v)}" for p, v in lines.items() if p)
    pline = f"CASE substr(h.village_code, 1, 2) {cases} ELSE {default} END" if cases else str(default)
    cond = f"WHERE {where}" if where else ""
    return f"""
        WITH hh AS (SELECT * FROM {reg}.household h {cond}),
        m AS (
            SELECT m.hk, m.household_id,
                   count(*) AS people,
                   count(*) FILTER (WHERE medical_insurance) AS insured,
                   count(*) FILTER (WHERE age BETWEEN 7 AND 15) AS school_age,
                   count(*) FILTER (WHERE age BETWEEN 7 AND 15 AND school_status IN ({compulsory}, '高中', '中职'))
                       AS in_school,
                   count(*) FILTER (WHERE disability_grade IS NOT NULL) AS disability,
                   count(*) FILTER (WHERE school_status IN ({students})) AS students
            FROM (SELECT *, date_diff('year', birth_date, DATE {day}) AS age FROM {reg}.member
                  WHERE hk IN (SELECT hk FROM hh)) m
            GROUP BY m.hk, m.household_id),
        inc AS (
            SELECT hk, household_id, minimum_living_allowance AS dibao, extreme_poverty_allowance AS tekun,
                   coalesce(wage_income, 0) + coalesce(business_income, 0) + coalesce(property_income, 0)
                   + coalesce(transfer_income, 0) - coalesce(business_costs, 0) AS net
            FROM {reg}.income WHERE hk IN (SELECT hk FROM hh)
            QUALIFY row_number() OVER (PARTITION BY hk, household_id ORDER BY year DESC) = 1)
        SELECT h.village_code, coalesce(m.people, 0) AS people, coalesce(m.insured, 0) AS insured,
               coalesce(m.school_age, 0) AS school_age, coalesce(m.in_school, 0) AS in_school,
               CASE WHEN inc.dibao > 0 THEN coalesce(m.people, 0) ELSE 0 END AS dibao,
               CASE WHEN inc.tekun > 0 THEN coalesce(m.people, 0) ELSE 0 END AS tekun,
               coalesce(m.disability, 0) AS disability, coalesce(m.students, 0) AS students,
               inc.net / greatest(coalesce(h.household_size, 1), 1) AS pc, {pline} AS pline
        FROM hh h
        LEFT JOIN m ON m.hk = h.hk AND m.household_id = h.household_id
        LEFT JOIN inc ON inc.hk = h.hk AND inc.household_id = h.household_id"""


_COVERAGE = """sum(people) AS people, sum(insured) AS insured, sum(school_age) AS school_age,
               sum(in_school) AS in_school, sum(dibao) AS dibao, sum(tekun) AS tekun,
               sum(disability) AS disability, sum(students) AS students"""


def _band(line: str) -> str:
    return f"CASE WHEN pc <= {line} THEN 1 WHEN pc <= 1.5 * {line} THEN 2 WHEN pc <= 2 * {line} THEN 3 ELSE 4 END"


def _line_of(w: str) -> str:
    """The line of a group: the province's below the top level, the default one for the whole data."""
    return f"(CASE WHEN {w} = 0 THEN root_line ELSE pline END)"


def build_period_figures(
    con: duckdb.DuckDBPyConnection, reg: str, period: str | None, lines: dict[str, float] | None = None
) -> None:
    """``ix.fig_coverage``, ``ix.fig_income`` (households by band of the line) and ``ix.fig_income_stats``
    (households with income, median, at or below the line, the line) of ``period`` for every prefix."""
    period = period or "2025-01"
    lines = lines if lines is not None else lines_for(con, reg, period)
    root = float(lines.get("", 0.0))
    con.execute(
        f"CREATE TEMP TABLE fact AS SELECT *, {root} AS root_line FROM ({fact_sql(reg, period, lines)})"
    )
    con.execute(f"CREATE TABLE ix.fig_coverage AS {cube(_COVERAGE, 'fact')} ORDER BY prefix")
    band = _band(_line_of("{w}"))
    con.execute(
        f"CREATE TABLE ix.fig_income AS "
        f"{cube('count(*) AS households', 'fact', 'pc IS NOT NULL', f'{band} AS band')} ORDER BY prefix"
    )
    stats = f"""count(*) AS households, median(pc) AS median,
                count(*) FILTER (WHERE pc <= {_line_of("{w}")}) AS below, any_value({_line_of("{w}")}) AS line"""
    con.execute(
        f"CREATE TABLE ix.fig_income_stats AS {cube(stats, 'fact', 'pc IS NOT NULL')} ORDER BY prefix"
    )
    con.execute(
        f"CREATE TABLE ix.fig_lines AS SELECT {sql_str(period)} AS period, * FROM (VALUES {_values(lines)}) v(province, line)"
    )


def _values(lines: dict[str, float]) -> str:
    return ", ".join(f"({sql_str(p)}, {float(v)})" for p, v in sorted(lines.items()))


def lines_for(con: duckdb.DuckDBPyConnection, reg: str, period: str) -> dict[str, float]:
    """The monitoring line of ``period`` for every province in the data, and for the whole data ('')."""
    from jingzhun.reports.runs import monitoring_line

    provinces = [
        r[0] for r in con.execute(f"SELECT DISTINCT substr(code, 1, 2) FROM {reg}.region").fetchall()
    ]
    provinces += [
        r[0]
        for r in con.execute(f"SELECT DISTINCT substr(village_code, 1, 2) FROM {reg}.household").fetchall()
    ]
    out = {"": monitoring_line(period, "")}
    for p in sorted({p for p in provinces if p}):
        out[p] = monitoring_line(period, p)
    return out


# --- reading one region ------------------------------------------------------------------------------


def _in(prefix: str) -> tuple[int, int]:
    from jingzhun.reports.index import code_range

    return code_range(prefix)


def overview(cur: duckdb.DuckDBPyConnection, prefix: str) -> dict[str, int]:
    """Households, people, registered-poor (脱贫户) households and monitored households in the region."""
    found = rows(
        cur, "SELECT households, lifted, monitored, people FROM reg.fig_overview WHERE prefix = ?", [prefix]
    )
    r = found[0] if found else {}
    return {k: int(r.get(k) or 0) for k in ("households", "lifted", "monitored", "people")}


def objects_by_type(cur: duckdb.DuckDBPyConnection, prefix: str) -> list[dict[str, Any]]:
    """Monitored households by monitoring type (监测对象类别)."""
    return rows(
        cur,
        "SELECT label, households FROM reg.fig_by_type WHERE prefix = ? ORDER BY households DESC, label",
        [prefix],
    )


def objects_by_cause(cur: duckdb.DuckDBPyConnection, prefix: str) -> list[dict[str, Any]]:
    """Monitored households by main risk (风险类型), else by poverty cause."""
    return rows(
        cur,
        "SELECT label, households FROM reg.fig_by_cause WHERE prefix = ? ORDER BY households DESC, label",
        [prefix],
    )


def region_children(cur: duckdb.DuckDBPyConnection, code: str | None) -> list[dict[str, Any]]:
    """The regions directly under ``code`` (the top level when None), with households, people and
    monitored households in each."""
    where = "r.parent_code IS NULL" if code is None else "r.parent_code = ?"
    return [
        {k: (int(v or 0) if k in ("households", "people", "monitored") else v) for k, v in r.items()}
        for r in rows(
            cur,
            f"""SELECT r.code, r.name, r.level, o.households, o.people, o.monitored
                FROM reg.region r LEFT JOIN reg.fig_overview o ON o.prefix = r.prefix
                WHERE {where} ORDER BY r.code""",
            [] if code is None else [code],
        )
    ]


def triggers_fired(cur: duckdb.DuckDBPyConnection, prefix: str, run_id: str | None) -> list[dict[str, Any]]:
    """Open alerts of run ``run_id`` by rule: households for which each risk rule fired, and how many
    of them are new this period."""
    lo, hi = _in(prefix)
    return rows(
        cur,
        """SELECT rule_id, count(DISTINCT household_id) AS households,
                  count(*) FILTER (WHERE status = 'new') AS new
           FROM res.alerts WHERE run_id = ? AND vc BETWEEN ? AND ? AND status <> 'cleared'
           GROUP BY 1 ORDER BY 2 DESC, 1""",
        [run_id, lo, hi],
    )


def alerts_by_month(cur: duckdb.DuckDBPyConnection, prefix: str) -> list[dict[str, Any]]:
    """New, persisting and cleared alerts per period (the latest finished run of every period)."""
    lo, hi = _in(prefix)
    return rows(
        cur,
        """SELECT period, count(*) FILTER (WHERE status = 'new') AS new,
                  count(*) FILTER (WHERE status = 'persisting') AS persisting,
                  count(*) FILTER (WHERE status = 'cleared') AS cleared
           FROM res.alerts WHERE vc BETWEEN ? AND ? GROUP BY 1 ORDER BY 1""",
        [lo, hi],
    )


def _rate(n: int, d: int) -> float | None:
    return round(100.0 * n / d, 1) if d else None


def coverage_rows(r: dict[str, Any]) -> list[dict[str, Any]]:
    """Coverage items (``key``, ``count``, ``base``, ``rate`` in %) from the summed counts.

    >>> [c["rate"] for c in coverage_rows({"people": 8, "insured": 6, "school_age": 0})][:2]
    [75.0, None]
    """
    r = {k: int(v or 0) for k, v in r.items()}
    pairs = {
        "medical_insurance": ("insured", "people"),
        "compulsory_education": ("in_school", "school_age"),
        "dibao": ("dibao", "people"),
        "tekun": ("tekun", "people"),
        "disability_subsidy": ("disability", "people"),
        "education_subsidy": ("students", "people"),
    }
    out = []
    for key in COVERAGE_KEYS:
        n, d = (r.get(x, 0) for x in pairs[key])
        out.append({"key": key, "count": n, "base": d, "rate": _rate(n, d)})
    return out


def _income(stats: dict[str, Any] | None, bands: list[dict[str, Any]], line: float) -> dict[str, Any]:
    by_band = {int(b["band"]): int(b["households"]) for b in bands}
    stats = stats or {}
    median = stats.get("median")
    return {
        "line": float(stats.get("line") or line),
        "households": int(stats.get("households") or 0),
        "median": round(float(median), 0) if median is not None else None,
        "below": by_band.get(1, 0),
        "bands": [{"band": k, "households": by_band.get(k, 0)} for k in (1, 2, 3, 4)],
    }


def precomputed_period(cur: duckdb.DuckDBPyConnection) -> str | None:
    found = cur.execute("SELECT max(period) FROM res.fig_lines").fetchall()
    return found[0][0] if found else None


def period_figures(
    cur: duckdb.DuckDBPyConnection, prefix: str, period: str, line: float, live: bool = False
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Coverage rows and income against the line of ``period`` for the region: read from the index when
    ``period`` is the one it holds (unless ``live``), else computed from the region's households."""
    if not live and period == precomputed_period(cur):
        cov = rows(cur, "SELECT * FROM res.fig_coverage WHERE prefix = ?", [prefix])
        stats = rows(cur, "SELECT * FROM res.fig_income_stats WHERE prefix = ?", [prefix])
        bands = rows(cur, "SELECT band, households FROM res.fig_income WHERE prefix = ?", [prefix])
        return coverage_rows(cov[0] if cov else {}), _income(stats[0] if stats else None, bands, line)
    lo, hi = _in(prefix)
    fact = fact_sql("reg", period, {"": line}, f"h.vc BETWEEN {lo} AND {hi}")
    found = rows(
        cur,
        f"""SELECT grouping(band) AS whole, band, {_COVERAGE}, count(pc) AS households, median(pc) AS median
            FROM (SELECT *, CASE WHEN pc IS NOT NULL THEN {_band(str(float(line)))} END AS band FROM ({fact}))
            GROUP BY GROUPING SETS ((), (band))""",
    )
    whole = next((r for r in found if r["whole"]), {})
    bands = [r for r in found if not r["whole"] and r["band"] is not None]
    return coverage_rows(whole), _income({**whole, "line": line}, bands, line)


def figure_set(
    cur: duckdb.DuckDBPyConnection,
    *,
    code: str | None,
    prefix: str,
    level: str | None,
    period: str,
    run_id: str | None,
    line: float,
) -> dict[str, Any]:
    """Every figure of a dashboard or report for the region ``code`` (``prefix``): overview, the regions
    under it, monitored households by type and cause, rules fired in ``run_id``, alerts by month,
    coverage and income against ``line`` in ``period``."""
    coverage, income = period_figures(cur, prefix, period, line)
    return {
        "overview": overview(cur, prefix),
        "children": region_children(cur, code) if level != "village" else [],
        "by_type": objects_by_type(cur, prefix),
        "by_cause": objects_by_cause(cur, prefix),
        "triggers": triggers_fired(cur, prefix, run_id),
        "by_month": alerts_by_month(cur, prefix),
        "coverage": coverage,
        "income": income,
    }
