"""Page routers, one module per page type; :data:`ROUTERS` is what the app mounts."""

from jingzhun.web.pages import (
    alerts,
    audit,
    auth,
    cases,
    dashboard,
    home,
    households,
    imports,
    reports,
    review,
    review_lists,
    runs,
    whatif,
)

ROUTERS = tuple(
    m.router
    for m in (auth, home, dashboard, households, alerts, cases, review, review_lists, imports, runs, whatif,
              reports, audit)
)
