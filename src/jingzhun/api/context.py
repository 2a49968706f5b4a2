"""What the API needs at run time, held on ``app.state.jz``: settings, the store, the case service and
the ports the pipeline fills (households, alerts, risk checks, region names)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from jingzhun.cases.ports import AlertSource, HouseholdSource, InMemoryAlerts, InMemoryHouseholds, RiskChecks
from jingzhun.cases.service import CaseService
from jingzhun.ops.db import OpsStore
from jingzhun.ops.models import utcnow
from jingzhun.settings import Settings

RegionNames = Callable[[str], str | None]


def _no_names(code: str) -> str | None:
    return None


@dataclass
class AppContext:
    settings: Settings
    store: OpsStore
    risk_checks: RiskChecks
    households: HouseholdSource = field(default_factory=InMemoryHouseholds)
    alerts: AlertSource = field(default_factory=InMemoryAlerts)
    region_names: RegionNames = _no_names
    clock: Callable[[], dt.datetime] = utcnow

    def __post_init__(self) -> None:
        # the service reads the clock through the context, so tests can move time for both
        self.cases = CaseService(
            self.store, self.settings, lambda hid: self.risk_checks(hid), lambda: self.clock()
        )

    def now(self) -> dt.datetime:
        return self.clock()
