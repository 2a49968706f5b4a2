"""Printable village / township / county reports (print CSS) and their xlsx, with the figures of a
village report in the style of seed 000: people, registered poor, monitored households by cause,
coverage of medical insurance, compulsory education, 低保, 五保/特困, disability and education subsidies,
and per-capita income against the monitoring line: the same figure set as the dashboard
(:func:`jingzhun.web.regional.figures_for`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from jingzhun.reports.xlsx import sheets_to_xlsx
from jingzhun.web.i18n import gettext_for
from jingzhun.web.regional import BANDS_ZH, LEVEL_ZH, charts, figures_for, in_words
from jingzhun.web.views import Ctx, Ip, PageUser, lang_of, render, xlsx_response

router = APIRouter(include_in_schema=False)


@router.get("/reports")
def report(
    request: Request, principal: PageUser, ctx: Ctx, region: str | None = None, period: str | None = None
) -> Response:
    f = in_words(figures_for(request, ctx, principal, region, period), lang_of(request))
    return render(
        request,
        "report.html",
        title="监测报告",
        f=f,
        charts=charts(f, gettext_for(lang_of(request))),
        bands_zh=BANDS_ZH,
        level_zh=LEVEL_ZH,
    )


@router.get("/reports.xlsx")
def report_xlsx(
    request: Request,
    principal: PageUser,
    ctx: Ctx,
    ip: Ip,
    region: str | None = None,
    period: str | None = None,
) -> Response:
    f = in_words(figures_for(request, ctx, principal, region, period), lang_of(request))
    _ = gettext_for(lang_of(request))
    sheets = [
        (
            "概况",
            [("key", "项目"), ("value", "数值")],
            [
                {"key": _(k), "value": v}
                for k, v in (
                    ("户数", f["overview"]["households"]),
                    ("人数", f["overview"]["people"]),
                    ("脱贫户", f["overview"]["lifted"]),
                    ("监测户", f["overview"]["monitored"]),
                )
            ],
        ),
        (
            "下级区划",
            [("name", "区划"), ("households", "户数"), ("people", "人数"), ("monitored", "监测户")],
            f["children"],
        ),
        ("监测对象类别", [("label", "监测对象类别"), ("households", "户数")], f["by_type"]),
        ("风险类型", [("label", "风险类型"), ("households", "户数")], f["by_cause"]),
        ("预警规则", [("rule", "预警规则"), ("households", "户数"), ("new", "新增")], f["triggers"]),
        (
            "逐月预警",
            [("period", "期次"), ("new", "新增"), ("persisting", "持续"), ("cleared", "消除")],
            f["by_month"],
        ),
        (
            "保障覆盖",
            [("label", "项目"), ("count", "人数"), ("base", "基数"), ("rate", "覆盖率(%)")],
            f["coverage"],
        ),
        (
            "人均纯收入",
            [("label", "人均纯收入"), ("households", "户数")],
            [{"label": _(BANDS_ZH[b["band"]]), "households": b["households"]} for b in f["income"]["bands"]],
        ),
    ]
    return xlsx_response(
        ctx,
        principal,
        ip,
        f"{f['name']}监测报告{f['period']}",
        [],
        [],
        "report",
        {"region": f["code"], "period": f["period"]},
        body=sheets_to_xlsx(
            [(_(name), [(k, _(label)) for k, label in columns], rows) for name, columns, rows in sheets]
        ),
    )
