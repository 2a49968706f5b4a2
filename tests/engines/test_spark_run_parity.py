"""The whole monthly run on Spark: a small synthetic county imported once and run for two months on
DuckDB and on Spark (local[2]). Every result table (links, flags with explanations, alerts, conflicts,
review queue, handoff) must be identical row for row, and so must the results hash. Then the Spark run is
read back as any run is (exports, explaining a household), and the same month is submitted with
``spark-submit`` reading its Parquet through a ``file://`` URI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from jingzhun.pipeline.results import RESULT_TABLES
from jingzhun.store import DataFolder

pytestmark = [pytest.mark.spark, pytest.mark.slow]

MONTHS = ["2025-01", "2025-02"]
PERSONS = 400
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with a 400-person county's two months imported (no run yet)."""
    from county_data import import_county
    from jingzhun.synth import generate

    county = tmp_path_factory.mktemp("county") / "synth"
    generate(county, persons=PERSONS, seed=7, start=MONTHS[0], months=len(MONTHS), fmt="parquet")
    return import_county(county, tmp_path_factory.mktemp("data") / "jz", MONTHS)


@pytest.fixture(scope="session")
def runs(imported: Path, spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both months run on each engine, each in its own copy of the data folder."""
    from jingzhun.pipeline import run_period

    out: dict[str, Any] = {}
    for engine in ("duckdb", "spark"):
        data = tmp_path_factory.mktemp(engine) / "jz"
        shutil.copytree(imported, data)
        options = {"session": spark} if engine == "spark" else {}
        out[engine] = (data, [run_period(data, m, engine_name=engine, engine_options=options, handoff=False)
                              for m in MONTHS])
    return out


def _table(data: Path, run_id: str, name: str) -> list[dict[str, Any]]:
    return pq.read_table(DataFolder(data).run_dir(run_id) / f"{name}.parquet").to_pylist()


def test_two_months_identical_on_duckdb_and_spark(runs: dict[str, Any]) -> None:
    duck_data, duck_runs = runs["duckdb"]
    spark_data, spark_runs = runs["spark"]
    for duck, spk in zip(duck_runs, spark_runs, strict=True):
        assert duck.status == spk.status == "done"
        for name in RESULT_TABLES:
            expected, got = _table(duck_data, duck.run_id, name), _table(spark_data, spk.run_id, name)
            assert len(got) == len(expected), f"{duck.period} {name}: {len(got)} rows on Spark, {len(expected)}"
            diffs = [(i, e, g) for i, (e, g) in enumerate(zip(expected, got, strict=True)) if e != g]
            assert not diffs, f"{duck.period} {name}: first difference {diffs[0]}"
        assert spk.result_hash == duck.result_hash
        assert spk.summary["alerts"] == duck.summary["alerts"]
    # the county is big enough to exercise every part: exact and probabilistic links, review, rules,
    # conflicts, and a second month diffed against the first
    first, second = duck_runs
    links = _table(duck_data, first.run_id, "links")
    assert {"exact", "probabilistic"} <= {r["method"] for r in links}
    assert _table(duck_data, first.run_id, "conflicts")
    flags = _table(duck_data, first.run_id, "flags")
    assert flags and all(f["explain_zh"] for f in flags)
    assert second.summary["alerts"]["persisting"] > 0 and second.summary["previous_run"] == first.run_id


def test_a_spark_run_reads_back_like_any_run(runs: dict[str, Any], tmp_path: Path) -> None:
    from jingzhun.pipeline.export import WHAT, export_run
    from jingzhun.pipeline.whatif import explain_in_run

    duck_data, duck_runs = runs["duckdb"]
    spark_data, spark_runs = runs["spark"]
    run = spark_runs[-1]
    alerts = _table(spark_data, run.run_id, "alerts")
    household = alerts[0]["household_id"]
    explained = explain_in_run(spark_data, run.run_id, household)  # on the Spark run's data and links
    assert explained and explained == explain_in_run(duck_data, duck_runs[-1].run_id, household)
    # every export of the Spark run is the DuckDB run's export, byte for byte (CSV) and cell for cell (xlsx)
    for what in WHAT:
        duck_csv, spark_csv = tmp_path / f"duck-{what}.csv", tmp_path / f"spark-{what}.csv"
        rows = export_run(spark_data, run.run_id, what, "csv", spark_csv)
        assert rows == export_run(duck_data, duck_runs[-1].run_id, what, "csv", duck_csv)
        assert spark_csv.read_bytes() == duck_csv.read_bytes(), what
    assert export_run(spark_data, run.run_id, "alerts", "xlsx", tmp_path / "a.xlsx") == len(alerts) > 0
    duck_sheet = _sheet(tmp_path / "d.xlsx", duck_data, duck_runs[-1].run_id)
    assert _sheet(tmp_path / "a.xlsx") == duck_sheet and len(duck_sheet) == len(alerts) + 1


def _sheet(path: Path, data: Path | None = None, run_id: str | None = None) -> list[tuple[Any, ...]]:
    """The cells of an alerts xlsx export (written first when ``data`` and ``run_id`` are given)."""
    from openpyxl import load_workbook

    from jingzhun.pipeline.export import export_run

    if data is not None and run_id is not None:
        export_run(data, run_id, "alerts", "xlsx", path)
    return [tuple(row) for row in load_workbook(path, read_only=True).active.iter_rows(values_only=True)]


def _spark_submit() -> Path | None:
    import pyspark

    path = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    return path if path.exists() else None


def test_spark_submit_job_reads_parquet_through_a_uri(runs: dict[str, Any], imported: Path,
                                                       tmp_path: Path) -> None:
    """The cluster entry point under ``spark-submit --master local[2]``, reading the data folder's Parquet
    through ``file://`` (as it would through ``hdfs://`` or ``s3a://``): same results hash as DuckDB."""
    submit = _spark_submit()
    if submit is None:
        pytest.skip("pyspark's bin/spark-submit is not installed")
    duck_runs = runs["duckdb"][1]
    data = tmp_path / "jz"
    shutil.copytree(imported, data)
    mirror = tmp_path / "mirror"  # "the cluster's copy": only the Parquet the engine reads
    for part in ("datasets", "reference"):
        shutil.copytree(imported / part, mirror / part)
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable,
           "SPARK_LOCAL_IP": "127.0.0.1"}
    env.pop("JINGZHUN_SPARK_MASTER", None)
    from jingzhun.engines.spark import _splink_jar

    command = [str(submit), "--master", "local[2]", "--driver-memory", "2g",
               "--conf", "spark.ui.enabled=false", "--conf", "spark.sql.shuffle.partitions=2",
               "--jars", str(_splink_jar()), str(ROOT / "src" / "jingzhun" / "spark_job.py"),
               "--data", str(data), "--period", MONTHS[0], "--data-uri", mirror.as_uri(), "--no-handoff"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1 and lines[0]["status"] == "done"
    assert lines[0]["result_hash"] == duck_runs[0].result_hash
