"""Shared fixtures. Engine- and store-parametrised fixtures live in the area's own conftest."""

from __future__ import annotations

import os

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
