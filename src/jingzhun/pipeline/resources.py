"""The engine resources of a monthly run (threads, memory limit, spill folder) from the settings.

>>> from jingzhun.settings import Settings
>>> engine_resources("duckdb", Settings(data="/d", memory_limit="12GiB"), threads=2)
{'threads': 2, 'memory_limit': '12GiB', 'temp_directory': '/d/spill'}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jingzhun.engines.factory import engine_class
from jingzhun.settings import Settings


def engine_resources(
    engine_name: str,
    settings: Settings,
    *,
    threads: int | None = None,
    memory_limit: str | None = None,
    temp_directory: str | Path | None = None,
) -> dict[str, Any]:
    """Constructor options for engine ``engine_name``: the arguments given, else the settings
    (``JINGZHUN_THREADS``, ``JINGZHUN_MEMORY_LIMIT``, ``JINGZHUN_TEMP_DIRECTORY``), limited to the options
    the engine takes (``Engine.RESOURCE_OPTIONS``)."""
    wanted = {
        "threads": threads or settings.threads,
        "memory_limit": memory_limit or settings.memory_limit,
        "temp_directory": str(temp_directory or settings.spill_directory),
    }
    accepted = engine_class(engine_name).RESOURCE_OPTIONS
    return {k: v for k, v in wanted.items() if k in accepted and v is not None}
