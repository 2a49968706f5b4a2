"""Dependencies shared by the routers and pages: the context, the signed-in principal, the client address,
paging (:func:`page_params`, :func:`paged`, :func:`all_pages`)."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from jingzhun.api.context import AppContext
from jingzhun.auth import tokens
from jingzhun.auth.users import Principal
from jingzhun.errors import AuthenticationFailed, JingzhunError

#: CSRF protection of cookie-authenticated writes (double submit): an httponly cookie holds a random
#: token; a page form repeats it in a hidden field, htmx and API clients in a header.
CSRF_COOKIE = "jz_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfFailed(JingzhunError):
    """A write authenticated by the session cookie without the matching CSRF token."""

    def __init__(self) -> None:
        super().__init__(
            "表单已过期或缺少 CSRF 令牌，请刷新页面后重试 / missing or wrong CSRF token "
            f"(send the {CSRF_COOKIE} cookie's value in the X-CSRF-Token header): reload the page and retry"
        )


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_matches(request: Request, sent: str | None) -> bool:
    """True when ``sent`` (a form field or header) repeats this browser's CSRF cookie."""
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    return bool(cookie) and bool(sent) and hmac.compare_digest(cookie, sent or "")


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
        request.state.by_cookie = True
        return tokens.unsign_cookie(cookie, ctx.settings.signing_key, ctx.settings.token_hours * 3600)
    return None


def principal_of(request: Request) -> Principal | None:
    """The signed-in user of a request if there is one (no error): for auditing refusals."""
    found = getattr(request.state, "principal", None)
    if found is not None:
        return found
    ctx: AppContext = request.app.state.jz
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    creds = HTTPAuthorizationCredentials(scheme=scheme, credentials=value) if value else None
    raw = raw_token(request, ctx, creds)
    if not raw:
        return None
    with ctx.store.session() as session:
        user = tokens.resolve(session, raw, now=ctx.now())
        return Principal.of(user) if user is not None else None


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
    if (
        getattr(request.state, "by_cookie", False)
        and credentials is None
        and request.method not in SAFE_METHODS
        and request.url.path.startswith("/api/")
        and not csrf_matches(request, request.headers.get(CSRF_HEADER))
    ):
        raise CsrfFailed()  # pages check their form field in jingzhun.web.views.check_csrf
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


def set_csrf_cookie(response: Response, token: str) -> None:
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict")


class Paging:
    """One page of a list: ``limit`` rows after skipping ``offset``."""

    def __init__(self, limit: int = 50, offset: int = 0):
        self.limit = limit
        self.offset = offset


#: the largest row number or id the operational store holds (a 32-bit integer column on PostgreSQL):
#: larger numbers in a path, query or body are refused as invalid (422), never passed to the database
MAX_ROW = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW, description="the object's number")]


def page_params(
    limit: Annotated[int, Query(ge=1, le=500, description="page size")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW, description="rows to skip")] = 0,
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
