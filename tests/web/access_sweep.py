"""The access sweep: every role × region × endpoint (pages and API) of the app, each request answered as
the permission matrix (``jingzhun.auth.permissions.MATRIX``) says, and every refusal in the audit log.

``ENDPOINTS`` names, for every route of the application, the action of the matrix it needs and what it
acts on (a region's object, a feed's import, or nothing in particular); :func:`unclassified_routes` fails
the sweep when a route is added without an entry here. Used by ``tests/web/test_access_sweep.py`` and by
``bench/harden/access.py`` (which writes the figures into docs/RELIABILITY.md).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from jingzhun.api import PREFIX
from jingzhun.auth import permissions, scope
from jingzhun.auth.users import Principal
from jingzhun.ops.models import AuditEntry
from jingzhun.web.pages import ROUTERS

from .world import PASSWORD, RUN2, USERS, V1, V2, V3

# one object of each kind in each of three villages (two townships)
HOUSEHOLD = {V1: "H1", V2: "H3", V3: "H5"}
ALERT = {V: f"{RUN2}~{h}~{r}" for V, h, r in ((V1, "H1", "trigger.serious_illness"),
                                               (V2, "H3", "trigger.serious_illness"),
                                               (V3, "H5", "trigger.disaster_loss"))}
REVIEW = {V1: ("medical_claim", "fp-1", "H1P0"), V3: ("medical_claim", "fp-3", "H5P0")}
FEEDS = {"medical_claim": "imp-medical", "household": "imp-household"}
REGIONS = (V1, V2, V3)
CSV = b"\xe6\x88\xb7\xe7\xbc\x96\xe5\x8f\xb7\n"  # a header-only csv ("户编号"): nothing to import


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # the route's path template
    action: str | None  # None: any signed-in user (or anyone)
    target: str  # "region" | "feed" | "none"
    call: Callable[[Any, str, str], Any]  # (sweep, user, target) -> response


@dataclass
class Outcome:
    user: str
    role: str
    endpoint: str
    target: str
    expected: str  # "allowed" | "refused"
    status: int
    audited: bool

    @property
    def ok(self) -> bool:
        if self.status >= 500 or self.status == 401:
            return False
        if self.expected == "refused":
            return self.status in (403, 404) and self.audited
        return self.status not in (403,)


def _api(method: str, path: str, body: Callable[[Any, str], dict] | None = None, **params: Any):
    def call(sw: Any, user: str, target: str):
        filled = path.format(**sw.fill(target))
        kw: dict[str, Any] = {"headers": sw.bearer(user)}
        if body is not None:
            kw["json"] = body(sw, target, user)
        if params:
            kw["params"] = {k: (v(sw, target) if callable(v) else v) for k, v in params.items()}
        return sw.client(user).request(method, PREFIX + filled, **kw)

    return call


def _page(method: str, path: str, data: Callable[[Any, str], dict] | None = None, files: bool = False,
          **params: Any):
    def call(sw: Any, user: str, target: str):
        filled = path.format(**sw.fill(target))
        kw: dict[str, Any] = {}
        if params:
            kw["params"] = {k: (v(sw, target) if callable(v) else v) for k, v in params.items()}
        if method == "GET":
            return sw.client(user).get(filled, **kw)
        form = {"csrf_token": sw.client(user).cookies.get("jz_csrf"), **(data(sw, target, user) if data else {})}
        if files:
            kw["files"] = [("files", ("sweep.csv", io.BytesIO(CSV), "text/csv"))]
        return sw.client(user).post(filled, data=form, **kw)

    return call


def _case_body(sw: Any, target: str, user: str) -> dict:
    return {"household_id": f"HX-{target}-{sw.counter()}", "village_code": target, "head_name": "测试",
            "channel": "cadre_screening"}


def _step(user: str) -> str:
    """A workflow step the user's role may take (from another state: allowed users get 409)."""
    return "county_confirm" if USERS[user][0] == "county" else "close"


NO_LIST = "0" * 16  # an uploaded review list that does not exist: an allowed user gets 404
STALE = 10_000  # a version no case has: an allowed write ends in 409 and changes nothing
MEASURE = {"measure_type": "产业", "helper": "王", "start_date": "2026-03-01"}
FOLLOW_UP = {"visit_date": "2025-01-01", "visitor": "王", "findings": "正常"}
REGION_PARAM = {"region": lambda sw, t: t}

