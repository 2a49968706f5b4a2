"""Where report figures read from: a DuckDB in-memory connection with views over the registry Parquet
(latest extract at or before a period), the region reference and the results of the monthly runs.

Views on the connection: ``region``, ``household``, ``member``, ``income`` (empty when not imported)
and, when a run is given, ``alerts``, ``flags``, ``links``, ``conflicts``, ``review``.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from jingzhun.store import DataFolder

REGISTRY = ("household", "member", "income")
RUN_TABLES = ("alerts", "flags", "links", "conflicts", "review")
_PERIOD_DIR = re.compile(r"^period=(\d{4}-\d{2})$")

_EMPTY = {
    "region": "SELECT NULL::VARCHAR AS code, NULL::VARCHAR AS name, NULL::VARCHAR AS level, "
    "NULL::VARCHAR AS parent_code WHERE false",
    "household": "SELECT NULL::VARCHAR AS household_id, NULL::VARCHAR AS village_code, "
    "NULL::VARCHAR AS household_type, NULL::VARCHAR AS monitoring_type, NULL::VARCHAR AS risk_type, "
    "NULL::VARCHAR AS poverty_cause, NULL::BIGINT AS household_size WHERE false",
    "member": "SELECT NULL::VARCHAR AS person_id, NULL::VARCHAR AS household_id, NULL::VARCHAR AS name, "
    "NULL::VARCHAR AS id_number, NULL::DATE AS birth_date, NULL::VARCHAR AS school_status, "
    "NULL::VARCHAR AS disability_grade, NULL::BOOLEAN AS medical_insurance, NULL::VARCHAR AS relation "
    "WHERE false",
    "income": "SELECT NULL::VARCHAR AS household_id, NULL::BIGINT AS year, NULL::DOUBLE AS wage_income, "
    "NULL::DOUBLE AS business_income, NULL::DOUBLE AS property_income, NULL::DOUBLE AS transfer_income, "
    "NULL::DOUBLE AS minimum_living_allowance, NULL::DOUBLE AS extreme_poverty_allowance, "
    "NULL::DOUBLE AS business_costs WHERE false",
    "alerts": "SELECT NULL::VARCHAR AS household_id, NULL::VARCHAR AS village_code, "
    "NULL::VARCHAR AS rule_id, "
    "NULL::VARCHAR AS kind, NULL::VARCHAR AS status, NULL::VARCHAR AS first_period, NULL::VARCHAR AS period, "
    "NULL::VARCHAR AS evidence, NULL::VARCHAR AS explain_zh, NULL::VARCHAR AS explain_en WHERE false",
}


def sql_str(value: str) -> str:
    """A SQL string literal.

    >>> sql_str("it's")
    "'it''s'"
    """
    return "'" + str(value).replace("'", "''") + "'"


def periods_of(root: str | Path, dataset: str) -> list[str]:
    """The periods for which ``dataset`` has Parquet files, sorted."""
    base = DataFolder(root).dataset_dir(dataset)
    if not base.is_dir():
        return []
    out = []
    for child in base.iterdir():
        m = _PERIOD_DIR.match(child.name)
        if m and any(child.glob("*.parquet")):
            out.append(m.group(1))
    return sorted(out)


def latest_period(root: str | Path, dataset: str, period: str | None = None) -> str | None:
    """The latest period of ``dataset`` at or before ``period`` (any, when None)."""
    found = [p for p in periods_of(root, dataset) if period is None or p <= period]
    return found[-1] if found else None


def connect(
    root: str | Path, period: str | None = None, run_id: str | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the views described in the module docstring."""
    folder = DataFolder(root)
    con = duckdb.connect()
    region = folder.reference_file("region")
    con.execute(
        f"CREATE VIEW region AS SELECT * FROM read_parquet({sql_str(str(region))})"
        if region.exists()
        else f"CREATE VIEW region AS {_EMPTY['region']}"
    )
    for name in REGISTRY:
        p = latest_period(root, name, period)
        if p is None:
            con.execute(f"CREATE VIEW {name} AS {_EMPTY[name]}")
            continue
        files = sql_str(str(folder.period_dir(name, p) / "*.parquet"))
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({files}, union_by_name=true)")
    if run_id:
        attach_run(con, root, run_id)
    else:
        con.execute(f"CREATE VIEW alerts AS SELECT *, NULL::VARCHAR AS run_id FROM ({_EMPTY['alerts']})")
    return con


def attach_run(con: duckdb.DuckDBPyConnection, root: str | Path, run_id: str) -> None:
    """(Re)create the run views of ``run_id`` on ``con``; missing tables become empty alerts only."""
    run_dir = DataFolder(root).run_dir(run_id)
    for name in RUN_TABLES:
        path = run_dir / f"{name}.parquet"
        extra = f", {sql_str(run_id)} AS run_id" if name == "alerts" else ""
        if path.exists():
            con.execute(
                f"CREATE OR REPLACE VIEW {name} AS SELECT *{extra} FROM read_parquet({sql_str(str(path))})"
            )
        elif name == "alerts":
            con.execute(f"CREATE OR REPLACE VIEW alerts AS SELECT *{extra} FROM ({_EMPTY['alerts']})")


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    """Run ``sql`` and return its rows as dictionaries."""
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
