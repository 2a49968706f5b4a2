"""`jingzhun synth` writes the folder and prints rows per dataset and month."""

from __future__ import annotations

from typer.testing import CliRunner

from jingzhun.cli.main import app
from jingzhun.synth import Manifest


def test_synth_command_writes_the_folder_and_a_summary(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        app,
        [
            "synth",
            "--out",
            str(out),
            "--persons",
            "400",
            "--months",
            "2",
            "--seed",
            "5",
            "--format",
            "parquet",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = Manifest.load(out)
    assert manifest.format == "parquet" and manifest.periods == ["2025-01", "2025-02"]
    assert "medical_claim" in result.output and "2025-02" in result.output
    assert f"{manifest.rows('member'):,}" in result.output
    assert (out / "2025-02" / "employment.parquet").exists()
