"""Hardening of the API: CSRF for cookie-authenticated writes, out-of-range numbers refused (never a
5xx), declared status codes, security headers, every refusal audited. SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from jingzhun.ops.models import AuditEntry

from .world import PASSWORD, V1


def _case(world) -> dict:
    r = world.post("v1", "/cases", {"household_id": "H1", "village_code": V1, "head_name": "张三",
                                   "channel": "self_report"})
    assert r.status_code == 201, r.text
    return r.json()


def _refusals(world, actor: str) -> list[AuditEntry]:
    with world.store.session() as s:
        return list(s.scalars(select(AuditEntry).where(
            AuditEntry.actor == actor, AuditEntry.action.in_(("denied", "refused")))).all())


def test_cookie_writes_need_the_csrf_token_bearer_writes_do_not(world):
    case = _case(world)
    c = world.client
    login = c.post("/api/v1/auth/login", json={"username": "v1", "password": PASSWORD, "cookie": True})
    token = login.json()["csrf_token"]
    assert token and c.cookies.get("jz_csrf") == token
    edit = {"version": case["version"], "reason": "改"}
    forged = c.patch(f"/api/v1/cases/{case['id']}", json=edit)  # a cross-site form could send this
    assert forged.status_code == 403 and forged.json()["error"] == "csrf"
    wrong = c.patch(f"/api/v1/cases/{case['id']}", json=edit, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    assert world.get("v1", f"/cases/{case['id']}").json()["version"] == case["version"]  # nothing changed
    assert [e.object_id for e in _refusals(world, "v1")][-2:] == [f"PATCH /api/v1/cases/{case['id']}"] * 2
    ok = c.patch(f"/api/v1/cases/{case['id']}", json=edit, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200 and ok.json()["version"] == case["version"] + 1
    assert c.get("/api/v1/auth/me").status_code == 200  # reads need no token
    c.cookies.clear()
    # a bearer token is never sent by a browser on its own: no CSRF token needed
    again = world.patch("v1", f"/cases/{case['id']}", {"version": case["version"] + 1, "reason": "再改"})
    assert again.status_code == 200


def test_numbers_beyond_the_store_are_refused_as_invalid_never_500(world):
    for path in ("/runs?offset=9873210656061581312", "/cases?limit=501", "/cases/9223372036854775808",
                 "/audit?offset=-1"):
        assert world.get("admin" if "audit" in path else "c1", path).status_code == 422, path
    r = world.post("v1", "/cases/9223372036854775808/transitions", {"action": "close", "version": 1})
    assert r.status_code == 422
    r = world.post("v1", "/cases/1/transitions", {"action": "close", "version": 2**63})
    assert r.status_code == 422
    # text PostgreSQL cannot hold (a NUL character) answers 400 there, never 500; SQLite simply finds nothing
    assert world.get("c1", "/imports", params={"period": "2026\x00"}).status_code in (200, 400)
    assert world.client.post("/api/v1/auth/login", json={"username": "v\x001", "password": "x"}).status_code in (
        400, 401)


def test_refused_writes_about_other_regions_are_audited_even_when_invalid(world):
    case = _case(world)
    before = len(_refusals(world, "vo"))
    r = world.post("vo", f"/cases/{case['id']}/measures", {"measure_type": "产业"})  # 422 and foreign
    assert r.status_code == 422
    r = world.post("vo", f"/cases/{case['id']}/transitions", {"action": "close", "version": 1, "reason": "x"})
    assert r.status_code == 403
    found = _refusals(world, "vo")[before:]
    assert [(e.action, e.details["status"]) for e in found] == [("refused", 422), ("denied", 403)]


def test_openapi_declares_the_error_answers_and_answers_carry_security_headers(world):
    spec = world.client.get("/api/v1/openapi.json")
    for path, ops in spec.json()["paths"].items():
        for method, op in ops.items():
            assert {"400", "401", "403", "404", "409"} <= set(op["responses"]), (method, path)
    assert "429" in spec.json()["paths"]["/api/v1/auth/login"]["post"]["responses"]
    for r in (spec, world.get("v1", "/auth/me"), world.client.get("/login"), world.client.get("/static/app.css")):
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
