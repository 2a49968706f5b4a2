"""Parquet-backed ports for the case service and the API: households from the registry, alerts from the
latest finished run (``jingzhun.cases.ports.HouseholdSource`` / ``AlertSource``).

Both keep one DuckDB in-memory database with the registry loaded as tables and rebuild it when a new
extract or run appears; each call works on its own cursor, so requests run in parallel.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import duckdb

from jingzhun.ops import OpsStore
from jingzhun.reports import data
from jingzhun.reports.runs import done_runs, run_for
from jingzhun.store import DataFolder

ALERT_SEP = "~"


class RegistryCache:
    """A DuckDB database holding the latest registry extract (tables ``household``, ``member``,
    ``income``, ``region``) and the alerts of the latest finished run, refreshed when they change."""

    def __init__(self, root: str | Path, store: OpsStore | None = None, recheck_s: float = 2.0):
        self.root = Path(root)
        self.store = store
        self.recheck_s = recheck_s
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._checked = 0.0
        self._con: duckdb.DuckDBPyConnection | None = None
        self.memo: dict[tuple, Any] = {}  # results computed from this version of the data (figures)

    @property
    def key(self) -> tuple | None:
        """The version of the data loaded now (extract periods, region file, finished runs)."""
        return self._key

    def _current_key(self) -> tuple:
        folder = DataFolder(self.root)
        periods = tuple(data.latest_period(self.root, n) for n in data.REGISTRY)
        region = folder.reference_file("region")
        runs = tuple(done_runs(self.store)) if self.store is not None else ()
        return periods, region.stat().st_mtime if region.exists() else None, runs

    def cursor(self, run_id: str | None = None) -> duckdb.DuckDBPyConnection:
        """A cursor on the loaded data, reloaded first when the data changed (checked every
        ``recheck_s`` seconds at most, and at once when ``run_id`` is not loaded yet)."""
        now = time.monotonic()
        missing = run_id is not None and (self._key is None or run_id not in dict(self._key[2]).values())
        stale = self._con is None or missing or now - self._checked >= self.recheck_s
        key = self._current_key() if stale else self._key
        with self._lock:
            self._checked = now
            if self._con is None or key != self._key:
                con = data.connect(self.root)
                con.execute("SET enable_progress_bar = false")
                for name in ("region", "member", "income"):
                    con.execute(f"CREATE TABLE t_{name} AS SELECT * FROM {name}")
                    con.execute(f"DROP VIEW {name}")
                    con.execute(f"ALTER TABLE t_{name} RENAME TO {name}")
                # the head of household's name, once (the register lists the head first: relation 户主)
                con.execute("""CREATE TABLE t_household AS
                    SELECT h.*, hd.head_name FROM household h LEFT JOIN (
                        SELECT household_id, arg_min(name, (CASE WHEN relation = '户主' THEN '0' ELSE '1' END)
                                                           || person_id) AS head_name
                        FROM member GROUP BY household_id) hd USING (household_id)""")
                con.execute("DROP VIEW household")
                con.execute("ALTER TABLE t_household RENAME TO household")
                con.execute("CREATE INDEX IF NOT EXISTS hh_id ON household(household_id)")
                con.execute("CREATE INDEX IF NOT EXISTS mem_hh ON member(household_id)")
                runs = key[2] if key else ()
                con.execute("DROP VIEW IF EXISTS alerts")
                con.execute(f"CREATE TABLE alerts AS {data._EMPTY['alerts']}")
                con.execute("ALTER TABLE alerts ADD COLUMN run_id VARCHAR")
                for _period, run_id in runs:
                    path = DataFolder(self.root).run_dir(run_id) / "alerts.parquet"
                    if path.exists():
                        con.execute(
                            "INSERT INTO alerts BY NAME SELECT *, ? AS run_id FROM read_parquet(?)",
                            [run_id, str(path)],
                        )
                if self._con is not None:
                    self._con.close()
                self._con, self._key = con, key
                self.memo = {}
            return self._con.cursor()


def _head_sql() -> str:
    return "h.head_name"


class ParquetHouseholds:
    """Households of the registry: search by household id, any member's name or ID number, or place
    (village or township name); ``get`` returns the household with members and income."""

    def __init__(self, cache: RegistryCache):
        self.cache = cache

    def search(
        self, *, region_prefix: str, text: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        cur = self.cache.cursor()
        params: list[Any] = [region_prefix + "%"]
        cond = ""
        if text:
            t = text.strip()
            like = f"%{t}%"
            cond = """AND (h.household_id = ? OR v.name LIKE ? OR tw.name LIKE ? OR h.household_id IN (
                        SELECT household_id FROM member m
                        WHERE m.name LIKE ? OR m.id_number = upper(?) OR m.person_id = ?))"""
            params += [t, like, like, like, t, t]
        base = f"""FROM household h LEFT JOIN region v ON v.code = h.village_code
                   LEFT JOIN region tw ON tw.code = v.parent_code
                   WHERE h.village_code LIKE ? {cond}"""
        # one pass: the page and the total (a window over the filtered rows)
        found = data.rows(
            cur,
            f"""SELECT h.household_id, h.village_code, v.name AS village_name, tw.name AS township_name,
                       {_head_sql()} AS head_name, h.household_type, h.monitoring_type, h.household_size,
                       count(*) OVER () AS _total
                {base} ORDER BY h.household_id LIMIT {int(limit)} OFFSET {int(offset)}""",
            params,
        )
        if found:
            total = found[0]["_total"]
        elif offset:
            total = cur.execute(f"SELECT count(*) {base}", params).fetchall()[0][0]
        else:
            total = 0
        for row in found:
            del row["_total"]
        return found, int(total)

    def get(self, household_id: str) -> dict[str, Any] | None:
        cur = self.cache.cursor()
        found = data.rows(
            cur,
            """SELECT h.*, v.name AS village_name_ref
                FROM household h LEFT JOIN region v ON v.code = h.village_code WHERE h.household_id = ?""",
            [household_id],
        )
        if not found:
            return None
        out = found[0]
        out["members"] = data.rows(
            cur,
            "SELECT * FROM member WHERE household_id = ? ORDER BY (relation = '户主') DESC, person_id",
            [household_id],
        )
        out["income"] = data.rows(
            cur, "SELECT * FROM income WHERE household_id = ? ORDER BY year", [household_id]
        )
        return out


def alert_id(run_id: str, household_id: str, rule_id: str) -> str:
    """The id of one alert: run, household and rule.

    >>> alert_id("2025-01-ab12cd34", "H1", "trigger.medical")
    '2025-01-ab12cd34~H1~trigger.medical'
    """
    return ALERT_SEP.join((run_id, household_id, rule_id))


def _alert(row: dict[str, Any]) -> dict[str, Any]:
    evidence: Any = row.get("evidence")
    with contextlib.suppress(ValueError):
        evidence = json.loads(evidence) if isinstance(evidence, str) else evidence
    return {
        "alert_id": alert_id(row["run_id"], row["household_id"], row["rule_id"]),
        "run_id": row["run_id"],
        "period": row["period"],
        "household_id": row["household_id"],
        "village_code": row["village_code"],
        "head_name": row.get("head_name"),
        "rule_ids": [row["rule_id"]],
        "rule_id": row["rule_id"],
        "kind": row.get("kind"),
        "status": row.get("status"),
        "first_period": row.get("first_period"),
        "evidence": evidence,
        "explanation": row.get("explain_zh"),
        "explanation_en": row.get("explain_en"),
        "risk_type": None,
    }


class ParquetAlerts:
    """Alerts (not cleared) of the latest finished run of a period (default: the latest period)."""

    def __init__(self, cache: RegistryCache):
        self.cache = cache

    def _query(self, where: str, params: list[Any], tail: str = "") -> list[dict[str, Any]]:
        cur = self.cache.cursor()
        return [
            _alert(r)
            for r in data.rows(
                cur,
                f"""SELECT a.*, {_head_sql()} AS head_name FROM alerts a
                    LEFT JOIN household h ON h.household_id = a.household_id WHERE {where} {tail}""",
                params,
            )
        ]

    def get(self, alert_id_: str) -> dict[str, Any] | None:
        parts = alert_id_.split(ALERT_SEP)
        if len(parts) != 3:
            return None
        found = self._query("a.run_id = ? AND a.household_id = ? AND a.rule_id = ?", parts)
        return found[0] if found else None

    def list(
        self, *, region_prefix: str, period: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        store = self.cache.store
        if store is None:
            return [], 0
        _, run_id = run_for(store, period)
        if run_id is None:
            return [], 0
        where = "a.run_id = ? AND a.village_code LIKE ? AND a.status <> 'cleared'"
        params = [run_id, region_prefix + "%"]
        total = (
            self.cache.cursor(run_id)
            .execute(f"SELECT count(*) FROM alerts a WHERE {where}", params)
            .fetchall()[0][0]
        )
        items = self._query(
            where,
            params,
            f"ORDER BY (a.status = 'new') DESC, a.village_code, a.household_id, a.rule_id "
            f"LIMIT {int(limit)} OFFSET {int(offset)}",
        )
        return items, int(total)
