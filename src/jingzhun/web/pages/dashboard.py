"""The dashboard: drill-down province → county → township → village with monitoring objects by type
and cause, risk triggers fired, new and cleared alerts by month, coverage rates and per-capita income
against the monitoring line. Every chart has its table under it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from jingzhun import regions
from jingzhun.api.routes_households import narrowed_prefix
from jingzhun.auth.users import Principal
from jingzhun.reports import data, figures
from jingzhun.reports.runs import monitoring_line, run_for
from jingzhun.web.state import web_state
from jingzhun.web.views import Ctx, PageUser, render

router = APIRouter(include_in_schema=False)

COVERAGE_ZH = {
    "medical_insurance": "基本医疗保险参保",
    "compulsory_education": "义务教育阶段在校",
    "dibao": "低保",
    "tekun": "五保/特困供养",
    "disability_subsidy": "残疾人补贴对象",
    "education_subsidy": "教育资助对象",
}
BANDS_ZH = {1: "不高于监测范围", 2: "1–1.5倍", 3: "1.5–2倍", 4: "2倍以上"}


def _bar(title: str, labels: list[str], series: dict[str, list[Any]], horizontal: bool = False) -> dict:
    cat = {
        "type": "category",
        "data": labels,
        "axisLabel": {"interval": 0, "rotate": 0 if horizontal else 20},
    }
    val = {"type": "value"}
    return {
        "title": {"text": title, "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 22} if len(series) > 1 else {"show": False},
        "grid": {"left": 175 if horizontal else 50, "right": 20, "top": 55, "bottom": 60},
        "xAxis": val if horizontal else cat,
        "yAxis": cat if horizontal else val,
        "series": [{"name": k, "type": "bar", "data": v} for k, v in series.items()],
    }


def region_view(request: Request, ctx: Any, principal: Principal, region: str | None) -> dict[str, Any]:
    """The region shown (the user's own by default), its prefix, breadcrumbs and name lookup."""
    code = regions.normalise_code(region) if region else principal.scope
    prefix = narrowed_prefix(principal, code)
    cur = web_state(request).cache.cursor()
    names = {r["code"]: r["name"] for r in data.rows(cur, "SELECT code, name FROM region")}
    own = len(regions.prefix_of(principal.scope, regions.level_of(principal.scope)))
    crumbs = [
        (c, names.get(c, c))
        for c in [*regions.ancestors(code), code]
        if len(regions.prefix_of(c, regions.level_of(c))) >= own
    ]
    return {
        "code": code,
        "prefix": prefix,
        "name": names.get(code, code),
        "crumbs": crumbs,
        "level": regions.level_of(code),
        "cur": cur,
    }


def figures_for(
    request: Request, ctx: Any, principal: Principal, region: str | None, period: str | None
) -> dict:
    """The figures of the region shown, computed once per version of the data (see RegistryCache.memo)."""
    view = region_view(request, ctx, principal, region)
    view.pop("cur")
    prefix = view["prefix"]
    cache = web_state(request).cache
    memo_key = ("dashboard", cache.key, view["code"], prefix, period)
    if memo_key in cache.memo:
        return cache.memo[memo_key]
    period, run_id = run_for(ctx.store, period)
    cur = cache.cursor(run_id)
    period = period or data.latest_period(web_state(request).data, "household") or "2025-01"
    line = monitoring_line(period, prefix[:2])
    cache.memo[memo_key] = out = {
        **view,
        "period": period,
        "run_id": run_id,
        "overview": figures.overview(cur, prefix),
        "children": figures.region_children(cur, view["code"]) if view["level"] != "village" else [],
        "by_type": figures.objects_by_type(cur, prefix),
        "by_cause": figures.objects_by_cause(cur, prefix),
        "triggers": figures.triggers_fired(cur, prefix, run_id),
        "by_month": figures.alerts_by_month(cur, prefix),
        "coverage": [c | {"label": COVERAGE_ZH[c["key"]]} for c in figures.coverage(cur, prefix, period)],
        "income": figures.income_vs_line(cur, prefix, line),
    }
    return out


def charts(f: dict, _: Any) -> dict[str, dict]:
    return {
        "type": _bar(
            _("监测对象类别"),
            [_(r["label"]) for r in f["by_type"]],
            {_("户数"): [r["households"] for r in f["by_type"]]},
        ),
        "cause": _bar(
            _("风险类型"),
            [_(r["label"]) for r in f["by_cause"]],
            {_("户数"): [r["households"] for r in f["by_cause"]]},
            horizontal=True,
        ),
        "triggers": _bar(
            _("风险预警规则触发"),
            [r["rule_id"] for r in f["triggers"]],
            {
                _("户数"): [r["households"] for r in f["triggers"]],
                _("新增"): [r["new"] for r in f["triggers"]],
            },
            horizontal=True,
        ),
        "month": _bar(
            _("逐月新增与消除预警"),
            [r["period"] for r in f["by_month"]],
            {
                _("新增"): [r["new"] for r in f["by_month"]],
                _("持续"): [r["persisting"] for r in f["by_month"]],
                _("消除"): [r["cleared"] for r in f["by_month"]],
            },
        ),
        "coverage": _bar(
            _("保障覆盖率（%）"),
            [_(r["label"]) for r in f["coverage"]],
            {"%": [r["rate"] for r in f["coverage"]]},
        ),
        "income": _bar(
            _("人均纯收入与监测范围"),
            [_(BANDS_ZH[b["band"]]) for b in f["income"]["bands"]],
            {_("户数"): [b["households"] for b in f["income"]["bands"]]},
        ),
    }


@router.get("/dashboard")
def dashboard(
    request: Request, principal: PageUser, ctx: Ctx, region: str | None = None, period: str | None = None
) -> Response:
    from jingzhun.web.i18n import gettext_for
    from jingzhun.web.views import lang_of

    f = figures_for(request, ctx, principal, region, period)
    return render(
        request,
        "dashboard.html",
        title="监测看板",
        f=f,
        charts=charts(f, gettext_for(lang_of(request))),
        bands_zh=BANDS_ZH,
    )
