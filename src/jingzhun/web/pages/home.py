"""The home page: what needs doing today for the signed-in role."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from sqlalchemy import select
from starlette.responses import Response

from jingzhun.auth import permissions, scope
from jingzhun.auth.roles import ROLES
from jingzhun.cases import workflow
from jingzhun.ops.models import ImportRecord, RunRecord
from jingzhun.reports.sources import IndexedAlerts
from jingzhun.web.deadline import deadline_view
from jingzhun.web.pages.review import queue as review_queue
from jingzhun.web.state import web_state
from jingzhun.web.views import Ctx, Ip, PageUser, render

router = APIRouter(include_in_schema=False)


#: the work of each role: (card id, label, case states or a flag, link); the cards a role sees, in order
CARDS: dict[str, tuple[str, ...]] = {
    "village": ("clues", "notice", "follow_up", "overdue", "new_alerts", "assisting"),
    "township": ("township_review", "new_alerts", "overdue", "clues", "follow_up", "review"),
    "county": ("county_review", "new_alerts", "overdue", "township_review", "review", "follow_up"),
    "province": ("new_alerts", "overdue", "county_review", "township_review"),
}
CARD_LABELS = {
    "clues": "待入户核实",
    "notice": "公示中",
    "follow_up": "应回访",
    "overdue": "超期案件",
    "new_alerts": "新增预警",
    "assisting": "帮扶中",
    "township_review": "待乡镇初审",
    "county_review": "待县级审定",
    "review": "待复核比对",
}
CARD_STATES = {
    "clues": ["clue"],
    "notice": list(workflow.NOTICE_STATES),
    "assisting": ["monitored", "assisting"],
    "township_review": ["township_review", "elim_township_review"],
    "county_review": ["county_review", "elim_county_review"],
}
#: the list under the cards: the first card's cases (what the role does first)
WORK_LIST = {"village": "clues", "township": "township_review", "county": "county_review"}


def _case_link(card: str) -> str:
    if card in CARD_STATES:
        return "/cases?" + "&".join(f"state={s}" for s in CARD_STATES[card])
    return {"follow_up": "/cases?follow_up_due=1", "overdue": "/cases?overdue=1", "review": "/review"}.get(
        card, "/alerts?status=new"
    )


@router.api_route("/favicon.ico", methods=["GET", "HEAD"])
def favicon() -> Response:
    """The site icon (an SVG; browsers ask for /favicon.ico before reading the page's link)."""
    return FileResponse(
        Path(__file__).parents[1] / "static" / "favicon.svg",
        media_type="image/svg+xml",
        headers={"cache-control": "public, max-age=86400"},
    )


@router.api_route("/", methods=["GET", "HEAD"])
def home(request: Request, principal: PageUser, ctx: Ctx, ip: Ip) -> Response:
    role = ROLES[principal.role]
    prefix = scope.region_prefix(principal)
    todo: dict = {}
    cards: list[dict] = []
    work: list[dict] = []
    if prefix is not None:
        todo["period"], new_alerts, todo["open_alerts"] = IndexedAlerts(web_state(request).index).counts(
            prefix
        )
        todo["overdue"], overdue_total = ctx.cases.list_cases(principal, ip, overdue=True, limit=10)
        for card in CARDS.get(principal.role, CARDS["county"]):
            if card == "new_alerts":
                n = new_alerts
            elif card == "overdue":
                n = overdue_total
            elif card == "follow_up":
                n = ctx.cases.list_cases(principal, ip, follow_up_due=True, limit=1)[1]
            elif card == "review":
                n = len(review_queue(request, ctx, principal, limit=100000)[1])
            else:
                n = ctx.cases.list_cases(principal, ip, state=CARD_STATES[card], limit=1)[1]
            cards.append({"id": card, "n": n, "label": CARD_LABELS[card], "href": _case_link(card)})
        first = WORK_LIST.get(principal.role)
        if first:
            work = ctx.cases.list_cases(principal, ip, state=CARD_STATES[first], limit=10)[0]
            todo["work_title"], todo["work_href"] = CARD_LABELS[first], _case_link(first)
    # imports with rejected rows: for the roles that may read rejected rows (not villages)
    rejects_scope = permissions.scope_for(principal.role, "rejects")
    imports = rejects_scope is not permissions.Scope.NONE
    rejects: list[dict] = []
    last_run = None
    with ctx.store.session() as session:
        if imports:
            stmt = select(ImportRecord).where(ImportRecord.rows_quarantined > 0)
            if rejects_scope is permissions.Scope.OWN_FEED:
                stmt = stmt.where(ImportRecord.dataset == principal.scope)
            records = session.scalars(stmt.order_by(ImportRecord.imported_at.desc()).limit(10)).all()
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
        if latest:
            last_run = {
                "id": latest.id,
                "period": latest.period,
                "status": latest.status,
                "started_at": latest.started_at,
            }
    return render(
        request,
        "home.html",
        title="首页",
        todo=todo,
        cards=cards,
        work=work,
        rejects=rejects,
        imports=imports,
        may_rejects=imports,
        last_run=last_run,
        personal=role.personal_data,
        deadline=deadline_view,
        now=ctx.now(),
    )