ENDPOINTS: tuple[Endpoint, ...] = (
    # --- API ---
    Endpoint("POST", "/api/v1/auth/login", None, "none", lambda sw, u, t: sw.client(u).post(
        PREFIX + "/auth/login", json={"username": u, "password": PASSWORD})),
    Endpoint("GET", "/api/v1/auth/me", None, "none", _api("GET", "/auth/me")),
    Endpoint("GET", "/api/v1/workflow", None, "none", _api("GET", "/workflow")),
    Endpoint("GET", "/api/v1/cases", "read", "none", _api("GET", "/cases")),
    Endpoint("POST", "/api/v1/cases", "case_write", "region", _api("POST", "/cases", _case_body)),
    Endpoint("GET", "/api/v1/cases/{case_id}", "read", "region", _api("GET", "/cases/{case}")),
    Endpoint("PATCH", "/api/v1/cases/{case_id}", "case_write", "region",
             _api("PATCH", "/cases/{case}", lambda sw, t, u: {"version": STALE, "reason": "x"})),
    Endpoint("POST", "/api/v1/cases/{case_id}/transitions", "case_write", "region",
             _api("POST", "/cases/{case}/transitions",
                  lambda sw, t, u: {"action": _step(u), "version": STALE, "reason": "x"})),
    Endpoint("POST", "/api/v1/cases/{case_id}/measures", "case_write", "region",
             _api("POST", "/cases/{case}/measures", lambda sw, t, u: MEASURE)),
    Endpoint("POST", "/api/v1/cases/{case_id}/follow-ups", "case_write", "region",
             _api("POST", "/cases/{case}/follow-ups", lambda sw, t, u: FOLLOW_UP)),
    Endpoint("GET", "/api/v1/notices/{village_code}", "read", "region", _api("GET", "/notices/{village}")),
    Endpoint("GET", "/api/v1/cases/{case_id}/notice", "read", "region", _api("GET", "/cases/{case}/notice")),
    Endpoint("GET", "/api/v1/households", "read", "region", _api("GET", "/households", **REGION_PARAM)),
    Endpoint("GET", "/api/v1/households/{household_id}", "read", "region", _api("GET", "/households/{household}")),
    Endpoint("GET", "/api/v1/households/{household_id}?unmask", "unmask", "region",
             _api("GET", "/households/{household}", unmask="true")),
    Endpoint("GET", "/api/v1/alerts", "read", "region", _api("GET", "/alerts", **REGION_PARAM)),
    Endpoint("POST", "/api/v1/alerts/{alert_id}/case", "case_write", "region", _api("POST", "/alerts/{alert}/case")),
    Endpoint("GET", "/api/v1/imports", "ledgers", "none", _api("GET", "/imports")),
    Endpoint("GET", "/api/v1/runs", "ledgers", "none", _api("GET", "/runs")),
    Endpoint("GET", "/api/v1/runs/{run_id}", "ledgers", "none", _api("GET", f"/runs/{RUN2}")),
    Endpoint("GET", "/api/v1/audit", "audit", "none", _api("GET", "/audit")),
    # --- pages ---
    Endpoint("GET", "/login", None, "none", lambda sw, u, t: sw.client(u).get("/login")),
    Endpoint("GET", "/", None, "none", _page("GET", "/")),
    Endpoint("GET", "/dashboard", "read", "region", _page("GET", "/dashboard", **REGION_PARAM)),
    Endpoint("GET", "/households", "read", "none", _page("GET", "/households", q="张")),
    Endpoint("GET", "/households.xlsx", "export", "none", _page("GET", "/households.xlsx", q="张")),
    Endpoint("GET", "/households/{household_id}", "read", "region", _page("GET", "/households/{household}")),
    Endpoint("GET", "/households/{household_id}?unmask", "unmask", "region",
             _page("GET", "/households/{household}", unmask="true")),
    Endpoint("GET", "/alerts", "read", "none", _page("GET", "/alerts")),
    Endpoint("GET", "/alerts.xlsx", "export", "none", _page("GET", "/alerts.xlsx")),
    Endpoint("POST", "/alerts/{alert_id}/case", "case_write", "region", _page("POST", "/alerts/{alert}/case")),
    Endpoint("GET", "/cases", "read", "none", _page("GET", "/cases")),
    Endpoint("GET", "/cases.xlsx", "export", "none", _page("GET", "/cases.xlsx")),
    Endpoint("GET", "/cases/{case_id}", "read", "region", _page("GET", "/cases/{case}")),
    Endpoint("POST", "/cases/{case_id}/measures", "case_write", "region",
             _page("POST", "/cases/{case}/measures", lambda sw, t, u: MEASURE)),
    Endpoint("POST", "/cases/{case_id}/follow-ups", "case_write", "region",
             _page("POST", "/cases/{case}/follow-ups", lambda sw, t, u: FOLLOW_UP)),
    Endpoint("POST", "/cases/{case_id}/transition", "case_write", "region",
             _page("POST", "/cases/{case}/transition",
                   lambda sw, t, u: {"action": _step(u), "version": str(STALE), "reason": "x"})),
    Endpoint("GET", "/cases/new", "case_write", "none", _page("GET", "/cases/new")),
    Endpoint("POST", "/cases/new", "case_write", "region",  # no channel: an allowed user gets 422
             _page("POST", "/cases/new", lambda sw, t, u: {"household": HOUSEHOLD[t], "channel": "",
                                                           "risk_type": "因病", "reason": "x"})),
    Endpoint("POST", "/cases/{case_id}/edit", "case_write", "region",
             _page("POST", "/cases/{case}/edit", lambda sw, t, u: {"version": str(STALE), "risk_type": "因病"})),
    Endpoint("GET", "/review", "read", "none", _page("GET", "/review")),
    Endpoint("GET", "/review/lists", "review", "none", _page("GET", "/review/lists")),
    Endpoint("POST", "/review/lists", "review", "none", _page("POST", "/review/lists")),
    Endpoint("GET", "/review/lists/{key}", "review", "none", _page("GET", f"/review/lists/{NO_LIST}")),
    Endpoint("POST", "/review/lists/{key}/decide", "review", "none",
             _page("POST", f"/review/lists/{NO_LIST}/decide",
                   lambda sw, t, u: {"fingerprint": "x", "left_id": "x", "decision": "reject"})),
    Endpoint("GET", "/favicon.ico", None, "none", _page("GET", "/favicon.ico")),
    Endpoint("POST", "/review/decide", "review", "region",
             _page("POST", "/review/decide", lambda sw, t, u: sw.review_form(t))),
    Endpoint("GET", "/imports", "ledgers", "none", _page("GET", "/imports")),
    Endpoint("POST", "/imports", "import", "feed",
             _page("POST", "/imports", lambda sw, t, u: {"dataset": t, "period": "2025-03"}, files=True)),
    Endpoint("GET", "/imports/{import_id}", "rejects", "feed", _page("GET", "/imports/{import_id}")),
    Endpoint("GET", "/imports/{import_id}/rejects.xlsx", "rejects", "feed",
             _page("GET", "/imports/{import_id}/rejects.xlsx")),
    Endpoint("GET", "/runs", "ledgers", "none", _page("GET", "/runs")),
    Endpoint("POST", "/runs", "run", "none", _page("POST", "/runs", lambda sw, t, u: {"period": "2025-13"})),
    Endpoint("GET", "/runs/watch", "ledgers", "none",
             _page("GET", "/runs/watch", period="2025-02", since="20250301T000000000000")),
    Endpoint("GET", "/runs/progress", "ledgers", "none",
             _page("GET", "/runs/progress", period="2025-02", since="20250301T000000000000")),
    Endpoint("GET", "/runs/{run_id}", "ledgers", "none", _page("GET", f"/runs/{RUN2}")),
    Endpoint("GET", "/whatif", "read", "none", _page("GET", "/whatif")),
    Endpoint("POST", "/whatif", "read", "none",
             _page("POST", "/whatif", lambda sw, t, u: {"period": "2099-01", "monitoring_line": "7000"})),
    Endpoint("GET", "/reports", "read", "region", _page("GET", "/reports", **REGION_PARAM)),
    Endpoint("GET", "/reports.xlsx", "export", "region", _page("GET", "/reports.xlsx", **REGION_PARAM)),
    Endpoint("GET", "/audit", "audit", "none", _page("GET", "/audit")),
)


