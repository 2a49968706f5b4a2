"""Jingzhun errors as HTTP answers: ``{"error": <kind>, "message": <zh / en text>}``; refusals are audited."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from jingzhun.audit import Actor, record
from jingzhun.errors import (
    AccountLocked,
    AuthenticationFailed,
    ConcurrentModification,
    JingzhunError,
    NotFound,
    PermissionDenied,
    WorkflowError,
)

# most specific first
STATUS: tuple[tuple[type[JingzhunError], int, str], ...] = (
    (AccountLocked, 423, "account_locked"),
    (AuthenticationFailed, 401, "unauthenticated"),
    (PermissionDenied, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (ConcurrentModification, 409, "concurrent_modification"),
    (WorkflowError, 409, "workflow"),
    (JingzhunError, 400, "invalid"),
)


def status_of(exc: JingzhunError) -> tuple[int, str]:
    for cls, status, kind in STATUS:
        if isinstance(exc, cls):
            return status, kind
    return 400, "invalid"


def install(app: FastAPI) -> None:
    @app.exception_handler(JingzhunError)
    async def _handle(request: Request, exc: JingzhunError) -> JSONResponse:
        status, kind = status_of(exc)
        principal = getattr(request.state, "principal", None)
        if status == 403 and principal is not None:
            ctx = request.app.state.jz
            with ctx.store.session() as session:
                record(
                    session,
                    Actor(
                        principal.username, principal.role, request.client.host if request.client else None
                    ),
                    "denied",
                    "request",
                    f"{request.method} {request.url.path}"[:80],
                    at=ctx.now(),
                    details={"query": str(request.url.query), "message": str(exc)},
                )
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"error": kind, "message": str(exc)}, status_code=status, headers=headers)
