"""The alerts inbox of the latest run: each alert with its case (opened by the monthly run or by a
click, see :func:`case_of_alert`), or a button to open one (部门筛查预警) when the household has no case
in progress."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from jingzhun import regions, vocab
from jingzhun.api.deps import Page, all_pages
from jingzhun.api.errors import audit_refusal, status_of
from jingzhun.api.routes_alerts import list_alerts, open_from_alert
from jingzhun.api.routes_households import narrowed_prefix
from jingzhun.auth import scope
from jingzhun.auth.roles import ROLES
from jingzhun.cases import workflow
from jingzhun.errors import JingzhunError, NotFound, PermissionDenied
from jingzhun.ops.models import CaseAlert, MonitoringCase
from jingzhun.reports.runs import done_runs
from jingzhun.reports.sources import ALERT_SORTS, AlertFilters
from jingzhun.web import i18n
from jingzhun.web.regional import region_names
from jingzhun.web.state import web_state
from jingzhun.web.views import Csrf, Ctx, Ip, PageUser, back, lang_of, render, xlsx_response

router = APIRouter(include_in_schema=False)

COLUMNS = [
    ("household_id", "户编号"),
    ("head_name", "户主"),
    ("township_name", "乡(镇)"),
    ("village_name", "行政村"),
    ("village_code", "行政村代码"),
    ("rule", "预警规则"),
    ("status", "预警状态"),
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


#: the case filter of the inbox: no case in progress, any case in progress, or a workflow state
CASE_FILTERS: dict[str, str] = {"none": "无在办案件", "open": "有在办案件", **workflow.STATES}


def households_with_cases(ctx: Any, principal: Any, case: str) -> frozenset[str]:
    """Households in the principal's region with a case in progress (``none``/``open``) or in the
    workflow state ``case``."""
    stmt: Any = select(MonitoringCase.household_id).distinct()
    if case in ("none", "open"):
        stmt = stmt.where(MonitoringCase.state.not_in(workflow.FINAL_STATES))
    else:
        stmt = stmt.where(MonitoringCase.state == case)
    with ctx.store.session() as session:
        stmt = scope.scoped_select(stmt, MonitoringCase.village_code, principal)
        return frozenset(session.scalars(stmt))


def alert_filters(
    ctx: Any, principal: Any, status: str | None, rule: str | None, case: str | None, sort: str, desc: bool
) -> AlertFilters:
    """The inbox's query parameters as :class:`AlertFilters` (unknown values are ignored)."""
    households = None
    case = case if case in CASE_FILTERS else None
    if case:
        households = households_with_cases(ctx, principal, case)
    return AlertFilters(
        status=status if status in ("new", "persisting") else None,
        rule_id=rule or None,
        households=households,
        exclude=case == "none",
        sort=sort if sort in ALERT_SORTS else "default",
        descending=desc,
    )


def _with_cases(ctx: Any, principal: Any, items: list[dict[str, Any]]) -> tuple[dict, set[str]]:
    by_household = cases_of_households(ctx, principal, [a["household_id"] for a in items])
    cases = {a["alert_id"]: case_of_alert(a, by_household.get(a["household_id"], [])) for a in items}
    in_progress = {h for h, cs in by_household.items() if any(not c["final"] for c in cs)}
    return cases, in_progress


@router.get("/alerts")
def alerts(
    request: Request,
    principal: PageUser,
    ctx: Ctx,
    ip: Ip,
    paging: Page,
    period: str | None = None,
    region: str | None = None,
    status: str | None = None,
    rule: str | None = None,
    case: str | None = None,
    sort: str = "default",
    desc: bool = False,
) -> Response:
    filters = alert_filters(ctx, principal, status, rule, case, sort, desc)
    found = list_alerts(principal, ctx, ip, paging, period or None, region or None, filters=filters)
    cases, in_progress = _with_cases(ctx, principal, found["items"])
    prefix = narrowed_prefix(principal, region or None)
    # the region choices: townships and villages of a county user's county; a province or city user
    # chooses a county first, then sees that county's townships and villages
    own = scope.region_prefix(principal) or ""
    own_level = regions.level_of(principal.scope) if principal.scope.isdigit() else "province"
    chosen_code = regions.normalise_code(region) if region else None
    county_of_choice = (
        chosen_code[:6]
        if chosen_code and regions.level_of(chosen_code) in ("county", "township", "village")
        else None  # no county chosen yet: no township or village choices
    )
    facets = (
        ctx.alerts.facets(
            region_prefix=prefix,
            period=period or None,
            filters=filters,
            place_prefix=own if own_level in ("county", "township", "village") else county_of_choice,
            county_prefix=own if own_level in ("province", "city") else None,
        )
        if hasattr(ctx.alerts, "facets")
        else {}
    )
    places = region_names(
        web_state(request).index.cursor(),
        [*facets.get("county", {}), *facets.get("township", {}), *facets.get("village", {})],
    )
    chosen = {
        "period": period or "",
        "region": region or "",
        "status": filters.status or "",
        "rule": filters.rule_id or "",
        "case": case if case in CASE_FILTERS else "",
        "sort": filters.sort,
        "desc": "1" if desc else "",
    }

    def link(**changes: Any) -> str:
        """This list's URL with some filters changed (None or "" drops one); the pager offset is reset."""
        merged = {k: v for k, v in (chosen | changes).items() if v not in (None, "", "default")}
        return "/alerts?" + urlencode(merged)

    return render(
        request,
        "alerts.html",
        title="预警",
        found=found,
        cases=cases,
        in_progress=in_progress,
        chosen=chosen,
        link=link,
        facets=facets,
        places=places,
        periods=[p for p, _ in reversed(done_runs(ctx.store))],
        case_filters=CASE_FILTERS,
        writes=ROLES[principal.role].writes,
    )


@router.get("/alerts.xlsx")
def alerts_xlsx(
    request: Request,
    principal: PageUser,
    ctx: Ctx,
    ip: Ip,
    period: str | None = None,
    region: str | None = None,
    status: str | None = None,
    rule: str | None = None,
    case: str | None = None,
    sort: str = "default",
    desc: bool = False,
) -> Response:
    """The filtered list as xlsx, with rule titles, place names, statuses and case states in words."""
    lang = lang_of(request)
    filters = alert_filters(ctx, principal, status, rule, case, sort, desc)
    items = all_pages(
        lambda paging: list_alerts(
            principal, ctx, ip, paging, period or None, region or None, filters=filters
        )
    )
    cases, _ = _with_cases(ctx, principal, items)
    for a in items:
        c = cases[a["alert_id"]]
        a["case_id"], a["case_state"] = (c["id"], vocab.word(c["state_zh"], lang)) if c else (None, None)
        a["rule"] = vocab.rule_title(a["rule_id"], lang)
        a["status"] = vocab.alert_status(a["status"], lang)
        if lang == "en":
            a["explanation"] = a.get("explanation_en") or a["explanation"]
    gettext = i18n.gettext_for(lang)
    columns = [(key, gettext(label)) for key, label in COLUMNS]
    return xlsx_response(
        ctx,
        principal,
        ip,
        gettext("预警清单"),
        columns,
        items,
        "alert",
        {"period": period, "region": region, "status": filters.status, "rule": filters.rule_id, "case": case},
    )


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
