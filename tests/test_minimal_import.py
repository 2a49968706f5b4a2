"""Jingzhun without pyspark: importing the package and every non-Spark command must work, and asking for
the Spark engine must say what to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Makes `import pyspark` (and its submodules) fail, as on an installation without the `spark` extra.
BLOCKER = """
import sys
class _NoSpark:
    def find_spec(self, name, path=None, target=None):
        if name == "pyspark" or name.startswith("pyspark."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _NoSpark())
"""


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_blocker_really_blocks_pyspark() -> None:
    done = _run("import pyspark")
    assert done.returncode != 0 and "No module named 'pyspark'" in done.stderr


def test_package_cli_and_policy_check_work_without_pyspark() -> None:
    code = """
import sys
import jingzhun, jingzhun.engines, jingzhun.engines.factory, jingzhun.pipeline.run, jingzhun.policy
from typer.testing import CliRunner
from jingzhun.cli.main import app
runner = CliRunner()
for args in (["--help"], ["policy", "check", "policies"]):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (args, result.output, result.exception)
assert "pyspark" not in sys.modules
from jingzhun.engines.factory import make_engine
from jingzhun.errors import JingzhunError
try:
    make_engine("spark")
except JingzhunError as exc:
    assert "spark" in str(exc) and "install" in str(exc), exc
else:
    raise AssertionError("make_engine('spark') worked without pyspark")
print("OK")
"""
    done = _run(code)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("OK")
