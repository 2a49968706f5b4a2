"""Every role × region × endpoint, pages and API, against the permission matrix; every refusal audited
(the generated sweep of ``access_sweep.py``; ``bench/harden/access.py`` writes its figures to
docs/RELIABILITY.md)."""

from __future__ import annotations

from .access_sweep import ENDPOINTS, Sweep, figures, unclassified_routes


def test_every_route_is_in_the_sweep(shared_web):
    assert unclassified_routes(shared_web.app) == set()
    assert len(ENDPOINTS) >= 50


def test_every_role_region_and_endpoint_is_answered_as_the_matrix_says_and_refusals_are_audited(web):
    found = figures(Sweep(web).run())
    assert found["wrong"] == []
    assert found["should_be_refused"] > 150 and found["refused"] == found["should_be_refused"]
    assert found["refused_and_audited"] == found["refused"]
    assert found["server_errors"] == 0
    assert found["users"] == 7 and found["endpoints"] == len(ENDPOINTS)


def test_page_numbers_beyond_the_store_are_refused_never_500(shared_web):
    c = shared_web.login("xian")
    assert c.get("/cases/9223372036854775808").status_code == 422
    assert c.get("/cases?offset=9873210656061581312").status_code == 422
    r = shared_web.post("xian", "/cases/1/transition", {"action": "close", "version": str(2**63)})
    assert r.status_code == 422
