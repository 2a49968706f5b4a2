"""docs/RELIABILITY.md is written by the scripts of ``bench/harden`` (``make harden``): each owns one
``## `` section and replaces only that one, so the figures of other scripts stay as they were."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "RELIABILITY.md"
TITLE = (
    "# Reliability\n\n"
    "Written by `make harden` (the scripts of `bench/harden/`); every figure comes with the command that\n"
    "produced it. Quick variants of the same checks run in `make test`.\n"
)


def write_section(heading: str, body: str, doc: Path = DOC) -> Path:
    """Replace (or append) the section ``## heading`` of ``doc`` with ``body``."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else TITLE
    section = f"## {heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    doc.write_text(text, encoding="utf-8")
    return doc
