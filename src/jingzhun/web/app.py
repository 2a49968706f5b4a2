"""The FastAPI application factory: mounts the API under /api/v1; page routers are added by the caller
(``routers=``) or later with ``app.include_router``."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter, FastAPI

from jingzhun.api import PREFIX, api_router
from jingzhun.api.context import AppContext, RegionNames
from jingzhun.api.errors import install as install_errors
from jingzhun.cases.ports import AlertSource, HouseholdSource, InMemoryAlerts, InMemoryHouseholds, RiskChecks
from jingzhun.cases.ports import no_risk_checks as _no_checks
from jingzhun.ops import OpsStore, open_store
from jingzhun.settings import Settings


def _version() -> str:
    try:
        return version("jingzhun")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


def create_app(
    settings: Settings | None = None,
    *,
    store: OpsStore | None = None,
    households: HouseholdSource | None = None,
    alerts: AlertSource | None = None,
    risk_checks: RiskChecks | None = None,
    region_names: RegionNames | None = None,
    routers: Iterable[APIRouter] = (),
) -> FastAPI:
    """Build the application. Without ``store`` it opens (and migrates) ``settings.database_url``.

    The ports default to empty sources and to risk checks that never pass, until the pipeline supplies
    real ones. ``app.state.jz`` holds the :class:`~jingzhun.api.context.AppContext`.
    """
    settings = settings or Settings()
    store = store or open_store(settings.database_url)
    app = FastAPI(
        title="Jingzhun 精准 API",
        version=_version(),
        description="防止返贫动态监测: cases, households, alerts, runs and imports. Sign in with "
        "POST /api/v1/auth/login and send `Authorization: Bearer <token>`.",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
    )
    context = AppContext(
        settings=settings,
        store=store,
        risk_checks=risk_checks or _no_checks,
        households=households or InMemoryHouseholds(),
        alerts=alerts or InMemoryAlerts(),
    )
    if region_names is not None:
        context.region_names = region_names
    app.state.jz = context
    install_errors(app)
    app.include_router(api_router())
    for router in routers:
        app.include_router(router)
    return app
