"""The township clerk's month in real headless Chromium: sign in → upload this month's files → start the
run → watch it → see the new alerts → open a case → take its first step; plus the dashboard, a report
and the English switch. Screenshots go to test-artifacts/browser/."""

from __future__ import annotations

import re

import pytest

from .conftest import PASSWORD, copy_to_docs, shot

pytestmark = pytest.mark.browser


def login(page, base: str) -> None:
    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("input[name=username]", "xiang")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(base + "/")


def test_clerk_month(page, server, month):
    base, _ = server
    login(page, base)
    assert page.locator("#todo").is_visible()
    copy_to_docs(shot(page, "01-home"))

    # upload February's department files
    page.goto(base + "/imports")
    files = sorted((month["synth"] / "2025-02").glob("*.csv"))
    page.set_input_files("#upload-form input[type=file]", [str(f) for f in files])
    page.fill("#upload-form input[name=period]", "2025-02")
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#results")
    cells = page.locator("#results tbody tr td[data-status]")
    statuses = [cells.nth(i).get_attribute("data-status") for i in range(cells.count())]
    assert len(statuses) == len(files) and set(statuses) == {"imported"}, statuses
    copy_to_docs(shot(page, "02-imports"))

    # start the run in a worker process and watch the progress until it is done
    page.goto(base + "/runs")
    page.fill("#start-run input[name=period]", "2025-02")
    page.click("#start-run button[type=submit]")
    page.wait_for_url(re.compile(r".*/runs/watch.*"))
    page.wait_for_selector("#progress[data-finished=yes]", timeout=600_000)
    assert page.inner_text("#run-status") == "已完成", page.inner_text("#progress")
    assert page.locator("#stages tbody tr.done").count() == 7
    copy_to_docs(shot(page, "03-run"))

    # the new alerts of February, scoped to the township
    page.click("#see-alerts")
    page.wait_for_selector("#alerts")
    rows = page.locator("#alerts tbody tr[data-alert]")
    assert rows.count() > 0
    assert all(
        a.split("~")[0].startswith("2025-02")
        for a in [rows.nth(i).get_attribute("data-alert") for i in range(rows.count())]
    )
    copy_to_docs(shot(page, "04-alerts"))

    # open a case from the first alert that has none, then record the home visit (the township's step)
    page.locator("#alerts button.open-button").first.click()
    page.wait_for_url(re.compile(r".*/cases/\d+.*"))
    assert page.inner_text("#state") == "线索"
    step = page.locator("form.step[data-action=record_visit]")
    step.locator("input[name=authorisation_ref]").fill("授权书-2025-02-001")
    step.locator("input[name=findings]").fill("住院自付2.3万元，家庭收入骤减")
    step.locator("button[type=submit]").click()
    page.wait_for_selector(".flash.ok")
    assert page.inner_text("#state") == "已入户核实"
    assert page.locator("#events tbody tr").count() == 2
    copy_to_docs(shot(page, "05-case"))

    # dashboard with charts drawn by the vendored ECharts, and a printable report
    page.goto(base + "/dashboard")
    page.wait_for_selector("#chart-month canvas")
    assert page.locator("#children tbody tr").count() >= 1
    copy_to_docs(shot(page, "06-dashboard"))
    page.goto(base + "/reports")
    assert "防止返贫动态监测情况报告" in page.inner_text("h1")
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()
    page.emulate_media(media="screen")
    copy_to_docs(shot(page, "07-report"))

    # what-if: a higher monitoring line monitors at least as many households
    page.goto(base + "/whatif")
    page.fill("#whatif-form input[name=period]", "2025-02")
    page.fill("#whatif-form input[name=monitoring_line]", "12000")
    page.click("#whatif-form button[type=submit]")
    page.wait_for_selector("#whatif-total", timeout=300_000)  # evaluates every policy twice
    m = re.search(r"(\d+) → (\d+)", page.inner_text("#whatif-total"))
    assert m and int(m.group(2)) >= int(m.group(1))
    page.wait_for_selector("#chart-whatif canvas")
    copy_to_docs(shot(page, "08-whatif"))

    # English
    page.click("#lang-switch")
    assert page.locator("header nav").inner_text().startswith("Home")
    shot(page, "09-english")
    assert page.external == [], page.external  # nothing fetched from outside the app
