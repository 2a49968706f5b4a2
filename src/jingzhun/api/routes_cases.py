"""Cases: list, open, read, edit, take workflow steps, measures, follow-ups, village notices, the table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from jingzhun.api.context import AppContext
from jingzhun.api.deps import MAX_ROW, ClientIp, Ctx, CurrentUser, Page, RowId, page
from jingzhun.cases import notice, workflow
from jingzhun.errors import WorkflowError
from jingzhun.regions import normalise_code

router = APIRouter(tags=["cases"])
TEXT = 4000  # free text (reasons, findings, descriptions)
NOTICE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'"


class OpenCase(BaseModel):
    household_id: str = Field(min_length=1, max_length=40)
    village_code: str = Field(pattern=r"^\d{12}$", description="12-digit village code")
    head_name: str = Field(min_length=1, max_length=100, description="户主姓名")
    channel: Literal["self_report", "cadre_screening", "dept_alert"]
    risk_type: str | None = Field(None, max_length=40, description="风险类型 (catalogue enum risk_type)")
    reason: str | None = Field(
        None, max_length=TEXT, description="free text for officers; never printed on a notice"
    )
    monitoring_type: str | None = Field(None, max_length=20)
    run_id: str | None = Field(None, max_length=40)
    rule_ids: list[Annotated[str, Field(max_length=80)]] | None = Field(None, max_length=100)
    evidence: dict[str, Any] | None = None


class TransitionRequest(BaseModel):
    action: str = Field(max_length=40, description="a step of the workflow table, e.g. record_visit")
    version: int = Field(ge=1, le=MAX_ROW, description="the case version you read (optimistic locking)")
    reason: str | None = Field(None, max_length=TEXT)
    findings: str | None = Field(None, max_length=TEXT)
    authorisation_ref: str | None = Field(
        None, max_length=200, description="reference of the signed authorisation (授权书)"
    )
    monitoring_type: str | None = Field(None, max_length=20)


class EditCase(BaseModel):
    version: int = Field(ge=1, le=MAX_ROW, description="the case version you read (optimistic locking)")
    head_name: str | None = Field(None, min_length=1, max_length=100)
    risk_type: str | None = Field(None, max_length=40)
    reason: str | None = Field(None, max_length=TEXT)
    monitoring_type: str | None = Field(None, max_length=20)


class MeasureRequest(BaseModel):
    measure_type: str = Field(
        max_length=20,
        description=", ".join(workflow.MEASURE_TYPES),
        json_schema_extra={"enum": list(workflow.MEASURE_TYPES)},
    )
    helper: str = Field(min_length=1, max_length=100, description="帮扶责任人")
    start_date: dt.date
    end_date: dt.date | None = None
    amount: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2, description="yuan")
    description: str | None = Field(None, max_length=TEXT)


class FollowUpRequest(BaseModel):
    visit_date: dt.date
    visitor: str = Field(min_length=1, max_length=100)
    findings: str = Field(min_length=1, max_length=TEXT)


@router.get("/workflow", summary="States, steps and who may take them")
def get_workflow(principal: CurrentUser) -> dict:
    return {
        "states": workflow.STATES,
        "channels": workflow.CHANNELS,
        "actions": workflow.ACTIONS,
        "measure_types": list(workflow.MEASURE_TYPES),
        "transitions": [t.__dict__ for t in workflow.TRANSITIONS],
    }


@router.get("/cases", summary="Cases in your region (paged, filtered; overdue flags computed in SQL)")
def list_cases(
    principal: CurrentUser,
    ctx: Ctx,
    ip: ClientIp,
    paging: Page,
    state: Annotated[list[str] | None, Query(description="one or more states")] = None,
    region: Annotated[str | None, Query(description="region code inside your scope")] = None,
    channel: str | None = None,
    household_id: str | None = None,
    overdue: bool | None = None,
    follow_up_due: bool | None = None,
) -> dict:
    items, total = ctx.cases.list_cases(
        principal,
        ip,
        state=state,
        region=region,
        channel=channel,
        household_id=household_id,
        overdue=overdue,
        follow_up_due=follow_up_due,
        limit=paging.limit,
        offset=paging.offset,
    )
    return page(items, total, paging)


@router.post("/cases", status_code=201, summary="Open a case (线索) through one of three channels")
def open_case(body: OpenCase, principal: CurrentUser, ctx: Ctx, ip: ClientIp) -> dict:
    return ctx.cases.open_case(principal, ip, **body.model_dump())


@router.get("/cases/{case_id}", summary="A case with measures, follow-ups, history and your next steps")
def get_case(case_id: RowId, principal: CurrentUser, ctx: Ctx, ip: ClientIp) -> dict:
    return ctx.cases.get_case(principal, ip, case_id)


@router.patch("/cases/{case_id}", summary="Edit descriptive fields (needs the version you read)")
def edit_case(case_id: RowId, body: EditCase, principal: CurrentUser, ctx: Ctx, ip: ClientIp) -> dict:
    changes = body.model_dump(exclude={"version"}, exclude_unset=True)
    return ctx.cases.edit(principal, ip, case_id, body.version, changes)


@router.post("/cases/{case_id}/transitions", summary="Take a workflow step (needs the version you read)")
def transition(case_id: RowId, body: TransitionRequest, principal: CurrentUser, ctx: Ctx, ip: ClientIp) -> dict:
    fields = body.model_dump(exclude={"action", "version"})
    return ctx.cases.transition(principal, ip, case_id, body.action, body.version, **fields)


@router.post("/cases/{case_id}/measures", status_code=201, summary="Record an assistance measure")
def add_measure(case_id: RowId, body: MeasureRequest, principal: CurrentUser, ctx: Ctx, ip: ClientIp) -> dict:
    return ctx.cases.add_measure(principal, ip, case_id, **body.model_dump())


@router.post("/cases/{case_id}/follow-ups", status_code=201, summary="Record a follow-up visit")
def add_follow_up(
    case_id: RowId, body: FollowUpRequest, principal: CurrentUser, ctx: Ctx, ip: ClientIp
) -> dict:
    return ctx.cases.add_follow_up(principal, ip, case_id, **body.model_dump())


@router.get(
    "/notices/{village_code}",
    summary="The village notice (公示) as printable HTML or xlsx",
    response_class=HTMLResponse,
)
def village_notice(
    village_code: Annotated[str, Path(pattern=r"^\d{6,12}$", description="village code (12 digits)")],
    principal: CurrentUser,
    ctx: Ctx,
    ip: ClientIp,
    format: Literal["html", "xlsx"] = "html",
) -> Response:
    code = normalise_code(village_code)
    return _render(ctx, ctx.cases.notice_cases(principal, ip, code), code, format)


@router.get(
    "/cases/{case_id}/notice",
    summary="The notice (公示) of one case in notice, as printable HTML or xlsx",
    response_class=HTMLResponse,
)
def case_notice(
    case_id: RowId,
    principal: CurrentUser,
    ctx: Ctx,
    ip: ClientIp,
    format: Literal["html", "xlsx"] = "html",
) -> Response:
    case = ctx.cases.get_case(principal, ip, case_id)
    if case["state"] not in workflow.NOTICE_STATES:
        raise WorkflowError(
            f"案件 {case_id} 不在公示期 / case {case_id} is not in notice (state {case['state']})"
        )
    cases = [c for c in ctx.cases.notice_cases(principal, ip, case["village_code"]) if c.id == case_id]
    return _render(ctx, cases, case["village_code"], format)


def _render(ctx: AppContext, cases: list, code: str, format: str) -> Response:
    name = ctx.region_names(code)
    if format == "xlsx":
        return Response(
            notice.render_xlsx(cases, code, name),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="notice-{code}.xlsx"'},
        )
    return HTMLResponse(
        notice.render_html(cases, code, name, today=ctx.now().date()),
        # a standalone printable page: its own <style>, no script at all
        headers={"content-security-policy": NOTICE_CSP},
    )
