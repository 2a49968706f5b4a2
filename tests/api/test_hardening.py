"""The quick variants of ``make harden`` (bench/harden/api_fuzz.py and load.py, each with ``--quick``):
schemathesis finds no server error and no undeclared status code; concurrent officers get no error and
concurrent edits of one case lose no update. Both need the PostgreSQL server on 127.0.0.1:5432
(database ``test``); latency is a figure of the full runs (docs/RELIABILITY.md), never asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest_pg import local_server_up

HARDEN = Path(__file__).resolve().parents[2] / "bench" / "harden"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not local_server_up(), reason="needs PostgreSQL on 127.0.0.1:5432 (database test)"),
]


def _run(script: str, tmp_path: Path) -> dict:
    out = tmp_path / f"{script}.json"
    done = subprocess.run(
        [sys.executable, str(HARDEN / f"{script}.py"), "--quick", "--no-doc", "--json-out", str(out)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert out.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8"))


def test_schemathesis_finds_no_server_error_and_no_undeclared_status(tmp_path):
    found = _run("api_fuzz", tmp_path)
    assert found["test_cases"] > 100 and found["runs"][0]["operations"] >= 20
    assert (found["server_errors"], found["undeclared_status"], found["errors"]) == (0, 0, 0), found


def test_concurrent_officers_get_no_error_and_lose_no_update(tmp_path):
    found = _run("load", tmp_path)
    assert found["total"]["requests"] > 50 and found["errors"] == 0, found.get("locust_output")
    assert found["edits_acknowledged"] > 0
    assert found["lost_updates"] == 0
    assert found["version_growth"] == found["edits_acknowledged"] == found["edit_events"]
