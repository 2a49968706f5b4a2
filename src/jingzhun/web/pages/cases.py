"""Case list (overdue and follow-up badges, xlsx export) and the case page with the workflow steps the
signed-in role may take now (from :mod:`jingzhun.cases.workflow`), the printable village notice, and the
forms for assistance measures and follow-up visits (checked by :mod:`jingzhun.web.forms`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from jingzhun.api.deps import MAX_ROW, Page, RowId
from jingzhun.api.errors import audit_refusal, status_of
from jingzhun.api.routes_households import get_household
from jingzhun.auth import permissions
from jingzhun.auth.roles import ROLES
from jingzhun.cases import handoff, workflow
from jingzhun.cases.service import OPENING_ROLES
from jingzhun.catalog import ENUMS
from jingzhun.errors import JingzhunError, NotFound, PermissionDenied
from jingzhun.web import forms, i18n
from jingzhun.web.deadline import deadline_view
from jingzhun.web.views import Csrf, Ctx, Ip, PageUser, back, lang_of, render, xlsx_response

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
MEASURE_FIELDS = ("measure_type", "helper", "start_date", "end_date", "amount", "description")
FOLLOW_UP_FIELDS = ("visit_date", "visitor", "findings")
#: the history's entries besides the workflow steps
EVENTS_ZH = {
    "open": "立案",
    "add_measure": "录入帮扶措施",
    "add_follow_up": "录入回访",
    "edit": "修改案件信息",
    **handoff.EVENT_ACTIONS,
    **workflow.ACTIONS,
}
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
    paging: Page,
    state: Annotated[list[str] | None, Query()] = None,
    overdue: str | None = None,
    follow_up_due: str | None = None,
) -> Response:
    items, total = ctx.cases.list_cases(
        principal, ip, **_filters(state, overdue, follow_up_due), limit=paging.limit, offset=paging.offset
    )
    return render(
        request,
        "cases.html",
        title="案件",
        items=items,
        total=total,
        paging=paging,
        states=workflow.STATES,
        chosen=state or [],
        overdue=overdue,
        follow_up_due=follow_up_due,
        query_base=urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "offset"]),
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


#: workflow steps that end or send back a case: styled apart and confirmed before they are sent
DESTRUCTIVE = frozenset(
    {"close", "township_reject", "county_reject", "township_return", "county_return", "withdraw_elimination"}
)


def case_explanations(ctx: Any, case: dict[str, Any]) -> list[dict[str, Any]]:
    """The alerts behind a case with their explanations (rule, period, Chinese and English text): from
    the evidence the monthly run or the alerts page stored on the case, completed with the English
    explanation of the alert where the run is still in the web index."""
    evidence = case.get("evidence") or {}
    period = evidence.get("period")
    entries: list[dict[str, Any]] = []
    if isinstance(evidence.get("alerts"), list):
        entries = [dict(a) for a in evidence["alerts"]]
    elif evidence.get("explanation"):
        rules = case.get("rule_ids") or [None]
        entries = [{"rule_id": rules[0], "explanation": evidence["explanation"]}]
    run_id = evidence.get("run_id") or case.get("run_id")
    for e in entries:
        e["period"] = period
        e["explanation_en"] = None
        if run_id and e.get("rule_id"):
            try:
                alert = ctx.alerts.get(f"{run_id}~{case['household_id']}~{e['rule_id']}")
            except Exception:
                alert = None
            if alert:
                e["explanation_en"] = alert.get("explanation_en")
    return entries


def case_view(
    request: Request,
    principal: Any,
    ctx: Any,
    ip: str | None,
    case_id: int,
    status_code: int = 200,
    **sent: Any,
) -> Response:
    """The case page; ``sent`` carries what a refused measure or follow-up form sent back
    (``measure``/``follow_up``: the values typed, ``measure_errors``/``follow_up_errors``: by field,
    ``form_error``: a refusal of the service)."""
    case = ctx.cases.get_case(principal, ip, case_id)
    steps = [workflow.find(case["state"], a) for a in case["allowed_actions"]]
    assists = (
        ROLES[principal.role].writes
        and principal.role in OPENING_ROLES
        and case["state"] in workflow.MONITORED_STATES
    )
    return render(
        request,
        "case.html",
        status_code=status_code,
        title=f"案件 #{case_id}",
        c=case,
        explanations=case_explanations(ctx, case),
        deadline=deadline_view(case["due_at"], ctx.now(), lang_of(request))
        if case["state"] in workflow.IDENTIFICATION_STATES
        else None,
        notice_left=deadline_view(case["notice_end"], ctx.now(), lang_of(request))
        if case["state"] in workflow.NOTICE_STATES
        else None,
        risk_types=ENUMS["risk_type"],
        editable=ROLES[principal.role].writes
        and principal.role in OPENING_ROLES
        and case["state"] not in workflow.FINAL_STATES,
        destructive=DESTRUCTIVE,
        steps=[s for s in steps if s],
        actions=workflow.ACTIONS,
        events_zh=EVENTS_ZH,
        states=workflow.STATES,
        field_zh=FIELD_ZH,
        monitoring_types=ENUMS["monitoring_type"],
        measure_types=workflow.MEASURE_TYPES,
        in_notice=case["state"] in workflow.NOTICE_STATES,
        writes=ROLES[principal.role].writes,
        assists=assists,
        today=ctx.now().date().isoformat(),
        measure=sent.get("measure") or {},
        measure_errors=sent.get("measure_errors") or {},
        follow_up=sent.get("follow_up") or {},
        follow_up_errors=sent.get("follow_up_errors") or {},
        form_error=sent.get("form_error"),
        form_for=sent.get("form_for"),
    )


@router.get("/cases/new")
def new_case_form(
    request: Request, principal: PageUser, ctx: Ctx, ip: Ip, household: str | None = None
) -> Response:
    permissions.require(principal.role, "case_write", username=principal.username)
    return _new_case_page(request, principal, ctx, ip, household=household)


def _new_case_page(
    request: Request,
    principal: Any,
    ctx: Any,
    ip: str | None,
    *,
    household: str | None,
    sent: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
) -> Response:
    h = get_household(household, principal, ctx, ip, False) if household else None
    return render(
        request,
        "case_new.html",
        status_code=422 if errors or refusal else 200,
        title="新建案件",
        h=h,
        channels={k: v for k, v in workflow.CHANNELS.items() if k != "dept_alert"},
        risk_types=ENUMS["risk_type"],
        sent=sent or {},
        errors=errors or {},
        refusal=refusal,
    )


@router.post("/cases/new", dependencies=[Csrf])
def open_case_by_hand(
    request: Request,
    principal: PageUser,
    ctx: Ctx,
    ip: Ip,
    household: Annotated[str, Form()],
    channel: Annotated[str | None, Form()] = None,
    risk_type: Annotated[str | None, Form()] = None,
    reason: Annotated[str | None, Form()] = None,
) -> Response:
    """Open a case from 农户自主申报 (a household's own application) or 基层干部排查 (a cadre's
    screening): a household, the channel, the risk type and what was reported."""
    permissions.require(principal.role, "case_write", username=principal.username)
    sent = {"channel": channel, "risk_type": risk_type, "reason": reason}
    errors = {}
    if channel not in ("self_report", "cadre_screening"):
        errors["channel"] = "请选择渠道"
    if risk_type not in ENUMS["risk_type"]:
        errors["risk_type"] = "请选择风险类型"
    if not (reason or "").strip():
        errors["reason"] = "请填写申报或排查情况"
    h = get_household(household, principal, ctx, ip, False)
    if errors:
        return _new_case_page(request, principal, ctx, ip, household=household, sent=sent, errors=errors)
    try:
        case = ctx.cases.open_case(
            principal,
            ip,
            household_id=h["household_id"],
            village_code=h["village_code"],
            head_name=h.get("head_name") or "",
            channel=str(channel),
            risk_type=risk_type,
            reason=(reason or "").strip(),
        )
    except (PermissionDenied, NotFound):
        raise  # a refusal of access: the error page (403/404), audited
    except JingzhunError as exc:
        audit_refusal(request, *status_of(exc), str(exc))
        return _new_case_page(request, principal, ctx, ip, household=household, sent=sent, refusal=str(exc))
    _ = i18n.gettext_for(lang_of(request))
    return back(f"/cases/{case['id']}", msg=_("已立案") + f" #{case['id']}")


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: RowId, principal: PageUser, ctx: Ctx, ip: Ip) -> Response:
    return case_view(request, principal, ctx, ip, case_id)


def _refusal(exc: JingzhunError) -> int:
    """The status of a service refusal shown on the form; refusals of access go to the page error
    handler instead (it audits them)."""
    if isinstance(exc, PermissionDenied | NotFound):
        raise exc
    return status_of(exc)[0]


Text = Annotated[str | None, Form()]


@router.post("/cases/{case_id}/measures", dependencies=[Csrf])
def add_measure(
    request: Request,
    case_id: RowId,
    principal: PageUser,
    ctx: Ctx,
    ip: Ip,
    measure_type: Text = None,
    helper: Text = None,
    start_date: Text = None,
    end_date: Text = None,
    amount: Text = None,
    description: Text = None,
) -> Response:
    """Record an assistance measure (帮扶措施): field problems are shown beside the fields (422), a
    refusal of the service (state, stale page) above the form; the service writes the audit row."""
    typed = {k: v for k, v in locals().items() if k in MEASURE_FIELDS and v is not None}
    values, errors = forms.measure_form(typed)
    return _submit_case_item(
        request,
        principal,
        ctx,
        ip,
        case_id,
        "measure",
        typed,
        values,
        errors,
        ctx.cases.add_measure,
        "已录入帮扶措施：{measure_type}",
    )


@router.post("/cases/{case_id}/follow-ups", dependencies=[Csrf])
def add_follow_up(
    request: Request,
    case_id: RowId,
    principal: PageUser,
    ctx: Ctx,
    ip: Ip,
    visit_date: Text = None,
    visitor: Text = None,
    findings: Text = None,
) -> Response:
    """Record a follow-up visit (跟踪回访), checked and shown like a measure."""
    typed = {k: v for k, v in locals().items() if k in FOLLOW_UP_FIELDS and v is not None}
    values, errors = forms.follow_up_form(typed, ctx.now().date())
    return _submit_case_item(
        request,
        principal,
        ctx,
        ip,
        case_id,
        "follow_up",
        typed,
        values,
        errors,
        ctx.cases.add_follow_up,
        "已录入回访：{visit_date}",
    )


def _submit_case_item(
    request: Request,
    principal: Any,
    ctx: Any,
    ip: str | None,
    case_id: int,
    form: str,
    typed: dict[str, Any],
    values: dict[str, Any],
    errors: dict[str, str],
    store: Callable[..., Any],
    message: str,
) -> Response:
    """The end of a measure or follow-up form (``form``): field problems beside the fields (422), a refusal
    of the service above the form, else back to the case with ``message`` (formatted with ``values``)."""
    if errors:
        audit_refusal(request, 422, "invalid", str(errors))
        return case_view(request, principal, ctx, ip, case_id, 422, **{form: typed, f"{form}_errors": errors})
    try:
        store(principal, ip, case_id, **values)
    except JingzhunError as exc:
        status = _refusal(exc)
        audit_refusal(request, status, status_of(exc)[1], str(exc))
        return case_view(request, principal, ctx, ip, case_id, status, **{form: typed},
                         form_error=str(exc), form_for=form)
    return back(f"/cases/{case_id}", msg=message.format(**values))


@router.post("/cases/{case_id}/transition", dependencies=[Csrf])
def transition(
    request: Request,
    case_id: RowId,
    principal: PageUser,
    ctx: Ctx,
    ip: Ip,
    action: Annotated[str, Form()],
    version: Annotated[int, Form(ge=1, le=MAX_ROW)],
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
    except (PermissionDenied, NotFound):
        raise  # a refusal of access: the error page (403/404), audited
    except JingzhunError as exc:
        audit_refusal(request, *status_of(exc), str(exc))  # a refused step is audited like the API's
        return back(f"/cases/{case_id}", err=str(exc))
    _ = i18n.gettext_for(lang_of(request))
    return back(f"/cases/{case_id}", msg=f"{_(workflow.ACTIONS.get(action, action))} → {_(case['state_zh'])}")


@router.post("/cases/{case_id}/edit", dependencies=[Csrf])
def edit_case(
    request: Request,
    case_id: RowId,
    principal: PageUser,
    ctx: Ctx,
    ip: Ip,
    version: Annotated[int, Form(ge=1, le=MAX_ROW)],
    risk_type: Annotated[str | None, Form()] = None,
) -> Response:
    """Set the case's risk type (风险类型: what the village notice and the dashboard's causes show)."""
    _ = i18n.gettext_for(lang_of(request))
    try:
        ctx.cases.edit(principal, ip, case_id, version, {"risk_type": risk_type or None})
    except (PermissionDenied, NotFound):
        raise  # a refusal of access: the error page (403/404), audited
    except JingzhunError as exc:
        audit_refusal(request, *status_of(exc), str(exc))
        return back(f"/cases/{case_id}", err=str(exc))
    return back(f"/cases/{case_id}", msg=_("已保存风险类型"))
