"""Feed records, noise and truth agree: every record is in the truth file, IDs are valid unless noise was
planted, and every planted event can be found in the month it is recorded for."""

from __future__ import annotations

from collections import Counter

import pyarrow.parquet as pq
import pytest
from tests.synth.helpers import read_csv

from jingzhun import ids
from jingzhun.catalog import DATASETS
from jingzhun.synth import FEEDS


@pytest.fixture(scope="module")
def truth(small):
    out, _ = small
    rows = pq.read_table(out / "truth" / "feed_truth.parquet").to_pylist()
    return {(r["dataset"], r["record_id"]): r for r in rows}


@pytest.fixture(scope="module")
def members(small):
    out, _ = small
    return {m["人编号"]: m for m in read_csv(out / "2025-01" / "member.csv").to_pylist()}


def _feed(small, name, period):
    out, manifest = small
    entry = manifest.file(name, period)
    return read_csv(out / entry.path, entry.encoding).to_pylist()


def test_truth_covers_every_feed_record_and_duplicates_are_marked(small, truth):
    _, manifest = small
    total = 0
    for name in FEEDS:
        id_header = DATASETS[name].field("record_id").zh
        for period in manifest.periods:
            rows = _feed(small, name, period)
            counts = Counter(r[id_header] for r in rows)
            total += len(counts)
            for rid, c in counts.items():
                t = truth[(name, rid)]
                assert t["period"] == period
                assert ("duplicate" in t["noise"]) == (c == 2), (name, rid)
    assert total == len(truth)


def test_feed_ids_are_valid_except_where_noise_was_planted(small, truth, members):
    _, manifest = small
    kinds = Counter()
    for name in FEEDS:
        if not DATASETS[name].person_level:
            continue
        for period in manifest.periods:
            for r in _feed(small, name, period):
                t = truth[(name, r[DATASETS[name].field("record_id").zh])]
                noise = set(t["noise"])
                kinds.update(noise)
                result = ids.check(r["证件号码"])
                if noise & {"id_mistyped", "id_transposed"}:
                    assert not result.valid
                elif "id_missing" in noise:
                    assert result.reason == "empty"
                elif "id_excel" in noise:
                    assert result.reason == "scientific_notation"
                elif "id_15" in noise:
                    assert result.valid and result.upgraded
                else:
                    assert result.valid, (name, r)
                if t["person_id"] is not None and result.valid:
                    assert result.normalised == members[t["person_id"]]["证件号码"]
                if t["person_id"] is not None and not noise & {
                    "name_homophone",
                    "name_traditional",
                    "name_space",
                    "name_fullwidth_space",
                }:
                    assert r["姓名"] == members[t["person_id"]]["姓名"]
    for kind in ("id_mistyped", "id_missing", "id_15", "name_space", "late", "duplicate"):
        assert kinds[kind] > 0, kind


def test_feeds_include_people_who_are_not_registered(truth):
    unregistered = [t for t in truth.values() if t["person_id"] is None and t["dataset"] == "medical_claim"]
    assert len(unregistered) > 10


def test_a_persons_id_mistake_persists_across_months_in_one_department(small, truth):
    by_person = {}
    for t in truth.values():
        if t["dataset"] == "employment" and t["person_id"] and "duplicate" not in t["noise"]:
            by_person.setdefault(t["person_id"], set()).add(
                tuple(sorted(k for k in t["noise"] if k.startswith("id_")))
            )
    stable = sum(1 for v in by_person.values() if len(v) == 1)
    assert stable == len(by_person)
