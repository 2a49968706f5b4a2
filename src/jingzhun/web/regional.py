"""The region a dashboard or report shows (the user's own by default, drill-down within it), its
breadcrumbs, and its figures (:func:`jingzhun.reports.figures.figure_set`, computed once per version of
the data and region, see :meth:`jingzhun.reports.index.WebIndex.remember`); the ECharts options drawn
from them."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from jingzhun import regions, vocab
from jingzhun.api.routes_households import narrowed_prefix
from jingzhun.auth.users import Principal
from jingzhun.reports import figures
from jingzhun.reports.runs import monitoring_line, run_for
from jingzhun.web import i18n
from jingzhun.web.state import web_state

COVERAGE_ZH = {
    "medical_insurance": "基本医疗保险参保",
    "compulsory_education": "义务教育阶段在校",
    "dibao": "低保",
    "tekun": "五保/特困供养",
    "disability_subsidy": "残疾人补贴对象",
    "education_subsidy": "教育资助对象",
}
BANDS_ZH = {1: "不高于监测范围", 2: "1–1.5倍", 3: "1.5–2倍", 4: "2倍以上"}
LEVEL_ZH = {"province": "省", "city": "市", "county": "县", "township": "乡镇", "village": "村"}


def region_names(cur: Any, codes: list[str]) -> dict[str, str]:
    """Code → name of a few regions."""
    if not codes:
        return {}
    marks = ", ".join("?" for _ in codes)
    return dict(cur.execute(f"SELECT code, name FROM reg.region WHERE code IN ({marks})", codes).fetchall())


def region_view(request: Request, principal: Principal, region: str | None) -> dict[str, Any]:
    """The region shown: code, prefix, name, level and the breadcrumbs from the user's own region."""
    code = regions.normalise_code(region) if region else principal.scope
    prefix = narrowed_prefix(principal, code)
    chain = [*regions.ancestors(code), code]
    names = region_names(web_state(request).index.cursor(), chain)
    own = len(regions.prefix_of(principal.scope, regions.level_of(principal.scope)))
    crumbs = [(c, names.get(c, c)) for c in chain if len(regions.prefix_of(c, regions.level_of(c))) >= own]
    return {
        "code": code,
        "prefix": prefix,
        "name": names.get(code, code),
        "crumbs": crumbs,
        "level": regions.level_of(code),
    }


def figures_for(
    request: Request, ctx: Any, principal: Principal, region: str | None, period: str | None
) -> dict[str, Any]:
    """The region view with every figure of ``period`` (default: the latest period with a finished run)."""
    view = region_view(request, principal, region)
    period, run_id = run_for(ctx.store, period)
    index = web_state(request).index
    cur = index.cursor()
    version = index.version
    period = period or (version.period if version else None) or "2025-01"
    line = monitoring_line(period, view["prefix"][:2])

    def compute() -> dict[str, Any]:
        return figures.figure_set(
            cur,
            code=view["code"],
            prefix=view["prefix"],
            level=view["level"],
            period=period,
            run_id=run_id,
            line=line,
        )

    found = index.remember(("figures", view["code"], view["prefix"], period, run_id), compute)
    coverage = [c | {"label": COVERAGE_ZH[c["key"]]} for c in found["coverage"]]
    return {**view, **found, "coverage": coverage, "period": period, "run_id": run_id}


def in_words(f: dict[str, Any], lang: str) -> dict[str, Any]:
    """The figure set with what people read in ``lang``: category labels (monitoring types, risk types,
    coverage items) in words and each rule's title as ``rule`` beside its id."""
    _ = i18n.gettext_for(lang)
    return {
        **f,
        "by_type": [r | {"label": vocab.value(r["label"], lang)} for r in f["by_type"]],
        "by_cause": [r | {"label": vocab.value(r["label"], lang)} for r in f["by_cause"]],
        "triggers": [r | {"rule": vocab.rule_title(r["rule_id"], lang)} for r in f["triggers"]],
        "coverage": [c | {"label": _(c["label"])} for c in f["coverage"]],
    }


def bar(title: str, labels: list[str], series: dict[str, list[Any]], horizontal: bool = False) -> dict:
    """An ECharts bar chart option."""
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


def charts(f: dict, _: Any) -> dict[str, dict]:
    """The charts of a figure set, titles and labels in the page's language."""
    return {
        "type": bar(
            _("监测对象类别"),
            [_(r["label"]) for r in f["by_type"]],
            {_("户数"): [r["households"] for r in f["by_type"]]},
        ),
        "cause": bar(
            _("风险类型"),
            [_(r["label"]) for r in f["by_cause"]],
            {_("户数"): [r["households"] for r in f["by_cause"]]},
            horizontal=True,
        ),
        "triggers": bar(
            _("风险预警规则触发"),
            [r.get("rule") or vocab.rule_title(r["rule_id"]) for r in f["triggers"]],
            {
                _("户数"): [r["households"] for r in f["triggers"]],
                _("新增"): [r["new"] for r in f["triggers"]],
            },
            horizontal=True,
        ),
        "month": bar(
            _("逐月新增与消除预警"),
            [r["period"] for r in f["by_month"]],
            {
                _("新增"): [r["new"] for r in f["by_month"]],
                _("持续"): [r["persisting"] for r in f["by_month"]],
                _("消除"): [r["cleared"] for r in f["by_month"]],
            },
        ),
        "coverage": bar(
            _("保障覆盖率（%）"),
            [_(r["label"]) for r in f["coverage"]],
            {"%": [r["rate"] for r in f["coverage"]]},
        ),
        "income": bar(
            _("人均纯收入与监测范围"),
            [_(BANDS_ZH[b["band"]]) for b in f["income"]["bands"]],
            {_("户数"): [b["households"] for b in f["income"]["bands"]]},
        ),
    }
