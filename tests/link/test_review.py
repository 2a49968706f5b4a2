"""Review round trip: decisions are stored, reused next month, and accepted pairs become links."""

from __future__ import annotations

import pytest

from conftest import config
from jingzhun.errors import JingzhunError
from jingzhun.link import decide, link_feed_result, load_decisions
from jingzhun.ops import open_store

# a strict accept threshold puts many probabilistic pairs in review
STRICT = {"thresholds": {"accept": 0.999999999, "review": 0.2}}


@pytest.fixture()
def store(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    yield s
    s.dispose()


def test_decide_rerun_not_asked_again_and_accepted_becomes_link(con, store):
    cfg = config(**STRICT)
    first = link_feed_result(con, "members", "feed", cfg, store)
    # bands follow the configured thresholds; only accepted records carry a person_id
    prob = [r for r in first.links.to_pylist() if r["method"] == "probabilistic"]
    for r in prob:
        expected = "accepted" if r["score"] >= 0.999999999 else "review" if r["score"] >= 0.2 else "rejected"
        assert r["band"] == expected or (r["band"] == "review" and expected == "accepted")
        assert (r["person_id"] is not None) == (r["band"] == "accepted")
    queue = first.review.to_pylist()
    assert len(queue) == sum(1 for r in first.links.to_pylist() if r["band"] == "review")
    assert len(queue) >= 2
    # both records are shown side by side, ID numbers masked
    item = queue[0]
    assert item["record_name"] and item["person_name"] and "*" in (item["person_id_number"] or "*")
    accept, reject = queue[0], queue[1]
    decide(store, "medical_claim", accept["fingerprint"], accept["person_id"], "accept", "clerk1", "同一人")
    decide(
        store, "medical_claim", reject["fingerprint"], reject["person_id"], "reject", "clerk1", "不是同一人"
    )

    second = link_feed_result(con, "members", "feed", cfg, store)
    pairs = {(r["fingerprint"], r["person_id"]) for r in second.review.to_pylist()}
    assert (accept["fingerprint"], accept["person_id"]) not in pairs
    assert (reject["fingerprint"], reject["person_id"]) not in pairs
    assert len(pairs) == len(queue) - 2
    links = {r["record_id"]: r for r in second.links.to_pylist()}
    accepted = links[accept["record_id"]]
    assert (accepted["person_id"], accepted["method"], accepted["band"]) == (
        accept["person_id"],
        "review_accepted",
        "accepted",
    )
    assert accepted["household_id"] == accept["household_id"]
    rejected = links[reject["record_id"]]
    assert rejected["person_id"] is None
    assert rejected["candidate_person_id"] != reject["person_id"]


def test_decisions_are_stored_with_who_and_why_and_can_be_revised(store):
    decide(store, "medical_claim", "f" * 64, "P1", "reject", "clerk1", "first look")
    decide(store, "medical_claim", "f" * 64, "P1", "accept", "clerk2", "checked the 户口本")
    table = load_decisions(store, "medical_claim").to_pylist()
    assert table == [{"record_fingerprint": "f" * 64, "person_id": "P1", "decision": "accept"}]
    assert load_decisions(store, "assistance").num_rows == 0


def test_invalid_decision_is_refused(store):
    with pytest.raises(JingzhunError):
        decide(store, "medical_claim", "f" * 64, "P1", "maybe", "clerk1")


def test_fingerprint_is_stable_across_months(con, synthetic):
    cfg = config(probabilistic={"enabled": False})
    a = link_feed_result(con, "members", "feed", cfg).links
    b = link_feed_result(con, "members", "feed", cfg).links
    assert a.column("fingerprint").to_pylist() == b.column("fingerprint").to_pylist()
    for row in a.to_pylist():
        if row["method"] == "exact" and row["band"] == "accepted":
            assert row["fingerprint"] is None  # linked by a unique number: no decision can apply
        else:
            assert len(row["fingerprint"]) == 64


def test_fingerprint_is_the_documented_hash_so_stored_decisions_keep_applying(con, synthetic):
    """sha256 of name_norm | ID text | YYYYMMDD | sex | region code, as stored with every decision."""
    import hashlib

    from jingzhun.link.normalise import normalise_name

    _reg, records, _truth = synthetic
    links = {r["record_id"]: r for r in link_feed_result(con, "members", "feed", config()).links.to_pylist()}
    checked = 0
    for rec in records.to_pylist():
        if rec["id_number"] is not None or rec["id_number_raw"] is not None:
            continue  # without a number: no upgrade or validity involved
        fields = [normalise_name(rec["name"]), "", rec["birth_date"].strftime("%Y%m%d") if rec["birth_date"] else "",
                  rec["sex"] or "", rec["region_code"] or ""]
        expected = hashlib.sha256("|".join(fields).encode()).hexdigest()
        assert links[rec["record_id"]]["fingerprint"] == expected
        checked += 1
    assert checked > 50
