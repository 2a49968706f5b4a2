"""Ports through which cases and the API reach data they do not own, with in-memory fakes.

The pipeline connects the real ones: a :class:`HouseholdSource` over the Parquet registry, an
:class:`AlertSource` over a run's alerts, and a :data:`RiskChecks` callable over the latest run's policy
checks. Every method receives the caller's region prefix (from :mod:`jingzhun.auth.scope`) so a source
never returns rows outside it.

Record shapes (plain dicts, canonical catalogue names):

- household: ``household_id``, ``village_code``, ``head_name``, ``household_type``, ``monitoring_type``,
  ... and ``members``: a list of member dicts (``person_id``, ``name``, ``id_number``, ``relation``,
  ``health`` ...). Keys named ``id_number`` are masked by the API unless the caller may unmask.
- alert: ``alert_id``, ``run_id``, ``period``, ``household_id``, ``village_code``, ``head_name``,
  ``rule_ids`` (list), ``evidence`` (dict), ``explanation`` (text), ``risk_type`` (optional).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

Record = dict[str, Any]

#: ``risk_checks_pass(household_id) -> (passed, details)``: the exit/risk-elimination checks of the
#: latest run for one household.
RiskChecks = Callable[[str], tuple[bool, Any]]


class HouseholdSource(Protocol):
    def get(self, household_id: str) -> Record | None:
        """One household with its members, or None."""
        ...

    def search(
        self, *, region_prefix: str, text: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[Record], int]:
        """Households whose village code starts with ``region_prefix`` (and whose id or head's name
        contains ``text``): one page and the total count."""
        ...


class AlertSource(Protocol):
    def get(self, alert_id: str) -> Record | None: ...

    def list(
        self,
        *,
        region_prefix: str,
        period: str | None = None,
        limit: int = 50,
        offset: int = 0,
        filters: Any = None,
    ) -> tuple[list[Record], int]: ...


def no_risk_checks(household_id: str) -> tuple[bool, Any]:
    """The default until the pipeline is connected: nothing passes, so no risk is ever eliminated blindly."""
    return False, "尚未接入监测运行结果 / no run results are connected to check this household"


class InMemoryHouseholds:
    """A :class:`HouseholdSource` over a list of household dicts (tests, demos)."""

    def __init__(self, households: Iterable[Record] = ()):
        self._rows = {h["household_id"]: h for h in households}

    def get(self, household_id: str) -> Record | None:
        return self._rows.get(household_id)

    def search(
        self, *, region_prefix: str, text: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[Record], int]:
        hits = [
            h
            for h in self._rows.values()
            if str(h.get("village_code", "")).startswith(region_prefix)
            and (not text or text in h["household_id"] or text in str(h.get("head_name", "")))
        ]
        hits.sort(key=lambda h: h["household_id"])
        return hits[offset : offset + limit], len(hits)


class InMemoryAlerts:
    """An :class:`AlertSource` over a list of alert dicts (tests, demos)."""

    def __init__(self, alerts: Iterable[Record] = ()):
        self._rows = {a["alert_id"]: a for a in alerts}

    def get(self, alert_id: str) -> Record | None:
        return self._rows.get(alert_id)

    def list(
        self,
        *,
        region_prefix: str,
        period: str | None = None,
        limit: int = 50,
        offset: int = 0,
        filters: Any = None,
    ) -> tuple[list[Record], int]:
        hits = [
            a
            for a in self._rows.values()
            if str(a.get("village_code", "")).startswith(region_prefix)
            and (period is None or a.get("period") == period)
            and (filters is None or not filters.status or a.get("status") == filters.status)
            and (filters is None or not filters.rule_id or a.get("rule_id") == filters.rule_id)
        ]
        hits.sort(key=lambda a: a["alert_id"])
        return hits[offset : offset + limit], len(hits)