#: routes that act on the caller's own session only (signing in with a form, signing out): the sweep
#: signs in through the page form and would end its own sessions by calling them
NOT_SWEPT = {("POST", "/api/v1/auth/logout"), ("POST", "/login"), ("POST", "/logout")}


def route_keys(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route of the app: the API from its OpenAPI document, the pages' routers."""
    keys = {(m.upper(), path) for path, ops in app.openapi()["paths"].items() for m in ops}
    for router in ROUTERS:
        for route in router.routes:
            keys |= {(m, route.path) for m in route.methods if m != "HEAD"}
    return keys


def unclassified_routes(app: Any) -> set[tuple[str, str]]:
    covered = {(e.method, e.path.split("?")[0]) for e in ENDPOINTS}
    return route_keys(app) - covered - NOT_SWEPT


def expected(user: str, endpoint: Endpoint, target: str) -> str:
    """What the matrix says about ``user`` doing ``endpoint`` on ``target``."""
    if endpoint.action is None:
        return "allowed"
    role, own = USERS[user]
    found = permissions.scope_for(role, endpoint.action)
    if found is permissions.Scope.NONE:
        return "refused"
    if endpoint.target == "region" and found is permissions.Scope.REGION:
        return "allowed" if scope.in_scope(Principal(0, user, role, own), target) else "refused"
    if endpoint.target == "feed" and found is permissions.Scope.OWN_FEED:
        return "allowed" if target == own else "refused"
    return "allowed"


def targets(endpoint: Endpoint) -> tuple[str, ...]:
    if endpoint.target == "region":
        return tuple(r for r in REGIONS if "review" not in endpoint.path or r in REVIEW)
    if endpoint.target == "feed":
        return tuple(FEEDS)
    return ("*",)


@dataclass
class Sweep:
    pages: Any  # tests.web.conftest.Pages
    tokens: dict[str, str] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)
    n: int = 0

    def client(self, user: str):
        return self.pages.login(user)

    def counter(self) -> int:
        self.n += 1
        return self.n

    def bearer(self, user: str) -> dict[str, str]:
        if user not in self.tokens:
            r = self.client(user).post(PREFIX + "/auth/login", json={"username": user, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self.tokens[user] = r.json()["token"]
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def setup(self) -> None:
        """One case per village, opened by the county office."""
        for village in REGIONS:
            r = self.client("xian").post(PREFIX + "/cases", headers=self.bearer("xian"), json={
                "household_id": HOUSEHOLD[village], "village_code": village, "head_name": "户主",
                "channel": "self_report"})
            assert r.status_code == 201, r.text
            self.cases[village] = r.json()["id"]

    def fill(self, target: str) -> dict[str, Any]:
        if target in REGIONS:
            return {"case": self.cases[target], "village": target, "household": HOUSEHOLD[target],
                    "alert": ALERT[target]}
        if target in FEEDS:
            return {"import_id": FEEDS[target]}
        return {}

    def review_form(self, target: str) -> dict[str, str]:
        feed, fingerprint, person = REVIEW[target]
        return {"feed": feed, "fingerprint": fingerprint, "person_id": person, "decision": "reject"}

    def refusals(self, user: str) -> int:
        with self.pages.app.state.jz.store.session() as s:
            return int(s.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.actor == user, AuditEntry.action.in_(("denied", "refused")))) or 0)

    def run(self, users: tuple[str, ...] = tuple(USERS)) -> list[Outcome]:
        self.setup()
        outcomes = []
        for endpoint in ENDPOINTS:
            for target in targets(endpoint):
                for user in users:
                    before = self.refusals(user)
                    response = endpoint.call(self, user, target)
                    outcomes.append(Outcome(
                        user, USERS[user][0], f"{endpoint.method} {endpoint.path}", target,
                        expected(user, endpoint, target), response.status_code, self.refusals(user) > before))
        return outcomes


def figures(outcomes: list[Outcome]) -> dict[str, Any]:
    """The sweep's figures: attempts, how many the matrix refuses, how many were refused and audited."""
    should = [o for o in outcomes if o.expected == "refused"]
    refused = [o for o in should if o.status in (403, 404)]
    return {
        "requests": len(outcomes),
        "users": len({o.user for o in outcomes}),
        "endpoints": len({o.endpoint for o in outcomes}),
        "should_be_refused": len(should),
        "refused": len(refused),
        "refused_and_audited": sum(o.audited for o in refused),
        "allowed_as_expected": sum(o.ok for o in outcomes if o.expected == "allowed"),
        "should_be_allowed": sum(o.expected == "allowed" for o in outcomes),
        "server_errors": sum(o.status >= 500 for o in outcomes),
        "wrong": [o.__dict__ for o in outcomes if not o.ok],
    }
