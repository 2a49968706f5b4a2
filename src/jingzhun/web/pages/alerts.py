"""The alerts inbox of the latest run: each alert with its case (opened by the monthly run or by a
click, see :func:`case_of_alert`), or a button to open one (部门筛查预警) when the household has no case
in progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from jingzhun.api.deps import Page, all_pages
from jingzhun.api.errors import audit_refusal, status_of
from jingzhun.api.routes_alerts import list_alerts, open_from_alert
from jingzhun.auth import scope
from jingzhun.auth.roles import ROLES
from jingzhun.cases import workflow
from jingzhun.errors import JingzhunError, NotFound, PermissionDenied
from jingzhun.ops.models import CaseAlert, MonitoringCase
from jingzhun.web.views import Csrf, Ctx, Ip, PageUser, back, render, xlsx_response

router = APIRouter(include_in_schema=False)

COLUMNS = [
    ("household_id", "户编号"),
    ("head_name", "户主"),
    ("village_code", "行政村代码"),
    ("rule_id", "规则"),
    ("status", "状态"),
    ("first_period", "首次预警期次"),
    ("explanation", "预警说明"),
    ("case_id", "案件编号"),
    ("case_state", "案件状态"),
]


def cases_of_households(ctx: Any, principal: Any, household_ids: list[str]) -> dict[str, list[dict]]:
    """Household id → its cases the principal may see (newest first): id, state, channel, run, rules,
    alert id."""
    if not household_ids:
        return {}
    stmt: Any = select(
        MonitoringCase.id,
        MonitoringCase.household_id,
        MonitoringCase.state,
        MonitoringCase.channel,
        MonitoringCase.run_id,
        MonitoringCase.rule_ids,
        MonitoringCase.alert_id,
    ).where(MonitoringCase.household_id.in_(sorted(set(household_ids))))
    out: dict[str, list[dict]] = {}
    with ctx.store.session() as session:
        stmt = scope.scoped_select(stmt, MonitoringCase.village_code, principal)
        for row in session.execute(stmt.order_by(MonitoringCase.id.desc())).mappings():
            c = dict(row) | {"state_zh": workflow.STATES.get(row["state"], row["state"]), "handed": set()}
            c["final"] = row["state"] in workflow.FINAL_STATES
            out.setdefault(row["household_id"], []).append(c)
        by_id = {c["id"]: c for cs in out.values() for c in cs}
        if by_id:
            handed = select(CaseAlert.case_id, CaseAlert.period, CaseAlert.rule_id).where(
                CaseAlert.case_id.in_(sorted(by_id)), CaseAlert.status == "new"
            )
            for case_id, period, rule_id in session.execute(handed):
                by_id[case_id]["handed"].add((period, rule_id))
    return out


def case_of_alert(alert: dict[str, Any], cases: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The case that handles ``alert`` among its household's cases (newest first): the case the monthly
    run handed the alert to when it was new (``case_alert``: opened by it, or noted on the household's
    open case); else the case opened from this alert by hand; else one opened for it by run and rule;
    else one opened for the same rule since the alert first appeared (a persisting alert keeps its case);
    else the household's case in progress, whatever its channel. None when there is none of these.

    >>> a = {"alert_id": "2025-02-b~H1~r1", "run_id": "2025-02-b", "rule_id": "r1", "first_period": "2025-01"}
    >>> c = lambda i, **kw: {"id": i, "final": False, "alert_id": None, "run_id": None, "rule_ids": None,
    ...                      "channel": "dept_alert", "handed": set()} | kw
    >>> case_of_alert(a, [c(9), c(4, channel="self_report", handed={("2025-01", "r1")})])["id"]
    4
    >>> case_of_alert(a, [c(3, run_id="2025-02-b", rule_ids=["r2"]), c(2, run_id="2025-01-a", rule_ids=["r1"])])["id"]
    2
    >>> case_of_alert(a, [c(5, final=True, run_id="2024-12-z", rule_ids=["r1"])]) is None
    True
    """
    rule = alert.get("rule_id")
    first = alert.get("first_period") or alert.get("period") or ""
    for c in cases:
        if (first, rule) in c.get("handed", ()):
            return c
    for c in cases:
        if c["alert_id"] and c["alert_id"] == alert["alert_id"]:
            return c
    for c in cases:
        if c["run_id"] == alert.get("run_id") and rule in (c["rule_ids"] or []):
            return c
    for c in cases:
        if (
            c["channel"] == "dept_alert"
            and rule in (c["rule_ids"] or [])
            and (c["run_id"] or "")[:7] >= first
        ):
            return c
    return next((c for c in cases if not c["final"]), None)


@router.get("/alerts")
def alerts(
    request: Request, principal: PageUser, ctx: Ctx, ip: Ip, paging: Page, period: str | None = None
) -> Response:
    found = list_alerts(principal, ctx, ip, paging, period or None, None)
    by_household = cases_of_households(ctx, principal, [a["household_id"] for a in found["items"]])
    cases = {a["alert_id"]: case_of_alert(a, by_household.get(a["household_id"], [])) for a in found["items"]}
    in_progress = {h for h, cs in by_household.items() if any(not c["final"] for c in cs)}
    return render(
        request,
        "alerts.html",
        title="预警",
        found=found,
        cases=cases,
        in_progress=in_progress,
        period=period or "",
        writes=ROLES[principal.role].writes,
    )


@router.get("/alerts.xlsx")
def alerts_xlsx(principal: PageUser, ctx: Ctx, ip: Ip, period: str | None = None) -> Response:
    items = all_pages(lambda paging: list_alerts(principal, ctx, ip, paging, period or None, None))
    by_household = cases_of_households(ctx, principal, [a["household_id"] for a in items])
    for a in items:
        c = case_of_alert(a, by_household.get(a["household_id"], []))
        a["case_id"], a["case_state"] = (c["id"], c["state_zh"]) if c else (None, None)
    return xlsx_response(ctx, principal, ip, "预警清单", COLUMNS, items, "alert", {"period": period})


@router.post("/alerts/{alert_id}/case", dependencies=[Csrf])
def open_case(request: Request, alert_id: str, principal: PageUser, ctx: Ctx, ip: Ip) -> Response:
    try:
        case = open_from_alert(alert_id, principal, ctx, ip)
    except (PermissionDenied, NotFound):
        raise  # a refusal of access: the error page (403/404), audited
    except JingzhunError as exc:
        audit_refusal(request, *status_of(exc), str(exc))
        return back("/alerts", err=str(exc))
    return back(f"/cases/{case['id']}", msg=f"已立案 #{case['id']} / case opened")
