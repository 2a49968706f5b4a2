"""The audit log page (审计日志): who did what, when, from where; filterable by user, action, object and
days. Who may read it, and which entries, is the permission matrix's ``audit`` (an admin: all; a county
officer: the entries of users inside the county); the API's ``GET /api/v1/audit`` reads the same way."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from jingzhun.api.deps import Page
from jingzhun.api.routes_ledgers import Filters, read_audit
from jingzhun.web.views import Ctx, PageUser, render

router = APIRouter(include_in_schema=False)

#: the actions people filter by most, with their labels (any other action can be typed)
ACTIONS_ZH = {
    "denied": "拒绝访问",
    "refused": "拒绝操作",
    "login": "登录",
    "login_failed": "登录失败",
    "login_throttled": "登录受限",
    "logout": "退出",
    "view": "查看",
    "export": "导出",
    "create": "新建",
    "update": "修改",
    "transition": "办理",
    "import": "导入",
    "start_run": "启动运行",
}


@router.get("/audit")
def audit_page(request: Request, principal: PageUser, ctx: Ctx, paging: Page, filters: Filters) -> Response:
    found = read_audit(ctx, principal, filters, paging)
    chosen = {k: v for k, v in filters.as_dict().items() if v}
    return render(
        request,
        "audit.html",
        title="审计日志",
        items=found["items"],
        total=found["total"],
        paging=paging,
        filters=chosen,
        actions_zh=ACTIONS_ZH,
        query_base=urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "offset"]),
    )
