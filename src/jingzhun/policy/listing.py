"""The list of shipped rules as Markdown (docs/POLICIES.md is generated from the policy files by
``jingzhun policy docs`` and kept honest by a test).

>>> from jingzhun.policy.loader import load_text
>>> ps = load_text('''
... rules:
...   - {id: tag.x, kind: tag, entity: household, when: "true", title: {zh: 甲, en: A}}
... ''', "x.yaml")
>>> rules_markdown(ps).splitlines()[-1]
'| `tag.x` | tag | household | 甲 — A | x.yaml |'
"""

from __future__ import annotations

import os
from pathlib import Path

from jingzhun.policy.model import KINDS, PolicySet


def _file(ps: PolicySet, file: str | None) -> str:
    if not file or not ps.root or not Path(ps.root).is_dir():
        return file or ""
    return Path(os.path.relpath(Path(file).resolve(), Path(ps.root).resolve().parent)).as_posix()


HEADER = """# Shipped policies

Generated from `policies/` by `jingzhun policy docs`; do not edit by hand (a test compares it with the
files). Rule ids are stable: other parts of Jingzhun (cases, alerts, reports) refer to them.

| rule id | kind | entity | title | file |
| --- | --- | --- | --- | --- |
"""


def rules_markdown(ps: PolicySet) -> str:
    rows = sorted(ps.rules.values(), key=lambda r: (KINDS.index(r.kind), r.id))
    lines = [
        f"| `{r.id}` | {r.kind} | {r.entity} | {r.title_zh} — {r.title_en} | {_file(ps, r.file)} |"
        for r in rows
    ]
    return HEADER + "\n".join(lines)
