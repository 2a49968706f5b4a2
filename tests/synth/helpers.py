"""Helpers for the synth tests."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv


def read_csv(path: Path, encoding: str = "utf-8-sig") -> pa.Table:
    """A generated csv with every column as text (as ingest would see it)."""
    text = path.read_bytes().decode(encoding)
    header = text.split("\n", 1)[0].lstrip("\ufeff").split(",")
    return pacsv.read_csv(
        io.BytesIO(text.lstrip("\ufeff").encode("utf-8")),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True
        ),
    )
