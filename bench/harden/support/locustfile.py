"""The users of the load test (run by bench/harden/load.py through ``locust --headless``).

Each simulated user takes one of the sessions load.py opened before the measurement (a bearer token and
the page-session cookie of a county, township or village officer: signing in costs an Argon2 hash, which
is not what is measured here) and then, with one to two seconds between requests, reads what officers read all day (today's page, the
dashboard, household search and a household, the case list and a case, the alerts) and now and then
edits the one case every user edits (``JINGZHUN_LOAD_CASE``): it reads the case's version and sends its
change with it; a 409 (someone else was first) is the expected answer of optimistic locking, so the user
waits a moment, reads again and retries (at most ten times). Every edit that was answered 200 is counted in a file, so load.py can check that
none was lost.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid

from locust import HttpUser, between, task

SESSIONS = json.loads(os.environ["JINGZHUN_LOAD_SESSIONS"])  # [{"token": ..., "cookie": ...}, ...]
COOKIE = "jingzhun_session"
CASE = int(os.environ["JINGZHUN_LOAD_CASE"])
EDITS = os.environ["JINGZHUN_LOAD_EDITS"]  # a file: one line per acknowledged edit
QUERIES = ["张", "三", "H1", "鹿溪", "王五", "52012119500101001X"]
HOUSEHOLDS = ["H1", "H2", "H3", "H4"]


class Officer(HttpUser):
    wait_time = between(1, 2)

    def on_start(self) -> None:
        session = random.choice(SESSIONS)
        self.headers = {"Authorization": f"Bearer {session['token']}"}
        self.client.cookies.set(COOKIE, session["cookie"])

    @task(3)
    def home(self) -> None:
        self.client.get("/", name="page /")

    @task(3)
    def dashboard(self) -> None:
        self.client.get("/dashboard", name="page /dashboard")

    @task(4)
    def search(self) -> None:
        self.client.get("/api/v1/households", params={"q": random.choice(QUERIES)}, headers=self.headers,
                        name="api households?q=")

    @task(3)
    def household(self) -> None:
        self.client.get(f"/households/{random.choice(HOUSEHOLDS[:2])}", name="page /households/{id}")

    @task(3)
    def cases(self) -> None:
        self.client.get("/api/v1/cases", headers=self.headers, name="api cases")

    @task(2)
    def alerts(self) -> None:
        self.client.get("/alerts", name="page /alerts")

    @task(1)
    def edit_the_case(self) -> None:
        marker = uuid.uuid4().hex[:12]
        for attempt in range(10):  # read, change with the version read; on 409 wait a moment, read again
            if attempt:
                time.sleep(random.uniform(0.2, 1.0))  # as a person reloads the page (gevent-friendly)
            case = self.client.get(f"/api/v1/cases/{CASE}", headers=self.headers, name="api case").json()
            with self.client.patch(f"/api/v1/cases/{CASE}", headers=self.headers, name="api case edit",
                                   json={"version": case["version"], "reason": f"load {marker}"},
                                   catch_response=True) as r:
                if r.status_code == 409:
                    r.success()  # optimistic locking did its job: read again and retry
                    continue
                if r.status_code == 200:
                    with open(EDITS, "a", encoding="utf-8") as out:
                        out.write(marker + "\n")
                return

