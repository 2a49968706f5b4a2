"""Warnings about a rule's time semantics (docs/DOMAIN.md "Time"), for ``jingzhun policy check``.

The language already refuses ``this month`` (it would lose records delivered late). What it cannot
refuse, because it is sometimes meant, is warned about:

* a trigger or monitoring rule that counts or sums an event feed with no window: every record ever
  received counts, so its alert fires every month once it has fired and never clears;
* ``latest()`` over an event feed inside a ``new`` window: the latest of the records received this
  period is not the subject's state.

>>> from jingzhun.policy.loader import load_text
>>> ps = load_text('''
... rules:
...   - id: trigger.x
...     kind: trigger
...     entity: person
...     when: count(disability_cert where disability_cert.cert_status == '新办') > 0
... ''', "x.yaml")
>>> [w.split(": ", 1)[1] for w in time_warnings(ps)]  # doctest: +ELLIPSIS
["rule trigger.x counts every disability_cert record ever received (no window): ..."]
"""

from __future__ import annotations

from jingzhun.policy import schema
from jingzhun.policy.checker import check_rule
from jingzhun.policy.model import PolicySet
from jingzhun.policy.nodes import Agg


def time_warnings(ps: PolicySet) -> list[str]:
    """One line per doubtful use of time, ``location: message``, in rule id order."""
    out: list[str] = []
    for rid in sorted(ps.rules):
        rule = ps.rules[rid]
        checked = check_rule(ps, rule)
        roots = [checked.when, *(n for _, n in checked.lets)]
        seen: set[str] = set()
        for root in roots:
            for n in root.walk():
                if not isinstance(n, Agg) or n.source not in schema.FEEDS:
                    continue
                message = _doubt(rid, rule.kind, n)
                if message and message not in seen:
                    seen.add(message)
                    out.append(f"{rule.location}: {message}")
    return out


def _doubt(rid: str, kind: str, agg: Agg) -> str | None:
    alerting = kind in ("trigger", "monitor")  # conflicts and tags may rightly hold for ever
    if alerting and agg.window.unit == "all" and agg.func != "latest" and agg.source in schema.EVENT_FEEDS:
        return (
            f"rule {rid} counts every {agg.source} record ever received (no window): once it fires it "
            "fires every month; use 'new' for events received in the period, or 'last N months'"
        )
    if agg.func == "latest" and agg.window.unit == "new":
        return (
            f"rule {rid} takes latest({agg.source}) among the records received in the period only; "
            "a state is what the latest record of all says (drop 'new')"
        )
    return None
