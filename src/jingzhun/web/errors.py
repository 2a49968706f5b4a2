"""Errors on pages: HTML instead of the API's JSON, and a redirect to the login page when signed out."""

from __future__ import annotations

import inspect
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from jingzhun.api import PREFIX
from jingzhun.api.errors import audit_refusal, status_of
from jingzhun.errors import AuthenticationFailed, JingzhunError
from jingzhun.web.views import LoginRequired, render


def install_page_errors(app: FastAPI) -> None:
    api_handler = app.exception_handlers[JingzhunError]

    async def api_answer(request: Request, exc: Exception) -> Response:
        answer = api_handler(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    async def login_required(request: Request, exc: Exception) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    async def page_error(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith(PREFIX) or not isinstance(exc, JingzhunError):
            return await api_answer(request, exc)
        if isinstance(exc, AuthenticationFailed):
            return await login_required(request, exc)
        status, kind = status_of(exc)
        audit_refusal(request, status, kind, str(exc))
        return render(request, "error.html", status, title="出错了", message=str(exc))

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(JingzhunError, page_error)
