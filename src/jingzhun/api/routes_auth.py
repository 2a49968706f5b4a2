"""POST /auth/login, POST /auth/logout, GET /auth/me."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from jingzhun.api.context import AppContext
from jingzhun.api.deps import (
    CSRF_COOKIE,
    ClientIp,
    Ctx,
    CurrentUser,
    new_csrf_token,
    set_csrf_cookie,
    set_session_cookie,
)
from jingzhun.audit import Actor, record
from jingzhun.auth import throttle, tokens
from jingzhun.auth.roles import ROLES
from jingzhun.auth.users import Principal, authenticate
from jingzhun.errors import AuthenticationFailed, LoginThrottled
from jingzhun.ops.models import User

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)
    cookie: bool = Field(False, description="Also start a page session (signed httponly cookie).")


def _user(p: Principal) -> dict:
    return {
        "username": p.username,
        "role": p.role,
        "role_zh": ROLES[p.role].zh,
        "scope": p.scope,
        "display_name": p.display_name,
    }


def sign_in(
    ctx: AppContext, username: str, password: str, ip: str | None, *, kind: str = "api"
) -> tuple[str, dt.datetime, Principal]:
    """Check the password (throttled per name and address), issue a token of ``kind`` (api | session) and
    audit the attempt (the throttle reads these audit rows).

    Returns the raw token, its expiry and the principal. The pages call this too, then
    :func:`~jingzhun.api.deps.set_session_cookie`.
    """
    try:
        principal = authenticate(ctx.store, username, password, ctx.settings, now=ctx.now(), client=ip)
    except AuthenticationFailed as exc:
        with ctx.store.session() as session:
            record(
                session,
                Actor(username[:100], None, ip),
                "login_throttled" if isinstance(exc, LoginThrottled) else throttle.FAILURE,
                "user",
                throttle.throttle_key(username),
                at=ctx.now(),
                details={"error": type(exc).__name__},
            )
        raise
    with ctx.store.session() as session:
        user = session.get(User, principal.user_id)
        assert user is not None
        raw, token = tokens.issue(session, user, kind=kind, hours=ctx.settings.token_hours, now=ctx.now())
        record(
            session,
            Actor(principal.username, principal.role, ip),
            throttle.SUCCESS,
            "user",
            throttle.throttle_key(principal.username),
            at=ctx.now(),
            details={"kind": kind},
        )
        expires = token.expires_at
    return raw, expires, principal


@router.post(
    "/login",
    summary="Sign in; returns a bearer token",
    responses={429: {"description": "too_many_attempts: wait Retry-After seconds (per user name and address)"}},
)
def login(body: LoginRequest, request: Request, response: Response, ctx: Ctx, ip: ClientIp) -> dict:
    """With ``cookie: true`` the answer also starts a page session and returns ``csrf_token``: writes
    authenticated by the cookie must repeat it in the ``X-CSRF-Token`` header (bearer tokens need not)."""
    raw, expires, principal = sign_in(
        ctx, body.username, body.password, ip, kind="session" if body.cookie else "api"
    )
    answer = {"token": raw, "token_type": "bearer", "expires_at": expires, "user": _user(principal)}
    if body.cookie:
        set_session_cookie(response, ctx, raw)
        csrf = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
        set_csrf_cookie(response, csrf)
        answer["csrf_token"] = csrf
    return answer


@router.post("/logout", summary="Revoke the current token or session")
def logout(request: Request, response: Response, principal: CurrentUser, ctx: Ctx, ip: ClientIp) -> dict:
    with ctx.store.session() as session:
        revoked = tokens.revoke(session, request.state.token, now=ctx.now())
        record(
            session,
            Actor(principal.username, principal.role, ip),
            "logout",
            "user",
            principal.username,
            at=ctx.now(),
        )
    response.delete_cookie(ctx.settings.cookie_name)
    return {"revoked": revoked}


@router.get("/me", summary="The signed-in user")
def me(principal: CurrentUser) -> dict:
    return _user(principal)
