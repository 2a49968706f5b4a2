"""The dashboard: drill-down province → county → township → village with monitoring objects by type
and cause, risk triggers fired, new and cleared alerts by month, coverage rates and per-capita income
against the monitoring line. Every chart has its table under it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from jingzhun.web.i18n import gettext_for
from jingzhun.web.regional import BANDS_ZH, charts, figures_for, in_words
from jingzhun.web.views import Ctx, PageUser, lang_of, render

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
def dashboard(
    request: Request, principal: PageUser, ctx: Ctx, region: str | None = None, period: str | None = None
) -> Response:
    f = in_words(figures_for(request, ctx, principal, region, period), lang_of(request))
    return render(
        request,
        "dashboard.html",
        title="监测看板",
        f=f,
        charts=charts(f, gettext_for(lang_of(request))),
        bands_zh=BANDS_ZH,
    )
