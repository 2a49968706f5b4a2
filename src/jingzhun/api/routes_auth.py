"""POST /auth/login, POST /auth/logout, GET /auth/me."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from jingzhun.api.context import AppContext
from jingzhun.api.deps import ClientIp, Ctx, CurrentUser, set_session_cookie
from jingzhun.audit import Actor, record
from jingzhun.auth import tokens
from jingzhun.auth.roles import ROLES
from jingzhun.auth.users import Principal, authenticate
from jingzhun.errors import AuthenticationFailed
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
    """Check the password (with lockout), issue a token of ``kind`` (api | session) and audit the attempt.

    Returns the raw token, its expiry and the principal. The pages call this too, then
    :func:`~jingzhun.api.deps.set_session_cookie`.
    """
    try:
        principal = authenticate(ctx.store, username, password, ctx.settings, now=ctx.now())
    except AuthenticationFailed as exc:
        with ctx.store.session() as session:
            record(
                session,
                Actor(username, None, ip),
                "login_failed",
                "user",
                username,
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
            "login",
            "user",
            principal.username,
            at=ctx.now(),
            details={"kind": kind},
        )
        expires = token.expires_at
    return raw, expires, principal


@router.post("/login", summary="Sign in; returns a bearer token")
def login(body: LoginRequest, response: Response, ctx: Ctx, ip: ClientIp) -> dict:
    raw, expires, principal = sign_in(
        ctx, body.username, body.password, ip, kind="session" if body.cookie else "api"
    )
    if body.cookie:
        set_session_cookie(response, ctx, raw)
    return {"token": raw, "token_type": "bearer", "expires_at": expires, "user": _user(principal)}


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
