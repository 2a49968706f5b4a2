"""The case service's and the API's ports over the web index (:mod:`jingzhun.reports.index`):
households of the registry (``jingzhun.cases.ports.HouseholdSource``) and alerts of the latest finished
runs (``AlertSource``). Every call is a few point or range lookups on its own cursor, never a scan.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import heapq
import itertools
import json
from collections.abc import Iterator
from typing import Any

from jingzhun.reports import data
from jingzhun.reports.index import WebIndex, code_range, name_key
from jingzhun.reports.runs import run_for

ALERT_SEP = "~"
#: the orders of the alerts inbox (a column or two of ``res.alerts a``; ties by village, household, rule)
ALERT_SORTS = {
    "default": "(a.status = 'new') DESC",
    "village": "a.village_code",
    "head": "a.head_name",
    "rule": "a.rule_id",
    "status": "a.status",
    "first_period": "a.first_period",
}


@dataclasses.dataclass(frozen=True)
class AlertFilters:
    """What the alerts inbox narrows a run's alerts to: a status (new/persisting), a rule, households
    (those with cases in some state; ``exclude``: all but those), and an order (a key of
    ``ALERT_SORTS``)."""

    status: str | None = None
    rule_id: str | None = None
    households: frozenset[str] | None = None
    exclude: bool = False
    sort: str = "default"
    descending: bool = False


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
#: name entries a search reads (more when its page lies further): a name with more matches in scope
#: gets a total that is a lower bound (:class:`AtLeast`)
COUNT_CAP = 1000
#: the columns of a search result as the index keeps them (the village code is the number ``vc``)
SHOWN = (
    "hno, household_id, lpad(vc::VARCHAR, 12, '0') AS village_code, head_name, household_type, "
    "monitoring_type, household_size"
)


class AtLeast(int):
    """A search total that is a lower bound: more households match than were counted."""


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching ranges merged, in order.

    >>> _merge([(5, 9), (0, 2), (3, 4), (8, 12), (20, 21)])
    [(0, 12), (20, 21)]
    """
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _in_ranges(h: int, merged: list[tuple[int, int]], starts: list[int]) -> bool:
    i = bisect.bisect_right(starts, h) - 1
    return i >= 0 and merged[i][0] <= h <= merged[i][1]


def _runs(numbers: list[int], gap: int = 32) -> list[tuple[int, int]]:
    """Sorted numbers grouped into (first, last) runs whose members lie within ``gap`` of each other.

    >>> _runs([1, 2, 3, 50, 51, 200])
    [(1, 3), (50, 51), (200, 200)]
    """
    out: list[tuple[int, int]] = []
    for h in numbers:
        if out and h - out[-1][1] <= gap:
            out[-1] = (out[-1][0], h)
        else:
            out.append((h, h))
    return out


