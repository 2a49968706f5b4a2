"""A user of one village (or township, county, department...) can neither read nor change anything of
another region, through any endpoint. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from .world import V1

INTRUDERS = ["v2", "v3", "vo", "t2", "c2", "dept", "admin"]
INSIDERS = ["v1", "t1", "c1"]


@pytest.fixture(scope="module")
def target(shared_world) -> dict:
    r = shared_world.post(
        "v1",
        "/cases",
        {
            "household_id": "H1",
            "village_code": V1,
            "head_name": "张三",
            "channel": "self_report",
            "risk_type": "因病",
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def _ids(response, key: str = "id") -> set:
    return {row[key] for row in response.json()["items"]}


def attempts(w, user: str, case: dict):
    """(name, response, refused?) for every way to reach the target case or household H1."""
    cid, v = case["id"], case["version"]
    yield "get case", w.get(user, f"/cases/{cid}"), lambda r: r.status_code == 403
    yield (
        "list cases",
        w.get(user, "/cases"),
        lambda r: r.status_code == 403 or cid not in _ids(r),
    )
    yield (
        "filter by household",
        w.get(user, "/cases", params={"household_id": "H1"}),
        lambda r: r.status_code == 403 or r.json()["total"] == 0,
    )
    yield (
        "filter by region",
        w.get(user, "/cases", params={"region": V1}),
        lambda r: r.status_code == 403 or r.json()["total"] == 0,
    )
    yield (
        "edit",
        w.patch(user, f"/cases/{cid}", {"version": v, "reason": "x"}),
        lambda r: r.status_code == 403,
    )
    yield (
        "transition",
        w.post(user, f"/cases/{cid}/transitions", {"action": "close", "version": v, "reason": "x"}),
        lambda r: r.status_code == 403,
    )
    yield (
        "measure",
        w.post(
            user,
            f"/cases/{cid}/measures",
            {"measure_type": "产业", "helper": "x", "start_date": "2026-03-01"},
        ),
        lambda r: r.status_code == 403,
    )
    yield (
        "follow-up",
        w.post(
            user, f"/cases/{cid}/follow-ups", {"visit_date": "2026-03-01", "visitor": "x", "findings": "x"}
        ),
        lambda r: r.status_code == 403,
    )
    yield "notice", w.get(user, f"/notices/{V1}"), lambda r: r.status_code == 403
    yield "case notice", w.get(user, f"/cases/{cid}/notice"), lambda r: r.status_code == 403
    yield (
        "open case",
        w.post(
            user,
            "/cases",
            {"household_id": "H1b", "village_code": V1, "head_name": "x", "channel": "self_report"},
        ),
        lambda r: r.status_code == 403,
    )
    yield "household", w.get(user, "/households/H1"), lambda r: r.status_code == 403
    yield (
        "household unmasked",
        w.get(user, "/households/H1", params={"unmask": True}),
        lambda r: r.status_code == 403,
    )
    yield (
        "search households",
        w.get(user, "/households", params={"q": "张三"}),
        lambda r: r.status_code == 403 or "H1" not in _ids(r, "household_id"),
    )
    yield (
        "households of region",
        w.get(user, "/households", params={"region": V1}),
        lambda r: r.status_code == 403,
    )
    yield (
        "alerts",
        w.get(user, "/alerts"),
        lambda r: r.status_code == 403 or "run-2026-02:H1" not in _ids(r, "alert_id"),
    )
    yield "case from alert", w.post(user, "/alerts/run-2026-02:H1/case"), lambda r: r.status_code == 403


@pytest.mark.parametrize("user", INTRUDERS)
def test_outsiders_are_refused_everywhere(shared_world, target, user):
    failures = [
        f"{name}: {r.status_code} {r.text[:120]}"
        for name, r, ok in attempts(shared_world, user, target)
        if not ok(r)
    ]
    assert failures == []
    # nothing changed
    after = shared_world.get("v1", f"/cases/{target['id']}").json()
    assert (after["version"], after["reason"], after["measures"], after["follow_ups"]) == (
        target["version"],
        None,
        [],
        [],
    )


@pytest.mark.parametrize("user", INSIDERS)
def test_insiders_can_read(shared_world, target, user):
    assert shared_world.get(user, f"/cases/{target['id']}").status_code == 200
    assert target["id"] in _ids(shared_world.get(user, "/cases"))
    assert shared_world.get(user, "/households/H1").status_code == 200
    assert "run-2026-02:H1" in _ids(shared_world.get(user, "/alerts"), "alert_id")
    assert "H1" in _ids(shared_world.get(user, "/households", params={"q": "张"}), "household_id")
    assert shared_world.get(user, f"/notices/{V1}").status_code == 200


def test_province_viewer_reads_masked_and_changes_nothing(shared_world, target):
    w = shared_world
    assert w.get("prov", f"/cases/{target['id']}").json()["allowed_actions"] == []
    assert w.get("prov", "/households/H1").json()["members"][0]["id_number"] == "5201**********001X"
    refused = {
        name: r.status_code
        for name, r, _ in attempts(w, "prov", target)
        if name
        in (
            "edit",
            "transition",
            "measure",
            "follow-up",
            "open case",
            "household unmasked",
            "case from alert",
        )
    }
    assert set(refused.values()) == {403}, refused


def test_refusals_are_audited(shared_world, target):
    from sqlalchemy import select

    from jingzhun.ops.models import AuditEntry

    shared_world.get("v2", f"/cases/{target['id']}")
    with shared_world.store.session() as s:
        row = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "denied", AuditEntry.actor == "v2")
            .order_by(AuditEntry.id.desc())
        ).first()
    assert row is not None and row.object_id == f"GET /api/v1/cases/{target['id']}"


@pytest.mark.parametrize(
    "user,status", [("prov", 403), ("dept", 403), ("admin", 403), ("c1", 200), ("t1", 200)]
)
def test_who_may_unmask(shared_world, user, status):
    assert shared_world.get(user, "/households/H1", params={"unmask": True}).status_code == status


def test_unknown_household(shared_world):
    assert shared_world.get("v1", "/households/NOPE").status_code == 404
