"""The list of shipped rules as Markdown (docs/POLICIES.md is generated from the policy files by
``jingzhun policy docs`` and kept honest by a test).

>>> from jingzhun.policy.loader import load_text
>>> ps = load_text('''
... rules:
...   - {id: tag.x, kind: tag, entity: household, when: "true", title: {zh: 甲, en: A}}
... ''', "x.yaml")
>>> rules_markdown(ps).splitlines()[-1]
'| `tag.x` | tag | household | 甲 — A | registry as extracted | x.yaml |'
"""

from __future__ import annotations

import os
from pathlib import Path

from jingzhun.policy import schema
from jingzhun.policy.checker import check_rule
from jingzhun.policy.model import KINDS, PolicySet, Rule
from jingzhun.policy.nodes import Agg


def _file(ps: PolicySet, file: str | None) -> str:
    if not file or not ps.root or not Path(ps.root).is_dir():
        return file or ""
    return Path(os.path.relpath(Path(file).resolve(), Path(ps.root).resolve().parent)).as_posix()


HEADER = """# Shipped policies

Generated from `policies/` by `jingzhun policy docs`; do not edit by hand (a test compares it with the
files). Rule ids are stable: other parts of Jingzhun (cases, alerts, reports) refer to them.

The column *time* says which records each rule reads and when they count (docs/DOMAIN.md "Time",
docs/POLICY_LANGUAGE.md "Time"): **event, new** — records received in the period being evaluated and
dated at most `record_grace_months` (GRACE) months before it, so each event counts once, in the first run
that receives it, however late; **state, latest** — what the latest record by date says, holding until a
newer record changes it; **window** — records by their own date within the window, over everything
received so far (a late record raises the sum when it arrives); registry fields are as extracted (household
size follows 公安 events between extracts).

| rule id | kind | entity | title | time | file |
| --- | --- | --- | --- | --- | --- |
"""


def _window_words(agg: Agg) -> str:
    w = agg.window
    if agg.func == "latest":
        return f"state, latest `{agg.source}`"
    if w.unit == "new":
        return f"event, new `{agg.source}`"
    if w.unit == "all":
        return f"every `{agg.source}` record"
    return f"window `{agg.source}` {w}"


def time_semantics(ps: PolicySet, rule: Rule) -> str:
    """How a rule's feed aggregations treat time, in words (rules that read only the registry and other
    rules say so)."""
    checked = check_rule(ps, rule)
    roots = [checked.when, *(n for _, n in checked.lets)]
    if checked.applies is not None:
        roots.append(checked.applies)
    words: list[str] = []
    for root in roots:
        for n in root.walk():
            if isinstance(n, Agg) and n.source in schema.FEEDS:
                text = _window_words(n)
                if text not in words:
                    words.append(text)
    if not words:
        return "rules: " + ", ".join(sorted(checked.deps)) if checked.deps else "registry as extracted"
    return "; ".join(words)


def rules_markdown(ps: PolicySet) -> str:
    rows = sorted(ps.rules.values(), key=lambda r: (KINDS.index(r.kind), r.id))
    grace = ps.params.get(schema.GRACE_PARAM)
    header = HEADER.replace("GRACE", str(grace.for_period("2100-01")[0]) if grace is not None else "3")
    lines = [
        f"| `{r.id}` | {r.kind} | {r.entity} | {r.title_zh} — {r.title_en} | {time_semantics(ps, r)} "
        f"| {_file(ps, r.file)} |"
        for r in rows
    ]
    return header + "\n".join(lines)
