"""The FastAPI application factory: mounts the API under /api/v1, the pages (:mod:`jingzhun.web.pages`)
and their static files; more routers can be added by the caller (``routers=``) or later with
``app.include_router``."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from fastapi import APIRouter, FastAPI
from starlette.middleware.gzip import GZipMiddleware

from jingzhun.api import PREFIX, api_router
from jingzhun.api.context import AppContext, RegionNames
from jingzhun.api.errors import install as install_errors
from jingzhun.cases.ports import AlertSource, HouseholdSource, RiskChecks
from jingzhun.ops import OpsStore, open_store
from jingzhun.pipeline.risk import RunRiskChecks
from jingzhun.reports.index import WebIndex
from jingzhun.reports.sources import IndexedAlerts, IndexedHouseholds
from jingzhun.settings import Settings
from jingzhun.web import timefmt
from jingzhun.web.errors import install_page_errors
from jingzhun.web.pages import ROUTERS
from jingzhun.web.security import SecurityHeaders
from jingzhun.web.state import WebState
from jingzhun.web.static_files import CachedStaticFiles


def _names(index: WebIndex) -> RegionNames:
    def name(code: str) -> str | None:
        found = index.cursor().execute("SELECT name FROM reg.region WHERE code = ?", [code]).fetchall()
        return found[0][0] if found else None

    return name


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

    The ports default to the sources of :mod:`jingzhun.reports.sources` over the web index of
    ``settings.data`` (:mod:`jingzhun.reports.index`; empty until data is imported and a run finishes)
    and to the latest run's risk checks. ``app.state.jz`` holds the
    :class:`~jingzhun.api.context.AppContext`, ``app.state.web`` the pages' :class:`WebState`.
    """
    settings = settings or Settings()
    timefmt.configure(settings.time_zone)
    store = store or open_store(settings.database_url)
    index = WebIndex(settings.data, store)
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
        risk_checks=risk_checks or RunRiskChecks(settings.data, store),
        households=households or IndexedHouseholds(index),
        alerts=alerts or IndexedAlerts(index),
    )
    context.region_names = region_names if region_names is not None else _names(index)
    app.state.jz = context
    app.state.web = WebState(Path(settings.data), index)
    app.add_middleware(SecurityHeaders, docs_path=f"{PREFIX}/docs")
    install_errors(app)
    install_page_errors(app)
    app.include_router(api_router())
    app.mount("/static", CachedStaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    for page_router in ROUTERS:
        app.include_router(page_router)
    for router in routers:
        app.include_router(router)
    return app
