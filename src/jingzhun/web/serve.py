"""Serving with several worker processes (``jingzhun serve --workers N``).

Python runs one request at a time per process, so with many users the latency is the time waiting for
a turn; several uvicorn worker processes share the listening socket and the read-only web index
(:mod:`jingzhun.reports.index`). Before any worker starts, :func:`prepare` does once what the workers
would otherwise race for: migrate the operational store, create the cookie-signing key of the data
folder, and build the web index of the current data (so that no request waits for it). Each worker
(:func:`worker_app`, the factory uvicorn imports in every process) then only opens the files.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from fastapi import FastAPI

from jingzhun.settings import Settings

log = logging.getLogger(__name__)

HEALTHCHECK_S = 300  # seconds a worker may take to answer uvicorn's health check before it is replaced


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return max(os.cpu_count() or 1, 1)


def prepare(settings: Settings) -> dict[str, Any]:
    """Migrate the store, make sure the signing key exists and build the web index; returns what it did
    (``index_s``: seconds to build or find the index, ``built``: the seconds per file built).
    A failing index build is logged and left to the first page that needs it."""
    from jingzhun.ops import open_store
    from jingzhun.reports import index

    store = open_store(settings.database_url)
    try:
        _ = settings.signing_key  # created in the data folder now, not by two workers at once
        start = time.perf_counter()
        try:
            _, _, _, built = index.build(settings.data, store)
        except Exception:
            log.exception("web index: building before serving failed; the first page will retry")
            built = {}
        return {"index_s": round(time.perf_counter() - start, 3), "built": built}
    finally:
        store.dispose()


def open_index(app: FastAPI) -> None:
    """Open the web index of ``app`` now rather than on the first request (a failure is left to it)."""
    try:
        app.state.web.index.cursor()
    except Exception:
        log.exception("web index: opening at start failed; the first page will retry")


def worker_app() -> FastAPI:
    """The application of one worker process: settings from the environment (``JINGZHUN_*``), the store
    already migrated and the index already built by :func:`prepare` in the parent."""
    from jingzhun.web.app import create_app

    app = create_app(Settings())
    open_index(app)
    return app


def serve(settings: Settings, host: str, port: int, workers: int | None = None, **uvicorn_args: Any) -> None:
    """Prepare once, then serve with ``workers`` processes (default :func:`default_workers`)."""
    import uvicorn

    workers = workers or default_workers()
    prepared = prepare(settings)
    log.info("web index ready in %.1f s (%s)", prepared["index_s"], prepared["built"])
    if workers == 1:
        from jingzhun.web.app import create_app

        app = create_app(settings)
        open_index(app)
        uvicorn.run(app, host=host, port=port, **uvicorn_args)
        return
    # the workers are new processes: they read their settings from the environment
    os.environ["JINGZHUN_DATA"] = str(settings.data)
    if settings.db_url:
        os.environ["JINGZHUN_DB_URL"] = settings.db_url
    # uvicorn kills a worker that does not answer its health check in time (5 s by default): a worker
    # still importing on a busy machine, or holding the GIL through a long request, is not hung
    uvicorn_args.setdefault("timeout_worker_healthcheck", HEALTHCHECK_S)
    uvicorn.run(
        "jingzhun.web.serve:worker_app", factory=True, workers=workers, host=host, port=port, **uvicorn_args
    )
