"""Shared fixtures. Engine- and store-parametrised fixtures live in the area's own conftest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

_ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``pytest -n N --dist loadgroup`` (``make test``), each area's tests (``tests/<area>``, the
    doctests of ``src``) run on one worker, so an area's session fixtures (a synthetic county, a Spark
    session, a browser) are built once."""
    for item in items:
        try:
            parts = Path(item.path).resolve().relative_to(_ROOT).parts
        except ValueError:
            continue
        area = parts[1] if parts[0] == "tests" and len(parts) > 2 else parts[0]
        item.add_marker(pytest.mark.xdist_group(area))
