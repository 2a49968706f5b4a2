"""What every page shares: the Jinja2 environment and ``render``, the signed-in user of a page
(redirect to the login page otherwise), CSRF protection of cookie-authenticated form posts, the
language, xlsx responses (audited) and the data folder's figures cache."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup

from jingzhun import vocab
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
from jingzhun.web import i18n, timefmt

HERE = Path(__file__).parent

env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
env.filters["thousands"] = lambda v: "—" if v is None else f"{v:,.0f}" if isinstance(v, int | float) else v


def _marked(text: str, lang: str) -> Any:
    """``text`` as it is, but in an English page Chinese text (a name, a place, what someone typed) is
    marked ``lang="zh-CN"``: screen readers read it as Chinese and tests tell it from untranslated UI."""
    if lang == "en" and vocab.has_chinese(text):
        return Markup('<span lang="zh-CN">{}</span>').format(text)
    return text


def _in_lang(fn: Any) -> Any:
    """A filter that calls ``fn(value, lang)`` with the page's language."""

    @pass_context
    def filt(context: Any, value: Any, *args: Any) -> Any:
        return fn(value, *args, context.get("lang", i18n.DEFAULT))

    return filt


# the words people read for the identifiers the code uses (jingzhun.vocab), in the page's language
env.filters["rule"] = _in_lang(vocab.rule_title)
env.filters["rule_kind"] = _in_lang(vocab.rule_kind)
env.filters["dataset"] = _in_lang(vocab.dataset_title)
env.filters["alert_status"] = _in_lang(vocab.alert_status)
env.filters["stage"] = _in_lang(vocab.run_stage)
env.filters["run_status"] = _in_lang(vocab.run_status)
env.filters["stage_result"] = _in_lang(vocab.stage_result)
env.filters["conflict"] = _in_lang(vocab.conflict_type)
env.filters["word"] = _in_lang(vocab.word)
env.filters["message"] = _in_lang(vocab.in_language)
env.filters["val"] = _in_lang(lambda v, lang: _marked(vocab.value(v, lang), lang))
env.filters["zh"] = _in_lang(
    lambda v, lang: v if isinstance(v, Markup) else _marked("" if v is None else str(v), lang)
)
env.filters["field"] = _in_lang(lambda name, dataset, lang: vocab.field_title(dataset, name, lang))
env.filters["local"] = _in_lang(lambda when, fmt, lang: timefmt.local(when, fmt, lang))


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
        scope_name=_scope_name(request, user),
        place=_placer(request, lang),
        nav=nav_for(user),
        csrf=token,
        path=request.url.path,
        query=str(request.url.query),
        msg=vocab.in_language(request.query_params.get("msg"), lang),
        err=vocab.in_language(request.query_params.get("err"), lang),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    remember(request, response, token, lang)
    return response


def _placer(request: Request, lang: str) -> Any:
    """``place(code)``: a region's name for templates (remembered for the page; the code when unknown)."""
    seen: dict[str, str] = {}

    def place(code: str | None) -> Any:
        if not code:
            return ""
        return _marked(name_of(code), lang)

    def name_of(code: str) -> str:
        if code not in seen:
            try:
                names = request.app.state.jz.region_names
                seen[code] = (names(code) if names else None) or code
            except Exception:
                seen[code] = code
        return seen[code]

    return place


def _scope_name(request: Request, user: Principal | None) -> str:
    """The name of the user's region (the code when it has none, nothing for a dataset or ``*``)."""
    if user is None or not user.scope.isdigit():
        return ""
    try:
        names = request.app.state.jz.region_names
        return (names(user.scope) if names else None) or user.scope
    except Exception:
        return user.scope


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
