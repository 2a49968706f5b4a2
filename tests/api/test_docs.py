"""docs/API.md names every endpoint the application serves."""

from __future__ import annotations

import re
from pathlib import Path

from jingzhun.settings import Settings
from jingzhun.web.app import create_app

DOC = Path(__file__).parents[2] / "docs" / "API.md"


def _norm(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_every_route_is_documented(tmp_path):
    app = create_app(Settings(data=tmp_path))
    doc = _norm(DOC.read_text(encoding="utf-8"))
    missing = []
    for path, methods in app.openapi()["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        short = _norm(path.removeprefix("/api/v1"))
        for method in methods:
            if f"{method.upper()} {short}" not in doc:
                missing.append(f"{method.upper()} {short}")
    assert missing == []
