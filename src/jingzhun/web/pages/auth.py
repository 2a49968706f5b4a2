"""The login page, logging out and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from jingzhun.api.deps import set_session_cookie
from jingzhun.api.routes_auth import sign_in
from jingzhun.audit import Actor, record
from jingzhun.auth import tokens
from jingzhun.auth.users import Principal
from jingzhun.errors import AuthenticationFailed, LoginThrottled
from jingzhun.web.views import Csrf, Ctx, Ip, back, page_user, render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only local paths: ``//evil`` or ``http://`` go home.

    >>> _safe_next("/cases?x=1"), _safe_next("//evil.example"), _safe_next("https://x"), _safe_next(None)
    ('/cases?x=1', '/', '/', '/')
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", title="登录", next=_safe_next(next))


@router.post("/login", dependencies=[Csrf])
def login(
    request: Request,
    ctx: Ctx,
    ip: Ip,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    try:
        raw, _, _ = sign_in(ctx, username.strip(), password, ip, kind="session")
    except LoginThrottled as exc:
        response = render(
            request, "login.html", 429, title="登录", next=_safe_next(next), error="throttled", wait=exc.retry_after
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except AuthenticationFailed:
        return render(request, "login.html", 401, title="登录", next=_safe_next(next), error="failed")
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, ctx, raw)
    return response


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request, ctx: Ctx, ip: Ip, principal: Principal = Depends(page_user)) -> Response:
    with ctx.store.session() as session:
        tokens.revoke(session, request.state.token, now=ctx.now())
        record(
            session,
            Actor(principal.username, principal.role, ip),
            "logout",
            "user",
            principal.username,
            at=ctx.now(),
        )
    response = back("/login", msg="已退出 / signed out")
    response.delete_cookie(ctx.settings.cookie_name)
    return response
