"""Probabilistic linkage of a small synthetic set with planted errors (Splink trained on the data)."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from conftest import config
from jingzhun.link import link_feed_result, precision_recall, quality_report


def _traditional_copy(person: dict) -> pa.Table:
    """The first registered person, name in traditional characters with spaces, no ID number."""
    trad = person["name"].translate(
        str.maketrans("张陈刘黄赵吴杨郑丽军华国红飞兰伟强静", "張陳劉黃趙吳楊鄭麗軍華國紅飛蘭偉強靜")
    )
    return pa.table(
        {
            "record_id": ["X1"],
            "id_number": pa.nulls(1, pa.string()),
            "id_number_raw": pa.nulls(1, pa.string()),
            "name": [trad[0] + " " + trad[1:] + "\u3000"],
            "sex": [person["sex"]],
            "birth_date": pa.array([person["birth_date"]], pa.date32()),
            "region_code": [person["village_code"]],
            "phone": pa.nulls(1, pa.string()),
        }
    )


def _valid_id_stranger(person: dict) -> pa.Table:
    """Someone not registered, born the same day in the same village, with a valid ID number that differs
    from the registered person's only in the sequence digits."""
    from synthetic import make_id

    other = make_id(
        person["id_number"][:6], person["birth_date"], (int(person["id_number"][14:17]) + 2) % 1000
    )
    return pa.table(
        {
            "record_id": ["X2"],
            "id_number": [other],
            "id_number_raw": [other],
            "name": ["欧阳修文"],
            "sex": [person["sex"]],
            "birth_date": pa.array([person["birth_date"]], pa.date32()),
            "region_code": [person["village_code"]],
            "phone": pa.nulls(1, pa.string()),
        }
    )


@pytest.fixture(scope="module")
def result(synthetic):
    reg, records, _truth = synthetic
    con = duckdb.connect()
    con.register("members", reg)
    first = reg.to_pylist()[0]
    extra = pa.concat_tables([_traditional_copy(first), _valid_id_stranger(first)])
    con.register("feed", pa.concat_tables([records, extra.select(records.column_names)]))
    return link_feed_result(con, "members", "feed", config())


def test_high_precision_and_recall_on_noisy_records(result, synthetic):
    planted = pa.compute.field("record_id").isin(["X1", "X2"])
    scores = precision_recall(result.links.filter(~planted), synthetic[2])
    assert scores["precision"] >= 0.99, scores
    assert scores["recall"] >= 0.95, scores


def test_records_without_id_are_linked_probabilistically(result, synthetic):
    _reg, records, truth = synthetic
    no_id = set(
        records.filter(pa.compute.is_null(records.column("id_number"))).column("record_id").to_pylist()
    )
    registered = {r["record_id"] for r in truth.to_pylist() if r["person_id"]}
    links = {r["record_id"]: r for r in result.links.to_pylist()}
    prob = [links[r] for r in no_id & registered if links[r]["band"] == "accepted"]
    assert len(prob) >= 0.9 * len(no_id & registered)
    assert all(r["method"] == "probabilistic" and r["score"] >= 0.95 for r in prob)


def test_strangers_are_never_accepted(result, synthetic):
    strangers = {r["record_id"] for r in synthetic[2].to_pylist() if r["person_id"] is None}
    assert strangers
    for row in result.links.to_pylist():
        if row["record_id"] in strangers:
            assert row["band"] in ("unlinked", "rejected", "review"), row


def test_summary_counts_every_record_once(result, synthetic):
    report = quality_report(result.links)
    n = synthetic[1].num_rows + 2  # the two planted records
    assert sum(report["by_band"].values()) == n
    assert report["linked_exact"] >= 70
    assert (
        report["linked_exact"] + report["linked_probabilistic"] + report["in_review"] + report["unlinked"]
        == n
    )
    assert "name" in result.summary["model"]["comparisons"]


def test_traditional_characters_and_spaces_do_not_prevent_a_link(result, synthetic):
    links = {r["record_id"]: r for r in result.links.to_pylist()}
    assert links["X1"]["person_id"] == synthetic[0].to_pylist()[0]["person_id"]
    assert links["X1"]["method"] == "probabilistic"


def test_probabilistic_can_be_switched_off(con):
    links = link_feed_result(con, "members", "feed", config(probabilistic={"enabled": False})).links
    assert set(links.column("method").drop_null().to_pylist()) == {"exact"}


def test_valid_number_of_someone_not_registered_is_not_linked_to_a_namesake(result):
    links = {r["record_id"]: r for r in result.links.to_pylist()}
    assert links["X2"]["band"] == "unlinked"
    assert links["X2"]["person_id"] is None


def test_tiny_inputs_do_not_break_training(synthetic):
    reg, records, _truth = synthetic
    small_reg = reg.slice(0, 12)
    no_id = records.filter(pa.compute.is_null(records.column("id_number"))).slice(0, 3)
    con = duckdb.connect()
    con.register("members", small_reg)
    con.register("feed", no_id)
    links = link_feed_result(con, "members", "feed", config()).links
    assert links.num_rows == 3
    assert set(links.column("band").to_pylist()) <= {"accepted", "review", "rejected", "unlinked"}
