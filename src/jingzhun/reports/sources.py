"""The case service's and the API's ports over the web index (:mod:`jingzhun.reports.index`):
households of the registry (``jingzhun.cases.ports.HouseholdSource``) and alerts of the latest finished
runs (``AlertSource``). Every call is a few point or range lookups on its own cursor, never a scan.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from jingzhun.reports import data
from jingzhun.reports.index import WebIndex, code_range, name_key
from jingzhun.reports.runs import run_for

ALERT_SEP = "~"
#: search results: one row per household, as the pages and the API show them
RESULT_COLUMNS = (
    "household_id",
    "village_code",
    "village_name",
    "township_name",
    "head_name",
    "household_type",
    "monitoring_type",
    "household_size",
)
MAX_PLACES = 200  # village/township names matched by one search, at most
#: the columns of a search result as the index keeps them (the village code is the number ``vc``)
SHOWN = (
    "hno, household_id, lpad(vc::VARCHAR, 12, '0') AS village_code, head_name, household_type, "
    "monitoring_type, household_size"
)


class IndexedHouseholds:
    """Households: search by a substring of any member's name, an exact ID number, person id or
    household id, or a substring of a village or township name; ``get`` returns the household with
    its members and income."""

    def __init__(self, index: WebIndex):
        self.index = index

    def search(
        self, *, region_prefix: str, text: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        cur = self.index.cursor()
        scope = cur.execute("SELECT lo, hi FROM reg.ranges WHERE prefix = ?", [region_prefix]).fetchall()
        if not scope:
            return [], 0
        lo, hi = scope[0]
        t = (text or "").strip()
        if not t:  # the region's households are the rows lo..hi of hh_place
            first, last = lo + max(offset, 0), min(hi, lo + max(offset, 0) + limit - 1)
            found = data.rows(
                cur,
                f"SELECT {SHOWN} FROM reg.hh_place WHERE rowid BETWEEN ? AND ? ORDER BY hno",
                [first, last],
            )
            return self._named(found), hi - lo + 1
        hits, params = self._hits(cur, t, lo, hi)
        found = data.rows(
            cur,
            f"""SELECT *, count(*) OVER () AS _total FROM (SELECT DISTINCT * FROM ({hits}))
                ORDER BY hno LIMIT {int(limit)} OFFSET {int(offset)}""",
            params,
        )
        total = int(found[0]["_total"]) if found else 0
        if not found and offset:
            total = int(cur.execute(f"SELECT count(DISTINCT hno) FROM ({hits})", params).fetchall()[0][0])
        return self._named(found), total

    def _named(self, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows in the shape of :data:`RESULT_COLUMNS`, with village and township names."""
        names = self.index.region_names([r["village_code"] for r in found])
        return [
            {c: r.get(c) for c in RESULT_COLUMNS}
            | dict(zip(("village_name", "township_name"), names[r["village_code"]], strict=True))
            for r in found
        ]

    @staticmethod
    def _hits(cur: Any, t: str, lo: int, hi: int) -> tuple[str, list[Any]]:
        """The SQL of the households numbered lo..hi that match ``t`` (shown columns), and its parameters:
        name entries as they are, households found by key or by place read from hh_place by row id."""
        nlo, nhi = name_key(t)
        parts = [f"SELECT {SHOWN} FROM reg.name_idx WHERE nk BETWEEN ? AND ? AND hno BETWEEN ? AND ?"]
        params: list[Any] = [nlo, nhi, lo, hi]
        if len(t) > 3:
            parts[0] += " AND starts_with(sfx, ?)"
            params.append(t)
        keyed = cur.execute(
            "SELECT hno FROM reg.key_idx WHERE kh = hash(?::VARCHAR) AND key = ? AND hno BETWEEN ? AND ?",
            [t.upper(), t.upper(), lo, hi],
        ).fetchall()
        if keyed:
            listed = ", ".join(str(int(r[0])) for r in keyed)
            parts.append(f"SELECT {SHOWN} FROM reg.hh_place WHERE rowid IN ({listed})")
        places = cur.execute(
            f"""SELECT greatest(g.lo, ?), least(g.hi, ?) FROM reg.region r JOIN reg.ranges g ON g.prefix = r.prefix
                WHERE r.level IN ('village', 'township') AND contains(r.name, ?) AND g.hi >= ? AND g.lo <= ?
                ORDER BY 1 LIMIT {MAX_PLACES}""",
            [lo, hi, t, lo, hi],
        ).fetchall()
        for a, b in places:
            parts.append(f"SELECT {SHOWN} FROM reg.hh_place WHERE rowid BETWEEN {int(a)} AND {int(b)}")
        return " UNION ALL ".join(parts), params

    def get(self, household_id: str) -> dict[str, Any] | None:
        cur = self.index.cursor()
        key = [household_id, household_id]
        found = data.rows(
            cur,
            "SELECT * EXCLUDE (hk, vc) FROM reg.household WHERE hk = hash(?::VARCHAR) AND household_id = ?",
            key,
        )
        if not found:
            return None
        out = found[0]
        out["members"] = data.rows(
            cur,
            """SELECT * EXCLUDE (hk) FROM reg.member WHERE hk = hash(?::VARCHAR) AND household_id = ?
               ORDER BY (relation = '户主') DESC, person_id""",
            key,
        )
        out["income"] = data.rows(
            cur,
            "SELECT * EXCLUDE (hk) FROM reg.income WHERE hk = hash(?::VARCHAR) AND household_id = ? ORDER BY year",
            key,
        )
        return out

    def village_of(self, household_ids: list[str]) -> dict[str, str]:
        """Household id → village code, for a few households."""
        if not household_ids:
            return {}
        cur = self.index.cursor()
        marks = ", ".join("hash(?::VARCHAR)" for _ in household_ids)
        return dict(
            cur.execute(
                f"SELECT household_id, village_code FROM reg.household WHERE hk IN ({marks})", household_ids
            ).fetchall()
        )


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


