"""Static files (CSS, scripts, the vendored ECharts and htmx) served with a cache lifetime: browsers on a
village's mobile connection fetch them once a day, not on every page. Compression is the app's
``GZipMiddleware`` (ECharts: 1 MB → about 330 KB)."""

from __future__ import annotations

from typing import Any

from starlette.staticfiles import StaticFiles
from starlette.types import Scope

#: how long a browser may reuse a static file without asking (it revalidates with ETag afterwards)
MAX_AGE = 86400


class CachedStaticFiles(StaticFiles):
    """:class:`StaticFiles` that adds ``Cache-Control: public, max-age=MAX_AGE``."""

    async def get_response(self, path: str, scope: Scope) -> Any:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["cache-control"] = f"public, max-age={MAX_AGE}"
        return response
