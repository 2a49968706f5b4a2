"""Dependencies shared by the routers and pages: the context, the signed-in principal, the client address,
paging (:func:`page_params`, :func:`paged`, :func:`all_pages`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

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
    """One page of a list: ``limit`` rows after skipping ``offset``."""

    def __init__(self, limit: int = 50, offset: int = 0):
        self.limit = limit
        self.offset = offset


def page_params(
    limit: Annotated[int, Query(ge=1, le=500, description="page size")] = 50,
    offset: Annotated[int, Query(ge=0, description="rows to skip")] = 0,
) -> Paging:
    """The paging of a list request (``?limit=&offset=``), for API routes and pages alike."""
    return Paging(limit, offset)


Ctx = Annotated[AppContext, Depends(get_ctx)]
CurrentUser = Annotated[Principal, Depends(current_principal)]
ClientIp = Annotated[str | None, Depends(client_ip)]
Page = Annotated[Paging, Depends(page_params)]


def page(items: list, total: int, paging: Paging) -> dict:
    return {"items": items, "total": total, "limit": paging.limit, "offset": paging.offset}


def paged(session: Session, stmt: Select[Any], paging: Paging, *order: Any) -> tuple[list[Any], int]:
    """One page of the rows of ``stmt`` (ordered by ``order``) and the count of all of them."""
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(session.scalars(stmt.order_by(*order).limit(paging.limit).offset(paging.offset)))
    return rows, int(total)


def all_pages(fetch: Callable[[Paging], dict], cap: int = 20000, size: int = 500) -> list[dict]:
    """Every item of a paged list (at most ``cap``), fetched ``size`` at a time: for exports."""
    items: list[dict] = []
    while len(items) < cap:
        found = fetch(Paging(size, len(items)))
        items += found["items"]
        if not found["items"] or len(items) >= found["total"]:
            break
    return items[:cap]
