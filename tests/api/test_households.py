"""Household views through the API: every view audited, ID numbers masked unless the role may unmask."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from jingzhun.ops.models import AuditEntry

FULL_ID = "52010219800101001X"


def audit_rows(world, **where):
    with world.store.session() as s:
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEntry, key) == value)
        return s.scalars(stmt).all()


def test_every_view_is_audited(world):
    for _ in range(3):
        assert world.get("v1", "/households/H1").status_code == 200
    assert world.get("t1", "/households/H1").status_code == 200
    rows = audit_rows(world, object_type="household", object_id="H1")
    assert [(r.actor, r.action) for r in rows] == [("v1", "view")] * 3 + [("t1", "view")]
    assert all(r.ip and r.at and r.details == {"village_code": "520102001001"} for r in rows)
    world.get("c1", "/households", params={"q": "李"})
    search = audit_rows(world, object_type="household", action="search")
    assert search[-1].details["household_ids"] == ["H2"]


def test_masked_by_default_full_on_request_and_audited(world):
    body = world.get("v1", "/households/H1").json()
    member = body["members"][0]
    assert member["id_number"] == "5201**********001X" and member["name"] == "张三"
    assert FULL_ID not in str(body) and "6222021234567890123" not in str(body)
    full = world.get("v1", "/households/H1", params={"unmask": True})
    assert full.status_code == 200 and full.json()["members"][0]["id_number"] == FULL_ID
    assert [r.action for r in audit_rows(world, object_id="H1")] == ["view", "view_unmasked"]
    assert FULL_ID not in world.get("c1", "/households", params={"q": "张"}).text  # lists are always masked


def test_audit_rows_cannot_be_changed_or_deleted(world):
    world.get("v1", "/households/H1")
    before = [(r.id, r.actor, r.action) for r in audit_rows(world)]
    for sql in ("UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log WHERE action = 'view'"):
        with pytest.raises(Exception, match="append-only"), world.store.session() as s:
            s.execute(text(sql))
    assert [(r.id, r.actor, r.action) for r in audit_rows(world)] == before
    # and the API has no way to change them
    spec = world.client.get("/api/v1/openapi.json").json()
    assert set(spec["paths"]["/api/v1/audit"]) == {"get"}
