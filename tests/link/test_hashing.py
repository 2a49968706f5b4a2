"""Keyed hashes: hashed feeds link exactly as well as raw ones; keys are handled carefully."""

from __future__ import annotations

import stat

import duckdb
import pyarrow as pa
import pytest

from conftest import config
from jingzhun.errors import ConfigError
from jingzhun.link import link_feed
from jingzhun.link.hashing import hash_table, hmac_hex, new_key_file, read_key_file


def test_new_key_file_is_private_and_never_overwritten(tmp_path):
    path = new_key_file(tmp_path / "county.key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(read_key_file(path)) == 32
    with pytest.raises(ConfigError):
        new_key_file(path)


def test_bad_key_file_is_refused(tmp_path):
    (tmp_path / "k").write_text("not hex")
    with pytest.raises(ConfigError, match="hexadecimal"):
        read_key_file(tmp_path / "k")


def test_every_spelling_of_a_number_gets_one_digest():
    key = bytes(32)
    table = pa.table(
        {
            "证件号码": [
                "110105491231002",
                "11010519491231002x",
                "１１０１０５１９４９１２３１００２Ｘ",
                None,
            ],
            "姓名": ["a", "b", "c", "d"],
        }
    )
    hashed, stats = hash_table(table, key)
    digests = hashed.column("证件号码").to_pylist()
    assert digests[0] == digests[1] == digests[2] == hmac_hex(key, ["11010519491231002X"]).to_pylist()[0]
    assert digests[3] is None
    assert hashed.column("姓名").to_pylist() == ["a", "b", "c", "d"]
    assert stats == {"rows": 4, "distinct_hashed": 1}
    other = hash_table(table, bytes([1]) * 32)[0].column("证件号码").to_pylist()
    assert other[0] != digests[0]


def test_hashed_feed_links_exactly_as_well_as_raw(synthetic):
    reg, records, _truth = synthetic
    key = bytes(range(32))
    hashed_records, _ = hash_table(records, key, ["id_number", "id_number_raw"])
    assert not set(hashed_records.column("id_number").drop_null().to_pylist()) & set(
        reg.column("id_number").to_pylist()
    )
    cfg = config(probabilistic={"enabled": False})
    con = duckdb.connect()
    con.register("members", reg)
    con.register("raw", records)
    con.register("hashed", hashed_records)
    raw_links = link_feed(con, "members", "raw", cfg)
    hashed_links = link_feed(con, "members", "hashed", cfg, hashed=True, key=key)
    cols = ["record_id", "person_id", "household_id", "method", "band"]
    assert hashed_links.select(cols).to_pylist() == raw_links.select(cols).to_pylist()
    assert sum(1 for m in raw_links.column("method").to_pylist() if m == "exact") >= 70


def test_hashed_linkage_needs_the_key(synthetic, con):
    with pytest.raises(ConfigError, match="key"):
        link_feed(con, "members", "feed", config(), hashed=True)
