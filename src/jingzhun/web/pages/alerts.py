"""The alerts inbox of the latest run: open a case (部门筛查预警) from an alert, or go to the open case
of the household."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from jingzhun.api.deps import Paging
from jingzhun.api.routes_alerts import list_alerts, open_from_alert
from jingzhun.auth import scope
from jingzhun.auth.roles import ROLES
from jingzhun.cases import workflow
from jingzhun.errors import JingzhunError
from jingzhun.ops.models import MonitoringCase
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
]


def open_cases(ctx: Any, principal: Any, household_ids: list[str]) -> dict[str, int]:
    """Household id → id of its open (not final) case, among the cases the principal may see."""
    if not household_ids:
        return {}
    stmt: Any = select(MonitoringCase.household_id, MonitoringCase.id).where(
        MonitoringCase.household_id.in_(household_ids), MonitoringCase.state.not_in(workflow.FINAL_STATES)
    )
    with ctx.store.session() as session:
        return dict(session.execute(scope.scoped_select(stmt, MonitoringCase.village_code, principal)).all())


@router.get("/alerts")
def alerts(
    request: Request, principal: PageUser, ctx: Ctx, ip: Ip, period: str | None = None, offset: int = 0
) -> Response:
    found = list_alerts(principal, ctx, ip, Paging(50, max(offset, 0)), period or None, None)
    cases = open_cases(ctx, principal, [a["household_id"] for a in found["items"]])
    return render(
        request,
        "alerts.html",
        title="预警",
        found=found,
        cases=cases,
        period=period or "",
        writes=ROLES[principal.role].writes,
    )


@router.get("/alerts.xlsx")
def alerts_xlsx(principal: PageUser, ctx: Ctx, ip: Ip, period: str | None = None) -> Response:
    items: list[dict[str, Any]] = []
    while True:
        found = list_alerts(principal, ctx, ip, Paging(500, len(items)), period or None, None)
        items += found["items"]
        if not found["items"] or len(items) >= found["total"] or len(items) >= 20000:
            break
    return xlsx_response(ctx, principal, ip, "预警清单", COLUMNS, items, "alert", {"period": period})


@router.post("/alerts/{alert_id}/case", dependencies=[Csrf])
def open_case(alert_id: str, principal: PageUser, ctx: Ctx, ip: Ip) -> Response:
    try:
        case = open_from_alert(alert_id, principal, ctx, ip)
    except JingzhunError as exc:
        return back("/alerts", err=str(exc))
    return back(f"/cases/{case['id']}", msg=f"已立案 #{case['id']} / case opened")
