"""Engine fixtures: one SparkSession (local[2], 4 shuffle partitions, no UI) for the whole test session;
tests that use it are marked ``spark`` and skipped where pyspark or Java is missing."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


#: Tiny inputs: one shuffle partition and interpreted (not compiled) plans cost least per query.
SPARK_TEST_CONF = {
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.driver.memory": "2g",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}


def _spark_available() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (extra `spark`)"
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        return "Java is not installed"
    return None


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The test session's SparkSession (engines use ``newSession()`` of it, so tests stay isolated)."""
    reason = _spark_available()
    if reason:
        pytest.skip(reason)
    from jingzhun.engines.spark import spark_session

    session = spark_session("local[2]", SPARK_TEST_CONF)
    yield session
    session.stop()
