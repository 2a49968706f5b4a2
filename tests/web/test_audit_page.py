"""The audit page: the admin reads every entry, a county officer those of users inside the county,
filterable by user, action, object and days; other roles do not see it in their menu."""

from __future__ import annotations


def test_audit_page_filters_and_scopes(web):
    web.login("cun"), web.login("sheng"), web.login("yibao")
    assert web.login("cun").get("/households/H5").status_code == 403  # a refusal, to find below
    admin = web.doc("root", "/audit")
    actors = {row[1] for row in admin.body_rows("audit")}
    assert {"cun", "sheng", "yibao", "root"} <= actors
    assert "/audit" in admin.links
    denied = web.doc("root", "/audit?action=denied&actor=cun")
    rows = denied.body_rows("audit")
    assert rows and all(r[1] == "cun" and r[3] == "拒绝访问" for r in rows)
    assert any("GET /households/H5" in r[5] for r in rows)
    assert "共 0 条" in web.doc("root", "/audit?until=2000-01-01").text
    # the county officer reads the entries of the county's users only (not the province's, not admin's)
    county = {row[1] for row in web.doc("xian", "/audit").body_rows("audit")}
    assert "cun" in county and not county & {"sheng", "yibao", "root"}
    # everyone else: not in the menu, refused (and the refusal audited)
    for user in ("cun", "xiang", "sheng", "yibao"):
        assert "/audit" not in web.doc(user, "/").links
        assert web.login(user).get("/audit").status_code == 403
    assert web.doc("root", "/audit?action=denied&actor=yibao").body_rows("audit")


def test_login_page_asks_to_wait_after_repeated_failures_for_any_name(web):
    from fastapi.testclient import TestClient

    from .conftest import Doc, csrf_of

    for name in ("cun", "nobody-here"):
        c = TestClient(web.app, follow_redirects=False, client=("203.0.113.9", 40000))  # a stranger
        token = csrf_of(c.get("/login").text)
        answers = [c.post("/login", data={"username": name, "password": "wrong", "csrf_token": token})
                   for _ in range(6)]
        assert [a.status_code for a in answers] == [401] * 5 + [429]
        assert "login-wait" in Doc(answers[-1].text).ids and answers[-1].headers["retry-after"] == "1"
        c.close()
    assert web.login("cun").get("/").status_code == 200  # from their own address the user signs in as always
