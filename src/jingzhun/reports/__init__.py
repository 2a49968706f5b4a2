"""Figures for dashboards and printable reports (pure functions over DuckDB in-memory connections
reading the registry and a run's Parquet, scoped by region prefix), xlsx exports, and Parquet-backed
ports for households and alerts."""

from jingzhun.reports.data import attach_run, connect, latest_period
from jingzhun.reports.sources import ParquetAlerts, ParquetHouseholds, RegistryCache
from jingzhun.reports.xlsx import to_xlsx

__all__ = [
    "ParquetAlerts",
    "ParquetHouseholds",
    "RegistryCache",
    "attach_run",
    "connect",
    "latest_period",
    "to_xlsx",
]
