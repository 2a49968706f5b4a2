"""What every page shares: the Jinja2 environment and ``render``, the signed-in user of a page
(redirect to the login page otherwise), CSRF protection of cookie-authenticated form posts, the
language, xlsx responses (audited) and the data folder's figures cache."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from jingzhun.api.context import AppContext
from jingzhun.api.deps import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    CsrfFailed,
    client_ip,
    csrf_matches,
    current_principal,
    get_ctx,
    new_csrf_token,
    set_csrf_cookie,
)
from jingzhun.audit import Actor, record
from jingzhun.auth import permissions
from jingzhun.auth.roles import ROLES
from jingzhun.auth.users import Principal
from jingzhun.errors import AuthenticationFailed, PermissionDenied
from jingzhun.reports.xlsx import to_xlsx
from jingzhun.web import i18n

HERE = Path(__file__).parent

env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
env.filters["thousands"] = lambda v: "—" if v is None else f"{v:,.0f}" if isinstance(v, int | float) else v


class LoginRequired(Exception):
    """Raised by :func:`page_user` when a page needs a signed-in user; answered by a redirect."""


def lang_of(request: Request) -> str:
    return i18n.pick(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE))


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser (double-submit cookie), created on first use."""
    token = getattr(request.state, "csrf", None) or request.cookies.get(CSRF_COOKIE)
    if not token:
        token = new_csrf_token()
    request.state.csrf = token
    return token


async def check_csrf(request: Request) -> None:
    """Refuse a POST whose form field or header does not carry the cookie's CSRF token."""
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    if not csrf_matches(request, sent):
        raise CsrfFailed()


def page_user(
    request: Request,
    ctx: Annotated[AppContext, Depends(get_ctx)],
) -> Principal:
    """The signed-in user of a page (session cookie); a redirect to the login page otherwise."""
    try:
        return current_principal(request, ctx, None)
    except AuthenticationFailed:
        raise LoginRequired() from None


PageUser = Annotated[Principal, Depends(page_user)]
Ctx = Annotated[AppContext, Depends(get_ctx)]
Ip = Annotated[str | None, Depends(client_ip)]
Csrf = Depends(check_csrf)


def nav_for(principal: Principal | None) -> list[tuple[str, str]]:
    """The menu (path, Chinese label) a role sees."""
    if principal is None:
        return []
    role = ROLES[principal.role]
    items = [("/", "首页")]
    if role.personal_data:
        items += [
            ("/dashboard", "监测看板"),
            ("/households", "农户查询"),
            ("/alerts", "预警"),
            ("/cases", "案件"),
            ("/reports", "报表"),
        ]
    if permissions.allows(principal.role, "review"):
        items += [("/review", "比对复核")]
    items += [("/imports", "数据导入"), ("/runs", "监测运行")]
    if role.personal_data:
        items += [("/whatif", "政策模拟")]
    if permissions.allows(principal.role, "audit"):
        items += [("/audit", "审计日志")]
    return items


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` with the shared context: ``_`` (gettext), ``lang``, ``user``, ``nav``,
    ``csrf``, ``msg``/``err`` (from the query string) and the current path."""
    lang = lang_of(request)
    user = getattr(request.state, "principal", None)
    token = csrf_token(request)
    html = env.get_template(template).render(
        _=i18n.gettext_for(lang),
        lang=lang,
        user=user,
        role_zh=ROLES[user.role].zh if user else "",
        nav=nav_for(user),
        csrf=token,
        path=request.url.path,
        query=str(request.url.query),
        msg=request.query_params.get("msg"),
        err=request.query_params.get("err"),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    remember(request, response, token, lang)
    return response


def remember(request: Request, response: Response, token: str, lang: str) -> None:
    if request.cookies.get(CSRF_COOKIE) != token:
        set_csrf_cookie(response, token)
    if request.query_params.get("lang") in i18n.LANGUAGES and request.cookies.get(i18n.COOKIE) != lang:
        response.set_cookie(i18n.COOKIE, lang, max_age=365 * 86400, samesite="lax")


def back(url: str, *, msg: str | None = None, err: str | None = None) -> RedirectResponse:
    """A 303 redirect to ``url`` with a message shown by the layout."""
    sep = "&" if "?" in url else "?"
    if msg:
        url += f"{sep}msg={quote(msg)}"
    elif err:
        url += f"{sep}err={quote(err)}"
    return RedirectResponse(url, status_code=303)


def xlsx_response(
    ctx: AppContext,
    principal: Principal,
    ip: str | None,
    name: str,
    columns: list[tuple[str, str]],
    items: list[dict[str, Any]],
    object_type: str,
    details: dict[str, Any] | None = None,
    body: bytes | None = None,
) -> Response:
    """An xlsx download of ``items`` with Chinese headers (or a ready ``body``); the export is written to
    the audit log."""
    body = body if body is not None else to_xlsx(columns, items, sheet=name)
    with ctx.store.session() as session:
        record(
            session,
            Actor(principal.username, principal.role, ip),
            "export",
            object_type,
            None,
            at=ctx.now(),
            details={"rows": len(items), "format": "xlsx", "name": name, **(details or {})},
        )
    filename = quote(f"{name}.xlsx")
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"content-disposition": f"attachment; filename*=UTF-8''{filename}"},
    )


def need_personal_data(principal: Principal) -> None:
    if not ROLES[principal.role].personal_data:
        raise PermissionDenied(
            f"角色 {principal.role} 不能查看户信息 / role {principal.role} sees no household data"
        )
