"""Jingzhun errors as HTTP answers: ``{"error": <kind>, "message": <zh / en text>}``; every refusal of a
signed-in user is audited (:func:`audit_refusal`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from jingzhun.api.deps import SAFE_METHODS, CsrfFailed, client_ip, principal_of
from jingzhun.audit import Actor, record
from jingzhun.errors import (
    AuthenticationFailed,
    ConcurrentModification,
    JingzhunError,
    LoginThrottled,
    NotFound,
    PermissionDenied,
    WorkflowError,
)

# most specific first
STATUS: tuple[tuple[type[JingzhunError], int, str], ...] = (
    (LoginThrottled, 429, "too_many_attempts"),
    (AuthenticationFailed, 401, "unauthenticated"),
    (PermissionDenied, 403, "forbidden"),
    (CsrfFailed, 403, "csrf"),
    (NotFound, 404, "not_found"),
    (ConcurrentModification, 409, "concurrent_modification"),
    (WorkflowError, 409, "workflow"),
    (JingzhunError, 400, "invalid"),
)

#: The error answers every API operation may give, declared in the OpenAPI document.
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    "required": ["error", "message"],
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {"application/json": {"schema": ERROR_SCHEMA}}}
    for status, text in (
        (400, "invalid: a field or parameter is not valid"),
        (401, "unauthenticated: no, expired or revoked token"),
        (403, "forbidden: outside your region, your role may not do this, or a missing CSRF token"),
        (404, "not_found: no such object"),
        (409, "workflow or concurrent_modification"),
    )
}


def status_of(exc: JingzhunError) -> tuple[int, str]:
    for cls, status, kind in STATUS:
        if isinstance(exc, cls):
            return status, kind
    return 400, "invalid"


def is_refusal(method: str, status: int) -> bool:
    """Which answers are refusals to audit: every 403, and every other 4xx answer to a write (a 400 or 422
    about somebody else's case is audited like the 403 it would have become). Sign-in failures (401,
    429) are audited by the login itself.

    >>> is_refusal("GET", 403), is_refusal("GET", 404), is_refusal("POST", 422), is_refusal("POST", 401)
    (True, False, True, False)
    """
    if status in (401, 429) or not 400 <= status < 500:
        return False
    return status == 403 or method not in SAFE_METHODS


def audit_refusal(request: Request, status: int, kind: str, message: str) -> None:
    """Write the refusal of this request to the audit log (``denied`` for 403, ``refused`` otherwise),
    under the signed-in user; anonymous requests are not recorded (they are refused with 401)."""
    if not is_refusal(request.method, status):
        return
    principal = principal_of(request)
    if principal is None:
        return
    ctx = request.app.state.jz
    with ctx.store.session() as session:
        record(
            session,
            Actor(principal.username, principal.role, client_ip(request)),
            "denied" if status == 403 else "refused",
            "request",
            f"{request.method} {request.url.path}"[:80],
            at=ctx.now(),
            details={"status": status, "error": kind, "query": str(request.url.query)[:500],
                     "message": message[:500]},
        )


def install(app: FastAPI) -> None:
    @app.exception_handler(JingzhunError)
    async def _handle(request: Request, exc: JingzhunError) -> JSONResponse:
        status, kind = status_of(exc)
        audit_refusal(request, status, kind, str(exc))
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, LoginThrottled):
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse({"error": kind, "message": str(exc)}, status_code=status, headers=headers)

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # the database refused a value the schema let through (a NUL character in text, a number out of
        # the column's range): the request was invalid, nothing was stored (the transaction rolled back)
        message = (
            "取值无效（含不可存储的字符或超出范围）/ a value is invalid (characters that cannot be stored, "
            "or out of range)"
        )
        audit_refusal(request, 400, "invalid", message)
        return JSONResponse({"error": "invalid", "message": message}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = jsonable_encoder(exc.errors())
        audit_refusal(request, 422, "validation", str(detail))
        return JSONResponse({"detail": detail}, status_code=422)
