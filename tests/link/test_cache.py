"""Links reused month to month: a second month links only its new records, the result equals linking
everything again with the same model, decisions taken in between still apply, and any change of the
conditions (registry, configuration, record content) is relinked."""

from __future__ import annotations

import shutil

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from conftest import config
from jingzhun.engines.duckdb import DuckDBEngine
from jingzhun.errors import JingzhunError
from jingzhun.link import LinkCache, LinkSession, decide
from jingzhun.ops import open_store

STRICT = {"thresholds": {"accept": 0.999999, "review": 0.3}}


def _months(records: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Month 1: the first 60 % of the feed; month 2: everything (records accumulate)."""
    return records.slice(0, int(records.num_rows * 0.6)), records


def _link(reg: pa.Table, feed: pa.Table, cache: LinkCache | None, *, version: str = "R1", cfg=None,
          decisions=None, model=None):
    engine = DuckDBEngine()
    engine.register_table("members", reg)
    engine.register_table("feed", feed)
    try:
        with LinkSession(engine, "members", cache=cache, registry_version=version if cache else None) as s:
            return s.link("feed", cfg or config(**STRICT), decisions, model=model)
    finally:
        engine.close()


@pytest.fixture()
def store(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    yield s
    s.dispose()


def test_second_month_links_only_new_records_and_equals_a_full_relink(synthetic, tmp_path):
    reg, records, _truth = synthetic
    month1, month2 = _months(records)
    cache = LinkCache(tmp_path / "linkage")
    first = _link(reg, month1, cache)
    assert first.summary["reused"] == 0 and first.summary["linked_now"] == month1.num_rows
    assert first.summary["model"]["trained"] is True
    assert list((tmp_path / "linkage" / "models").glob("*.json"))

    second = _link(reg, month2, cache)
    assert second.summary["reused"] == month1.num_rows
    assert second.summary["linked_now"] == month2.num_rows - month1.num_rows
    assert second.summary["model"].get("trained") in (None, False)  # the stored model, not retrained

    # linking every record again from nothing, with the same model, gives exactly the same result
    full = _link(reg, month2, None, model=first.model)
    assert second.links.equals(full.links)
    assert second.review.equals(full.review)
    assert {"exact", "probabilistic"} <= set(full.links.column("method").drop_null().to_pylist())

    # and so does a cache emptied of its stored links (the model kept)
    cache.clear()
    again = _link(reg, month2, cache)
    assert again.summary["reused"] == 0
    assert again.links.equals(second.links)


def test_decisions_taken_in_between_apply_to_reused_records(synthetic, tmp_path, store):
    reg, records, _truth = synthetic
    month1, month2 = _months(records)
    cache = LinkCache(tmp_path / "linkage")
    first = _link(reg, month1, cache, decisions=store)
    queue = first.review.to_pylist()
    assert len(queue) >= 2
    accept, reject = queue[0], queue[1]
    decide(store, "medical_claim", accept["fingerprint"], accept["person_id"], "accept", "clerk1")
    decide(store, "medical_claim", reject["fingerprint"], reject["person_id"], "reject", "clerk1")

    second = _link(reg, month2, cache, decisions=store)
    assert second.summary["reused"] == month1.num_rows
    links = {r["record_id"]: r for r in second.links.to_pylist()}
    assert (links[accept["record_id"]]["person_id"], links[accept["record_id"]]["method"]) == (
        accept["person_id"], "review_accepted")
    assert links[reject["record_id"]]["candidate_person_id"] != reject["person_id"]
    assert second.links.equals(_link(reg, month2, None, decisions=store, model=first.model).links)


def test_a_new_registry_version_relinks_everything(synthetic, tmp_path):
    reg, records, _truth = synthetic
    month1, month2 = _months(records)
    cache = LinkCache(tmp_path / "linkage")
    _link(reg, month1, cache, version="R1")
    changed = _link(reg, month2, cache, version="R2")
    assert changed.summary["reused"] == 0 and changed.summary["linked_now"] == month2.num_rows
    # the stored model is kept across registry versions
    assert changed.summary["model"].get("trained") in (None, False)
    # only one key per feed is kept on disk
    assert len(list((tmp_path / "linkage" / "pairs" / "medical_claim").iterdir())) == 1


def test_changed_record_content_or_configuration_is_relinked(synthetic, tmp_path):
    reg, records, _truth = synthetic
    cache = LinkCache(tmp_path / "linkage")
    _link(reg, records, cache)
    names = records.column("name").to_pylist()
    names[0] = names[0] + "某"
    edited = records.set_column(records.column_names.index("name"), "name", pa.array(names))
    result = _link(reg, edited, cache)
    assert result.summary["linked_now"] == 1 and result.summary["reused"] == records.num_rows - 1

    # bands are applied on every run: other thresholds reuse the stored pairs
    looser = _link(reg, records, cache, cfg=config(thresholds={"accept": 0.95, "review": 0.5}))
    assert looser.summary["reused"] == records.num_rows
    assert looser.links.equals(_link(reg, records, None, cfg=config(thresholds={"accept": 0.95, "review": 0.5}),
                                     model=looser.model).links)
    # other blocking rules are other conditions (and another model)
    other = config(probabilistic={"blocking": [["name_py", "birth_date"], ["birth_date", "township"]]})
    relinked = _link(reg, records, cache, cfg=other)
    assert relinked.summary["reused"] == 0 and relinked.summary["model"]["trained"] is True


def test_a_record_version_column_is_used_when_given(synthetic, tmp_path):
    reg, records, _truth = synthetic
    imports = pa.array(["I1"] * records.num_rows)
    feed = records.append_column("_import_id", imports)
    cache = LinkCache(tmp_path / "linkage")
    engine = DuckDBEngine()
    engine.register_table("members", reg)
    engine.register_table("feed", feed)
    with LinkSession(engine, "members", cache=cache, registry_version="R1") as session:
        session.link("feed", config(), version="_import_id")
        # the same records re-sent in another import are linked again
        reimported = pa.array(["I2" if i < 5 else "I1" for i in range(feed.num_rows)])
        resent = feed.set_column(feed.column_names.index("_import_id"), "_import_id", reimported)
        engine.register_table("feed", resent)
        result = session.link("feed", config(), version="_import_id")
    engine.close()
    assert result.summary["linked_now"] == 5 and result.summary["reused"] == records.num_rows - 5


def test_a_cache_needs_the_registry_version(tmp_path):
    with pytest.raises(JingzhunError, match="registry"):
        LinkSession(DuckDBEngine(), "members", cache=LinkCache(tmp_path))


def test_a_killed_write_leaves_no_part_behind(synthetic, tmp_path, monkeypatch):
    reg, records, _truth = synthetic
    cache = LinkCache(tmp_path / "linkage")
    import jingzhun.link.cache as cache_module

    calls = []

    class DiesOnRecords(cache_module.pq.ParquetWriter):  # the process is killed while writing records
        def write_batch(self, batch, *args, **kwargs):
            calls.append(self.where)
            if "records-" in str(self.where):
                raise KeyboardInterrupt("killed while storing")
            return super().write_batch(batch, *args, **kwargs)

    monkeypatch.setattr(cache_module.pq, "ParquetWriter", DiesOnRecords)
    with pytest.raises(KeyboardInterrupt):
        _link(reg, records, cache)
    monkeypatch.undo()
    leftovers = [p.name for p in (tmp_path / "linkage").rglob("*") if p.name.startswith(".tmp-")]
    assert not leftovers
    assert not list((tmp_path / "linkage").rglob("records-*.parquet"))
    # the next run links everything again and stores it
    result = _link(reg, records, cache)
    assert result.summary["reused"] == 0
    assert _link(reg, records, cache).summary["reused"] == records.num_rows
    shutil.rmtree(tmp_path / "linkage")


def test_records_linked_before_any_model_was_needed_are_kept_when_one_is_trained(synthetic, tmp_path):
    reg, records, _truth = synthetic
    with_id = records.filter(pc.is_valid(records.column("id_number")))
    cache = LinkCache(tmp_path / "linkage")
    first = _link(reg, with_id, cache)  # everything links exactly: no model is trained or needed
    assert first.summary["model"].get("trained") is None and first.model is None
    second = _link(reg, records, cache)  # records without numbers arrive: a model is trained now
    assert second.summary["model"]["trained"] is True
    assert second.summary["reused"] == with_id.num_rows
    third = _link(reg, records, cache)
    assert third.summary["reused"] == records.num_rows and third.links.equals(second.links)