class IndexedAlerts:
    """Alerts (not cleared) of the latest finished run of a period (default: the latest period)."""

    def __init__(self, index: WebIndex):
        self.index = index

    def cursor_for(self, run_id: str | None) -> Any:
        """A cursor on an index that holds ``run_id`` (checked again at once when it does not yet)."""
        version = self.index.version
        known = version is not None and run_id in {r for _, r in version.runs}
        return self.index.cursor(fresh=run_id is not None and not known)

    def get(self, alert_id_: str) -> dict[str, Any] | None:
        parts = alert_id_.split(ALERT_SEP)
        if len(parts) != 3:
            return None
        found = data.rows(
            self.cursor_for(parts[0]),
            "SELECT * FROM res.alerts WHERE run_id = ? AND household_id = ? AND rule_id = ?",
            parts,
        )
        return _alert(found[0]) if found else None

    def list(
        self, *, region_prefix: str, period: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        _, run_id = run_for(self.index.store, period)
        if run_id is None:
            return [], 0
        cur = self.cursor_for(run_id)
        lo, hi = code_range(region_prefix)
        where = "run_id = ? AND vc BETWEEN ? AND ? AND status <> 'cleared'"
        params = [run_id, lo, hi]
        total = cur.execute(f"SELECT count(*) FROM res.alerts WHERE {where}", params).fetchall()[0][0]
        items = data.rows(
            cur,
            f"""SELECT * FROM res.alerts WHERE {where}
                ORDER BY (status = 'new') DESC, village_code, household_id, rule_id
                LIMIT {int(limit)} OFFSET {int(offset)}""",
            params,
        )
        return [_alert(r) for r in items], int(total)

    def counts(self, region_prefix: str) -> tuple[str | None, int, int]:
        """(period, new alerts, open alerts) of the latest run in the region."""
        period, run_id = run_for(self.index.store, None)
        if run_id is None:
            return period, 0, 0
        lo, hi = code_range(region_prefix)
        new, total = (
            self.cursor_for(run_id)
            .execute(
                """SELECT count(*) FILTER (WHERE status = 'new'), count(*) FROM res.alerts
                   WHERE run_id = ? AND vc BETWEEN ? AND ? AND status <> 'cleared'""",
                [run_id, lo, hi],
            )
            .fetchall()[0]
        )
        return period, int(new), int(total)
