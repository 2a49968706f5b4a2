"""The home page: what needs doing today for the signed-in role."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from jingzhun.auth import permissions, scope
from jingzhun.auth.roles import ROLES
from jingzhun.ops.models import ImportRecord, RunRecord
from jingzhun.reports.sources import IndexedAlerts
from jingzhun.web.pages.review import queue as review_queue
from jingzhun.web.pages.runs import STATUS_ZH
from jingzhun.web.state import web_state
from jingzhun.web.views import Ctx, Ip, PageUser, render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, principal: PageUser, ctx: Ctx, ip: Ip) -> Response:
    role = ROLES[principal.role]
    prefix = scope.region_prefix(principal)
    todo: dict = {}
    if prefix is not None:
        todo["period"], todo["new_alerts"], todo["open_alerts"] = IndexedAlerts(
            web_state(request).index
        ).counts(prefix)
        todo["overdue"], todo["overdue_total"] = ctx.cases.list_cases(principal, ip, overdue=True, limit=10)
        todo["follow_up"] = ctx.cases.list_cases(principal, ip, follow_up_due=True, limit=1)[1]
        todo["township_review"] = ctx.cases.list_cases(
            principal, ip, state=["township_review", "elim_township_review"], limit=1
        )[1]
        todo["county_review"] = ctx.cases.list_cases(
            principal, ip, state=["county_review", "elim_county_review"], limit=1
        )[1]
        todo["review"] = len(review_queue(request, ctx, principal, limit=100000)[1])
    rejects_scope = permissions.scope_for(principal.role, "rejects")
    with ctx.store.session() as session:
        stmt = select(ImportRecord).where(ImportRecord.rows_quarantined > 0)
        if rejects_scope is permissions.Scope.OWN_FEED:
            stmt = stmt.where(ImportRecord.dataset == principal.scope)
        records = (
            session.scalars(stmt.order_by(ImportRecord.imported_at.desc()).limit(10)).all()
            if rejects_scope is not permissions.Scope.NONE
            else []
        )
        rejects = [
            {
                "id": r.id,
                "file_name": r.file_name,
                "dataset": r.dataset,
                "period": r.period,
                "rows_quarantined": r.rows_quarantined,
                "imported_at": r.imported_at,
            }
            for r in records
        ]
        latest = session.scalars(select(RunRecord).order_by(RunRecord.started_at.desc()).limit(1)).first()
        last_run = {"id": latest.id, "period": latest.period, "status": latest.status} if latest else None
    return render(
        request,
        "home.html",
        title="首页",
        todo=todo,
        rejects=rejects,
        may_rejects=rejects_scope is not permissions.Scope.NONE,
        last_run=last_run,
        personal=role.personal_data,
        status_zh=STATUS_ZH,
    )
