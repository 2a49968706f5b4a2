import json
import subprocess
import sys

from typer.testing import CliRunner

from jingzhun.cli.main import app

runner = CliRunner()


def test_id_check_json_masks_and_explains():
    result = runner.invoke(app, ["id", "check", "--json", "11010519491231002X", "110105194912310021"])
    assert result.exit_code == 1  # one invalid
    rows = json.loads(result.stdout)
    assert rows[0]["valid"] and rows[0]["normalised"] == "1101**********002X"
    assert rows[0]["sex"] == "女" and rows[0]["birth_date"] == "1949-12-31"
    assert not rows[1]["valid"] and rows[1]["reason"] == "check_digit"
    assert "校验位" in rows[1]["message"]


def test_id_check_all_valid_exits_zero():
    result = runner.invoke(app, ["id", "check", "11010519491231002X"])
    assert result.exit_code == 0
    assert "有效" in result.stdout and "19491231" not in result.stdout


def test_template_all(tmp_path):
    result = runner.invoke(app, ["template", "all", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stdout
    assert len(list(tmp_path.glob("*.xlsx"))) == 13


def test_console_script_runs_and_reports_errors_without_traceback(tmp_path):
    bad = tmp_path / "codes.csv"
    bad.write_text("code,name\n52xx,坏\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", "from jingzhun.cli.main import main; main()", "regions", "check", str(bad)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "row 2" in proc.stderr and "Traceback" not in proc.stderr


def test_console_script_exit_code_for_an_invalid_number():
    proc = subprocess.run([sys.executable, "-c", "from jingzhun.cli.main import main; main()",
                           "id", "check", "123"], capture_output=True, text=True)
    assert proc.returncode == 1
