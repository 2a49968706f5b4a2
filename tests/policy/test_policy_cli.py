"""`jingzhun policy check|list|test|sql|docs` (the policy CLI module on its own Typer app)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import typer
from typer.testing import CliRunner

from jingzhun.cli import policy_cmd
from jingzhun.errors import PolicyError

ROOT = Path(__file__).resolve().parents[2]
app = typer.Typer()
policy_cmd.register(app)
runner = CliRunner()


def test_check_ok_and_invalid() -> None:
    ok = runner.invoke(app, ["policy", "check", str(ROOT / "policies")])
    assert ok.exit_code == 0 and "OK" in ok.output
    bad = runner.invoke(app, ["policy", "check", str(ROOT / "tests/policy/invalid/unknown_field.yaml")])
    assert bad.exit_code != 0 and isinstance(bad.exception, PolicyError)
    assert (bad.exception.location.line, bad.exception.location.column) == (8, 22)


def test_list_json() -> None:
    out = runner.invoke(app, ["policy", "list", str(ROOT / "policies"), "--json"])
    rows = json.loads(out.output)
    assert {"id": "monitor.marginal", "kind": "monitor", "entity": "household"}.items() <= next(
        r for r in rows if r["id"] == "monitor.marginal"
    ).items()


def test_test_command_passes_and_fails(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "policies", tmp_path / "p")
    passing = runner.invoke(
        app,
        ["policy", "test", str(tmp_path / "p/triggers/living.test.yaml"), "--policies", str(tmp_path / "p")],
    )
    assert passing.exit_code == 0, passing.output
    broken = tmp_path / "p/triggers/living.test.yaml"
    broken.write_text(
        broken.read_text(encoding="utf-8").replace("fired: [H1, H4]", "fired: [H9]"), encoding="utf-8"
    )
    failing = runner.invoke(app, ["policy", "test", str(broken), "--policies", str(tmp_path / "p")])
    assert failing.exit_code == 1 and "FAIL" in failing.output and "H9" in failing.output


def test_sql_in_both_dialects() -> None:
    args = [
        "policy",
        "sql",
        "trigger.medical_oop_registered",
        "--period",
        "2025-06",
        "--policies",
        str(ROOT / "policies"),
    ]
    duck = runner.invoke(app, [*args, "--dialect", "duckdb"])
    spark = runner.invoke(app, [*args, "--dialect", "spark"])
    assert "FILTER(WHERE" in duck.output and "medical_claim" in spark.output
