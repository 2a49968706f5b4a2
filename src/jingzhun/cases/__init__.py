"""Monitoring cases (防止返贫监测): the workflow table, the case service, village notices, time limits,
and the ports through which the pipeline supplies households, alerts and risk checks."""

from jingzhun.cases.ports import (
    AlertSource,
    HouseholdSource,
    InMemoryAlerts,
    InMemoryHouseholds,
    RiskChecks,
    no_risk_checks,
)
from jingzhun.cases.service import CaseInputError, CaseService
from jingzhun.cases.workflow import CHANNELS, MEASURE_TYPES, STATES, TRANSITIONS, Transition

__all__ = [
    "CHANNELS",
    "MEASURE_TYPES",
    "STATES",
    "TRANSITIONS",
    "AlertSource",
    "CaseInputError",
    "CaseService",
    "HouseholdSource",
    "InMemoryAlerts",
    "InMemoryHouseholds",
    "RiskChecks",
    "Transition",
    "no_risk_checks",
]
