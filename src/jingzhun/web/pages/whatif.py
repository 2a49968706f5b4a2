"""What-if: change a parameter (e.g. the monitoring line) and see how many households would be monitored,
by region (bar chart and table) and by rule."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from jingzhun import regions
from jingzhun.api.context import AppContext
from jingzhun.api.routes_households import narrowed_prefix
from jingzhun.audit import Actor, record
from jingzhun.auth.users import Principal
from jingzhun.errors import JingzhunError
from jingzhun.reports.runs import monitoring_line, run_for
from jingzhun.reports.whatif import region_rows, whatif_for
from jingzhun.web.i18n import gettext_for
from jingzhun.web.regional import bar as _bar
from jingzhun.web.regional import region_names
from jingzhun.web.state import web_state
from jingzhun.web.views import Csrf, Ctx, Ip, PageUser, lang_of, render

router = APIRouter(include_in_schema=False)
CHILD_LEVEL = {
    "province": "county",
    "city": "county",
    "county": "township",
    "township": "village",
    "village": "village",
}


def _page(
    request: Request,
    principal: Principal,
    ctx: AppContext,
    period: str | None,
    line: float | None,
    result: dict | None = None,
    error: str | None = None,
) -> Response:
    period = period or run_for(ctx.store, None)[0] or ""
    current = monitoring_line(period, principal.scope[:2]) if period else None
    return render(
        request,
        "whatif.html",
        title="政策模拟",
        period=period,
        current=current,
        line=line if line is not None else current,
        result=result,
        error=error,
    )


@router.get("/whatif")
def whatif_page(request: Request, principal: PageUser, ctx: Ctx, period: str | None = None) -> Response:
    narrowed_prefix(principal, None)
    return _page(request, principal, ctx, period, None)


@router.post("/whatif", dependencies=[Csrf])
def whatif_run(
    request: Request,
    principal: PageUser,
    ctx: Ctx,
    ip: Ip,
    period: Annotated[str, Form()],
    monitoring_line: Annotated[float, Form(gt=0, lt=1e6)],
) -> Response:
    prefix = narrowed_prefix(principal, None)
    try:
        result = whatif_for(web_state(request).data, ctx.store, period, {"monitoring_line": monitoring_line})
    except JingzhunError as exc:
        return _page(request, principal, ctx, period, monitoring_line, error=str(exc))
    level = CHILD_LEVEL[regions.level_of(principal.scope)]
    found = region_rows(result, prefix, level)
    names = region_names(web_state(request).index.cursor(), [r["code"] for r in found])
    rows = [r | {"name": names.get(r["code"], r["code"])} for r in found]
    by_rule = [r for r in result.by_rule.to_pylist() if r["delta"]]
    _ = gettext_for(lang_of(request))
    chart = _bar(
        _("监测户数：现行与调整后"),
        [r["name"] for r in rows],
        {_("现行"): [r["base_monitored"] for r in rows], _("调整后"): [r["changed_monitored"] for r in rows]},
    )
    with ctx.store.session() as session:
        record(
            session,
            Actor(principal.username, principal.role, ip),
            "whatif",
            "policy",
            "monitoring_line",
            at=ctx.now(),
            details={"period": period, "monitoring_line": monitoring_line},
        )
    res = {
        "rows": rows,
        "by_rule": by_rule,
        "chart": chart,
        "base": sum(r["base_monitored"] for r in rows),
        "changed": sum(r["changed_monitored"] for r in rows),
    }
    return _page(request, principal, ctx, period, monitoring_line, result=res)
