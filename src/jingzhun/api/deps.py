"""Dependencies shared by the routers: the context, the signed-in principal, the client address, paging."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jingzhun.api.context import AppContext
from jingzhun.auth import tokens
from jingzhun.auth.users import Principal
from jingzhun.errors import AuthenticationFailed

_bearer = HTTPBearer(auto_error=False, description="Token from POST /api/v1/auth/login")


def get_ctx(request: Request) -> AppContext:
    return request.app.state.jz


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def raw_token(
    request: Request, ctx: AppContext, credentials: HTTPAuthorizationCredentials | None
) -> str | None:
    """The token of this request: a bearer token, else the signed page-session cookie."""
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return credentials.credentials
    cookie = request.cookies.get(ctx.settings.cookie_name)
    if cookie:
        return tokens.unsign_cookie(cookie, ctx.settings.signing_key, ctx.settings.token_hours * 3600)
    return None


def current_principal(
    request: Request,
    ctx: Annotated[AppContext, Depends(get_ctx)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    raw = raw_token(request, ctx, credentials)
    if not raw:
        raise AuthenticationFailed("请先登录 / sign in first (Authorization: Bearer <token>)")
    with ctx.store.session() as session:
        user = tokens.resolve(session, raw, now=ctx.now())
        principal = Principal.of(user) if user is not None else None
    if principal is None:
        raise AuthenticationFailed("登录已失效，请重新登录 / the token is invalid, expired or revoked")
    request.state.principal = principal
    request.state.token = raw
    return principal


def set_session_cookie(response: Response, ctx: AppContext, raw: str) -> None:
    """Put a page session into a signed, httponly cookie (used by the login endpoint and the pages)."""
    response.set_cookie(
        ctx.settings.cookie_name,
        tokens.sign_cookie(raw, ctx.settings.signing_key),
        max_age=ctx.settings.token_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=ctx.settings.cookie_secure,
    )


class Paging:
    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=500, description="page size")] = 50,
        offset: Annotated[int, Query(ge=0, description="rows to skip")] = 0,
    ):
        self.limit = limit
        self.offset = offset


Ctx = Annotated[AppContext, Depends(get_ctx)]
CurrentUser = Annotated[Principal, Depends(current_principal)]
ClientIp = Annotated[str | None, Depends(client_ip)]
Page = Annotated[Paging, Depends()]


def page(items: list, total: int, paging: Paging) -> dict:
    return {"items": items, "total": total, "limit": paging.limit, "offset": paging.offset}
