from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from synthetic import feed, registry

from jingzhun.link import default_config

FAST_TRAINING = {"training": {"u_max_pairs": 100_000, "em_max_pairs": 200_000}}


@pytest.fixture(scope="session")
def synthetic():
    reg = registry(300)
    records, truth = feed(reg)
    return reg, records, truth


@pytest.fixture()
def con(synthetic):
    reg, records, _truth = synthetic
    connection = duckdb.connect()
    connection.register("members", reg)
    connection.register("feed", records)
    yield connection
    connection.close()


def config(name: str = "medical_claim", **overrides):
    prob = {**FAST_TRAINING, **overrides.pop("probabilistic", {})}
    return default_config(name, probabilistic=prob, **overrides)
