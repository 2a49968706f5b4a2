"""Figures for dashboards and printable reports, the web's read index (DuckDB files built once per
version of the data, :mod:`jingzhun.reports.index`), the households and alerts ports over it, xlsx
exports and what-if over a data folder."""

from jingzhun.reports.index import WebIndex
from jingzhun.reports.sources import IndexedAlerts, IndexedHouseholds
from jingzhun.reports.xlsx import to_xlsx

__all__ = ["IndexedAlerts", "IndexedHouseholds", "WebIndex", "to_xlsx"]
