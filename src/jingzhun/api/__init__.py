"""The REST API under ``/api/v1`` (FastAPI, OpenAPI at ``/api/v1/openapi.json``)."""

from __future__ import annotations

from fastapi import APIRouter

from jingzhun.api import routes_alerts, routes_auth, routes_cases, routes_households, routes_ledgers
from jingzhun.api.context import AppContext
from jingzhun.api.errors import RESPONSES

PREFIX = "/api/v1"


def api_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, responses=RESPONSES)
    for module in (routes_auth, routes_cases, routes_households, routes_alerts, routes_ledgers):
        router.include_router(module.router)
    return router


__all__ = ["PREFIX", "AppContext", "api_router"]