class IndexedHouseholds:
    """Households: search by a substring of any member's name, an exact ID number, person id or
    household id, or a substring of a village or township name; ``get`` returns the household with
    its members and income.

    A search touches little whatever the size of the data: a name is one stretch of the name index
    (the entries of its first character, stored in household order, so the read stops after the
    first :data:`COUNT_CAP` matching entries in scope and a larger total is an :class:`AtLeast`),
    a key one row group, a place a range of household numbers worked out from the
    region list kept in memory; then only the rows of the page are read.
    """

    def __init__(self, index: WebIndex):
        self.index = index

    def search(
        self, *, region_prefix: str, text: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        cur = self.index.cursor()
        scope = self.index.remember(("range", region_prefix), lambda: self._range(cur, region_prefix))
        if scope is None:
            return [], 0
        lo, hi = scope
        offset = max(offset, 0)
        t = (text or "").strip()
        if not t:  # the region's households are the rows lo..hi of hh_place
            first, last = lo + offset, min(hi, lo + offset + limit - 1)
            listed = data.rows(
                cur,
                f"SELECT {SHOWN} FROM reg.hh_place WHERE rowid BETWEEN ? AND ? ORDER BY hno",
                [first, last],
            )
            return self._named(listed), hi - lo + 1
        want = offset + limit + 1  # the page and one more: is there a next page
        places = _merge(
            [(max(a, lo), min(b, hi)) for name, a, b in self._places() if t in name and b >= lo and a <= hi]
        )
        starts = [a for a, _ in places]
        keyed = [
            int(h)
            for (h,) in cur.execute(
                "SELECT hno FROM reg.key_idx WHERE kh = hash(?::VARCHAR) AND key = ? AND hno BETWEEN ? AND ?",
                [t.upper(), t.upper(), lo, hi],
            ).fetchall()
        ]
        entries = max(COUNT_CAP, 2 * want)
        while True:
            named, capped = self._by_name(cur, t, lo, hi, entries)
            # name entries cut short: only the households up to the last one read are known
            bound = max(named) if capped and named else None
            extra = sorted({h for h in (*named, *keyed) if not _in_ranges(h, places, starts)})
            if bound is not None:
                extra = [h for h in extra if h <= bound]
                known = len(extra) + sum(min(b, bound) - a + 1 for a, b in places if a <= bound)
            else:
                known = len(extra) + sum(b - a + 1 for a, b in places)
            if bound is None or known >= want:
                break
            entries *= 4
        page = list(itertools.islice(self._union(places, extra), offset, offset + limit))
        found: list[dict[str, Any]] = []
        by_name = sorted(set(page).intersection(named))
        if by_name:  # their entries lie in one stretch of the name index: read it, not hh_place rows
            sql, params = self._name_sql(t, by_name[0], by_name[-1])
            rows = data.rows(cur, f"SELECT {SHOWN} FROM reg.name_idx WHERE {sql}", params)
            wanted = set(by_name)
            found += list({r["hno"]: r for r in rows if r["hno"] in wanted}.values())
        missing = sorted(set(page) - set(by_name))
        if missing:
            sql = " UNION ALL ".join(
                f"SELECT {SHOWN} FROM reg.hh_place WHERE rowid BETWEEN {a} AND {b}" for a, b in _runs(missing)
            )
            wanted = set(missing)
            found += [r for r in data.rows(cur, sql) if r["hno"] in wanted]
        found.sort(key=lambda r: r["hno"])
        return self._named(found), AtLeast(known) if bound is not None else known

    @staticmethod
    def _range(cur: Any, prefix: str) -> tuple[int, int] | None:
        scope = cur.execute("SELECT lo, hi FROM reg.ranges WHERE prefix = ?", [prefix]).fetchall()
        return (int(scope[0][0]), int(scope[0][1])) if scope else None

    def _places(self) -> list[tuple[str, int, int]]:
        """(name, first, last household number) of every village and township, kept per version."""

        def load() -> list[tuple[str, int, int]]:
            found = (
                self.index.cursor()
                .execute(
                    """SELECT r.name, g.lo, g.hi FROM reg.region r JOIN reg.ranges g ON g.prefix = r.prefix
                       WHERE r.level IN ('village', 'township') AND r.name IS NOT NULL ORDER BY g.lo"""
                )
                .fetchall()
            )
            return [(str(name), int(a), int(b)) for name, a, b in found]

        places: list[tuple[str, int, int]] = self.index.remember(("places",), load)
        return places

    @staticmethod
    def _by_name(cur: Any, t: str, lo: int, hi: int, entries: int) -> tuple[list[int], bool]:
        """The numbers of the households numbered lo..hi with a member whose name contains ``t``, in
        order, from at most ``entries`` name entries (the entries of one first character are stored in
        household order: no sort, and the read stops at the limit); and whether it was cut short."""
        sql, params = IndexedHouseholds._name_sql(t, lo, hi)
        got = cur.execute(
            f"SELECT hno FROM reg.name_idx WHERE {sql} LIMIT {int(entries)}", params
        ).fetchnumpy()
        hnos = got["hno"].tolist()
        return list(dict.fromkeys(hnos)), len(hnos) >= entries

    @staticmethod
    def _name_sql(t: str, lo: int, hi: int) -> tuple[str, list[Any]]:
        nlo, nhi = name_key(t)
        sql = "nk BETWEEN ? AND ? AND hno BETWEEN ? AND ?"
        params: list[Any] = [nlo, nhi, lo, hi]
        if len(t) > 3:
            sql += " AND starts_with(sfx, ?)"
            params.append(t)
        return sql, params

    @staticmethod
    def _union(places: list[tuple[int, int]], extra: list[int]) -> Iterator[int]:
        """The household numbers of the places and the extra ones, in order, each once (lazily: a
        place may hold a province)."""
        ranges = (h for a, b in places for h in range(a, b + 1))
        return (h for h, _ in itertools.groupby(heapq.merge(ranges, extra)))

    def _named(self, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows in the shape of :data:`RESULT_COLUMNS`, with village and township names."""
        names = self.index.region_names([r["village_code"] for r in found])
        return [
            {c: r.get(c) for c in RESULT_COLUMNS}
            | dict(zip(("village_name", "township_name"), names[r["village_code"]], strict=True))
            for r in found
        ]

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
        "village_name": row.get("village_name"),
        "township_name": row.get("township_name"),
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

    def _where(
        self, run_id: str, region_prefix: str, filters: AlertFilters | None
    ) -> tuple[str, list[Any], str]:
        """The WHERE clause (and its parameters) of a run's alerts in a region under ``filters``, and
        the prefix of the VALUES list of households it needs (empty when none)."""
        f = filters or AlertFilters()
        lo, hi = code_range(region_prefix)
        where = ["a.run_id = ?", "a.vc BETWEEN ? AND ?", "a.status <> 'cleared'"]
        params: list[Any] = [run_id, lo, hi]
        if f.status:
            where.append("a.status = ?")
            params.append(f.status)
        if f.rule_id:
            where.append("a.rule_id = ?")
            params.append(f.rule_id)
        households = ""
        if f.households is not None:
            if not f.households:
                where.append("false" if not f.exclude else "true")
            else:
                households = "WITH hh(id) AS (SELECT unnest(?::VARCHAR[])) "
                params.insert(0, sorted(f.households))
                where.append(("NOT " if f.exclude else "") + "a.household_id IN (SELECT id FROM hh)")
        return " AND ".join(where), params, households

    def list(
        self,
        *,
        region_prefix: str,
        period: str | None = None,
        limit: int = 50,
        offset: int = 0,
        filters: AlertFilters | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        _, run_id = run_for(self.index.store, period)
        if run_id is None:
            return [], 0
        cur = self.cursor_for(run_id)
        where, params, with_ = self._where(run_id, region_prefix, filters)
        f = filters or AlertFilters()
        total = cur.execute(f"{with_}SELECT count(*) FROM res.alerts a WHERE {where}", params).fetchall()[0][
            0
        ]
        key = ALERT_SORTS.get(f.sort, ALERT_SORTS["default"])
        if f.descending:
            key = ", ".join(f"{k} DESC" for k in key.split(", "))
        items = data.rows(
            cur,
            f"""{with_}SELECT a.*, v.name AS village_name, t.name AS township_name
                FROM res.alerts a
                LEFT JOIN reg.region v ON v.code = a.village_code
                LEFT JOIN reg.region t ON t.code = substr(a.village_code, 1, 9) || '000'
                WHERE {where}
                ORDER BY {key}, a.village_code, a.household_id, a.rule_id
                LIMIT {int(limit)} OFFSET {int(offset)}""",
            params,
        )
        return [_alert(r) for r in items], int(total)

    def facets(
        self,
        *,
        region_prefix: str,
        period: str | None = None,
        filters: AlertFilters | None = None,
        place_prefix: str | None = None,
        county_prefix: str | None = None,
    ) -> dict[str, dict[str, int]]:
        """Counts of the alerts under ``filters`` by each filter left free: status, rule (in
        ``region_prefix``), township and village (in ``place_prefix``; none without it) and, for users
        above a county, county (in ``county_prefix``), each count applying every other filter, so a list
        of choices can show its numbers."""
        _, run_id = run_for(self.index.store, period)
        if run_id is None:
            return {"status": {}, "rule": {}, "township": {}, "village": {}, "county": {}}
        cur = self.cursor_for(run_id)
        f = filters or AlertFilters()
        out: dict[str, dict[str, int]] = {"county": {}}
        out["township"], out["village"] = {}, {}
        for facet, column, free, prefix in (
            ("status", "a.status", dataclasses.replace(f, status=None), region_prefix),
            ("rule", "a.rule_id", dataclasses.replace(f, rule_id=None), region_prefix),
            *(
                [
                    ("township", "substr(a.village_code, 1, 9) || '000'", f, place_prefix),
                    ("village", "a.village_code", f, place_prefix),
                ]
                if place_prefix is not None
                else []
            ),
            *(
                [("county", "substr(a.village_code, 1, 6) || '000000'", f, county_prefix)]
                if county_prefix is not None
                else []
            ),
        ):
            where, params, with_ = self._where(run_id, prefix, free)
            rows = cur.execute(
                f"{with_}SELECT {column} AS k, count(*) FROM res.alerts a WHERE {where} GROUP BY k ORDER BY k",
                params,
            ).fetchall()
            out[facet] = {str(k): int(n) for k, n in rows}
        return out

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
