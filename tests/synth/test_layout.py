"""The output folder follows docs/ARCHITECTURE.md: manifest, regions.csv, one file per dataset and month."""

from __future__ import annotations

import hashlib
import json

from tests.synth.helpers import read_csv

from jingzhun import regions
from jingzhun.catalog import DATASETS
from jingzhun.synth import FEEDS, REGISTRY


def test_every_dataset_is_present_with_the_catalogue_headers(small):
    out, manifest = small
    assert manifest.periods == ["2025-01", "2025-02", "2025-03"]
    expected = {(name, "2025-01") for name in REGISTRY} | {(n, p) for n in FEEDS for p in manifest.periods}
    got = {(f.dataset, f.period) for f in manifest.files if f.kind in ("registry", "feed")}
    assert got == expected
    assert set(DATASETS) - {"region"} == set(REGISTRY) | set(FEEDS)
    for f in manifest.files:
        if f.kind not in ("registry", "feed"):
            continue
        path = out / f.path
        assert path.name == f"{f.dataset}.csv" and path.parent.name == f.period
        header = path.read_bytes().decode(f.encoding).lstrip("\ufeff").split("\n", 1)[0].split(",")
        assert header == [fld.zh for fld in DATASETS[f.dataset].fields], f.path


def test_manifest_counts_and_hashes_match_the_files(small):
    out, manifest = small
    raw = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert raw["seed"] == 7 and raw["persons"] == 2000 and raw["format"] == "csv"
    for f in manifest.files:
        path = out / f.path
        assert hashlib.sha256(path.read_bytes()).hexdigest() == f.sha256
        if f.kind in ("registry", "feed"):
            assert read_csv(path, f.encoding).num_rows == f.rows, f.path
    assert manifest.rows("member") == manifest.counts["persons"] == 2000


def test_some_departments_export_gb18030(small):
    out, manifest = small
    entry = manifest.file("assistance", "2025-01")
    assert entry.encoding == "gb18030"
    raw = (out / entry.path).read_bytes()
    assert raw.decode("gb18030").startswith("记录编号,")
    assert manifest.file("medical_claim", "2025-01").encoding == "utf-8-sig"


def test_regions_are_valid_division_codes_with_parents(small):
    out, _ = small
    table = read_csv(out / "regions.csv", "utf-8")
    assert table.column_names == ["code", "name", "level", "parent_code"]
    rows = table.to_pylist()
    codes = {r["code"] for r in rows}
    for r in rows:
        assert regions.level_of(r["code"]) == r["level"]
        assert r["parent_code"] is None or r["parent_code"] in codes
    villages = [r for r in rows if r["level"] == "village"]
    assert all(r["name"].endswith("村") for r in villages)
    assert 2000 / len(villages) >= 800 and 2000 / len(villages) <= 1500
    households = read_csv(out / "2025-01" / "household.csv")
    assert set(households.column("行政村代码").to_pylist()) <= {r["code"] for r in villages}
