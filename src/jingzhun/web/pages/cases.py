"""Case list (overdue and follow-up badges, xlsx export) and the case page with the workflow steps the
signed-in role may take now (from :mod:`jingzhun.cases.workflow`) and the printable village notice."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from jingzhun.auth.roles import ROLES
from jingzhun.cases import workflow
from jingzhun.catalog import ENUMS
from jingzhun.errors import JingzhunError
from jingzhun.web.views import Csrf, Ctx, Ip, PageUser, back, render, xlsx_response

router = APIRouter(include_in_schema=False)

COLUMNS = [
    ("id", "案件编号"),
    ("household_id", "户编号"),
    ("head_name", "户主"),
    ("village_code", "行政村代码"),
    ("channel_zh", "渠道"),
    ("state_zh", "状态"),
    ("risk_type", "风险类型"),
    ("opened_at", "立案时间"),
    ("due_at", "认定期限"),
    ("overdue", "是否超期"),
    ("follow_up_due", "是否应回访"),
]
FIELD_ZH = {
    "reason": "理由",
    "findings": "核实情况",
    "authorisation_ref": "授权书编号",
    "monitoring_type": "监测对象类别",
}


def _filters(state: list[str] | None, overdue: str | None, follow_up_due: str | None) -> dict[str, Any]:
    return {
        "state": [s for s in (state or []) if s in workflow.STATES] or None,
        "overdue": True if overdue else None,
        "follow_up_due": True if follow_up_due else None,
    }


@router.get("/cases")
def cases(
    request: Request,
    principal: PageUser,
    ctx: Ctx,
    ip: Ip,
    state: Annotated[list[str] | None, Query()] = None,
    overdue: str | None = None,
    follow_up_due: str | None = None,
    offset: int = 0,
) -> Response:
    items, total = ctx.cases.list_cases(
        principal, ip, **_filters(state, overdue, follow_up_due), limit=50, offset=max(offset, 0)
    )
    return render(
        request,
        "cases.html",
        title="案件",
        items=items,
        total=total,
        offset=offset,
        states=workflow.STATES,
        chosen=state or [],
        overdue=overdue,
        follow_up_due=follow_up_due,
        query_base=str(request.url.query),
    )


@router.get("/cases.xlsx")
def cases_xlsx(
    principal: PageUser,
    ctx: Ctx,
    ip: Ip,
    state: Annotated[list[str] | None, Query()] = None,
    overdue: str | None = None,
    follow_up_due: str | None = None,
) -> Response:
    items, _ = ctx.cases.list_cases(principal, ip, **_filters(state, overdue, follow_up_due), limit=20000)
    return xlsx_response(ctx, principal, ip, "案件清单", COLUMNS, items, "case", {"state": state})


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: int, principal: PageUser, ctx: Ctx, ip: Ip) -> Response:
    case = ctx.cases.get_case(principal, ip, case_id)
    steps = [workflow.find(case["state"], a) for a in case["allowed_actions"]]
    return render(
        request,
        "case.html",
        title=f"案件 #{case_id}",
        c=case,
        steps=[s for s in steps if s],
        actions=workflow.ACTIONS,
        states=workflow.STATES,
        field_zh=FIELD_ZH,
        monitoring_types=ENUMS["monitoring_type"],
        in_notice=case["state"] in workflow.NOTICE_STATES,
        writes=ROLES[principal.role].writes,
    )


@router.post("/cases/{case_id}/transition", dependencies=[Csrf])
def transition(
    case_id: int,
    principal: PageUser,
    ctx: Ctx,
    ip: Ip,
    action: Annotated[str, Form()],
    version: Annotated[int, Form()],
    reason: Annotated[str | None, Form()] = None,
    findings: Annotated[str | None, Form()] = None,
    authorisation_ref: Annotated[str | None, Form()] = None,
    monitoring_type: Annotated[str | None, Form()] = None,
) -> Response:
    try:
        case = ctx.cases.transition(
            principal,
            ip,
            case_id,
            action,
            version,
            reason=reason,
            findings=findings,
            authorisation_ref=authorisation_ref,
            monitoring_type=monitoring_type or None,
        )
    except JingzhunError as exc:
        return back(f"/cases/{case_id}", err=str(exc))
    return back(f"/cases/{case_id}", msg=f"{workflow.ACTIONS.get(action, action)} → {case['state_zh']}")
