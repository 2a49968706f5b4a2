"""The monitoring-case workflow as data: states and one table of transitions with who may take each.

The service (:mod:`jingzhun.cases.service`) looks a step up here, checks the role, the required fields
and the named guards, applies the named effects and writes a ``case_event`` row. docs/WORKFLOW.md shows
the same table; ``python -m jingzhun.cases.workflow`` prints it as Markdown.

>>> find("clue", "record_visit").target
'home_visited'
>>> sorted(t.action for t in available("county_review", "county"))
['county_confirm', 'county_reject', 'county_return']
"""

from __future__ import annotations

from dataclasses import dataclass

CHANNELS: dict[str, str] = {
    "self_report": "农户自主申报",
    "cadre_screening": "基层干部排查",
    "dept_alert": "部门筛查预警",
}

STATES: dict[str, str] = {
    "clue": "线索",
    "home_visited": "已入户核实",
    "in_notice": "民主评议、村内公示中",
    "township_review": "待乡镇初审",
    "county_review": "待县级审定",
    "monitored": "监测对象",
    "assisting": "帮扶中",
    "elim_proposed": "风险消除申请",
    "elim_visited": "风险消除已入户核实",
    "elim_notice": "风险消除公示中",
    "elim_township_review": "风险消除待乡镇初审",
    "elim_county_review": "风险消除待县级审定",
    "eliminated": "风险已消除",
    "closed": "已关闭（不纳入监测）",
}

#: states counted against the time limit from first clue to county confirmation
IDENTIFICATION_STATES = ("clue", "home_visited", "in_notice", "township_review", "county_review")
#: states of a confirmed monitoring object: measures and follow-ups apply, follow-ups are due
MONITORED_STATES = (
    "monitored",
    "assisting",
    "elim_proposed",
    "elim_visited",
    "elim_notice",
    "elim_township_review",
    "elim_county_review",
)
NOTICE_STATES = ("in_notice", "elim_notice")
FINAL_STATES = ("eliminated", "closed")

MEASURE_TYPES = ("产业", "就业", "教育", "健康", "住房", "饮水", "兜底保障", "消费帮扶", "金融", "其他")

ACTIONS: dict[str, str] = {
    "record_visit": "入户核实",
    "start_notice": "民主评议并开始村内公示",
    "submit_to_township": "公示期满报乡镇初审",
    "township_approve": "乡镇初审通过",
    "township_return": "乡镇退回",
    "township_reject": "乡镇初审不通过",
    "county_confirm": "县级审定通过",
    "county_return": "县级退回",
    "county_reject": "县级审定不通过",
    "close": "核实不符合条件，关闭",
    "start_assistance": "落实帮扶措施",
    "propose_elimination": "提出风险消除",
    "withdraw_elimination": "撤回风险消除",
}


@dataclass(frozen=True)
class Transition:
    """One allowed step. ``requires``: fields the request must carry (or the case already holds, for
    ``monitoring_type``); ``guards``: named conditions checked by the service; ``effects``: named changes
    the service applies besides moving to ``target``."""

    source: str
    action: str
    target: str
    roles: tuple[str, ...]
    requires: tuple[str, ...] = ()
    guards: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()


T = Transition
VIL, TWN, CTY = "village", "township", "county"

TRANSITIONS: tuple[Transition, ...] = (
    # identification (识别纳入)
    T("clue", "record_visit", "home_visited", (VIL, TWN), ("authorisation_ref", "findings"), (), ("visit",)),
    T("clue", "close", "closed", (VIL, TWN), ("reason",), (), ("close",)),
    T("home_visited", "start_notice", "in_notice", (VIL,), ("monitoring_type",), (), ("notice",)),
    T("home_visited", "close", "closed", (VIL, TWN), ("reason",), (), ("close",)),
    T("in_notice", "submit_to_township", "township_review", (VIL,), (), ("notice_elapsed",)),
    T("in_notice", "close", "closed", (VIL, TWN), ("reason",), (), ("close",)),
    T("township_review", "township_approve", "county_review", (TWN,)),
    T("township_review", "township_return", "home_visited", (TWN,), ("reason",)),
    T("township_review", "township_reject", "closed", (TWN,), ("reason",), (), ("close",)),
    T("county_review", "county_confirm", "monitored", (CTY,), ("monitoring_type",), (), ("confirm",)),
    T("county_review", "county_return", "township_review", (CTY,), ("reason",)),
    T("county_review", "county_reject", "closed", (CTY,), ("reason",), (), ("close",)),
    # assistance (帮扶)
    T("monitored", "start_assistance", "assisting", (VIL, TWN), (), ("has_measure",)),
    # risk elimination (风险消除): same check, notice and county approval
    T(
        "assisting",
        "propose_elimination",
        "elim_proposed",
        (VIL, TWN),
        (),
        ("followed_up", "risk_checks_pass"),
    ),
    T("elim_proposed", "record_visit", "elim_visited", (VIL, TWN), ("findings",), (), ("visit",)),
    T("elim_visited", "start_notice", "elim_notice", (VIL,), (), (), ("notice",)),
    T("elim_notice", "submit_to_township", "elim_township_review", (VIL,), (), ("notice_elapsed",)),
    T("elim_township_review", "township_approve", "elim_county_review", (TWN,)),
    T("elim_township_review", "township_return", "assisting", (TWN,), ("reason",)),
    T(
        "elim_county_review",
        "county_confirm",
        "eliminated",
        (CTY,),
        (),
        ("risk_checks_pass",),
        ("eliminate",),
    ),
    T("elim_county_review", "county_return", "assisting", (CTY,), ("reason",)),
    T("elim_proposed", "withdraw_elimination", "assisting", (VIL, TWN), ("reason",)),
    T("elim_visited", "withdraw_elimination", "assisting", (VIL, TWN), ("reason",)),
    T("elim_notice", "withdraw_elimination", "assisting", (VIL, TWN), ("reason",)),
)

_INDEX = {(t.source, t.action): t for t in TRANSITIONS}


def find(state: str, action: str) -> Transition | None:
    """The transition for ``action`` from ``state``, or None when the workflow has no such step."""
    return _INDEX.get((state, action))


def available(state: str, role: str) -> list[Transition]:
    """Steps a user with ``role`` may take from ``state``."""
    return [t for t in TRANSITIONS if t.source == state and role in t.roles]


def markdown_table() -> str:
    """The transition table as Markdown (for docs/WORKFLOW.md)."""
    lines = [
        "| from | action | to | who | requires | guards | effects |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for t in TRANSITIONS:
        cells = [
            f"{t.source} {STATES[t.source]}",
            f"`{t.action}` {ACTIONS[t.action]}",
            f"{t.target} {STATES[t.target]}",
            ", ".join(t.roles),
            ", ".join(t.requires) or "—",
            ", ".join(t.guards) or "—",
            ", ".join(t.effects) or "—",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _check_table() -> None:
    for t in TRANSITIONS:
        assert t.source in STATES and t.target in STATES and t.action in ACTIONS, t
    assert len(_INDEX) == len(TRANSITIONS), "two transitions share a (state, action)"


_check_table()

if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.stdout.write(markdown_table() + "\n")
