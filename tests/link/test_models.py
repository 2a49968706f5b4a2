"""Models shared and reused: feeds configured alike train one model per session and per cache, a stored
model is used instead of training, a changed configuration or ``retrain`` trains again; only the records
that did not link exactly reach the probabilistic step, and linking them alone gives the same links."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from conftest import FAST_TRAINING, config
from jingzhun.engines.duckdb import DuckDBEngine
from jingzhun.link import LinkCache, LinkSession
from jingzhun.link.cache import model_id
from jingzhun.link.frames import prepare_feed

STRICT = {"thresholds": {"accept": 0.999999, "review": 0.3}}


def _session_links(reg: pa.Table, feeds: dict[str, pa.Table], cfgs: dict[str, object], cache=None,
                   retrain: bool = False):
    engine = DuckDBEngine()
    engine.register_table("members", reg)
    for name, table in feeds.items():
        engine.register_table(name, table)
    try:
        with LinkSession(engine, "members", cache=cache, registry_version="R1" if cache else None,
                         retrain=retrain) as session:
            return {name: session.link(name, cfgs[name]) for name in feeds}
    finally:
        engine.close()


def test_feeds_configured_alike_train_one_model_in_a_session(synthetic):
    reg, records, _truth = synthetic
    half = records.num_rows // 2
    feeds = {"feed_a": records.slice(0, half), "feed_b": records.slice(half)}
    cfgs = {"feed_a": config("feed_a", **STRICT), "feed_b": config("feed_b", **STRICT)}
    assert model_id(cfgs["feed_a"]) == model_id(cfgs["feed_b"])  # the name is not part of the model
    out = _session_links(reg, feeds, cfgs)
    assert out["feed_a"].summary["model"]["trained"] is True
    assert out["feed_b"].summary["model"]["trained"] is False
    assert out["feed_a"].model == out["feed_b"].model
    assert out["feed_b"].summary["model"]["profiles_scored"] > 0


def test_a_feed_can_keep_a_model_of_its_own(synthetic):
    reg, records, _truth = synthetic
    own = config("feed_b", probabilistic={"training": {"shared": False}}, **STRICT)
    assert model_id(own).startswith("feed_b-") and model_id(own) != model_id(config("feed_a", **STRICT))
    half = records.num_rows // 2
    out = _session_links(reg, {"feed_a": records.slice(0, half), "feed_b": records.slice(half)},
                         {"feed_a": config("feed_a", **STRICT), "feed_b": own})
    assert out["feed_a"].summary["model"]["trained"] is True
    assert out["feed_b"].summary["model"]["trained"] is True


def test_a_stored_model_is_reused_and_a_changed_configuration_or_retrain_trains_again(synthetic, tmp_path):
    reg, records, _truth = synthetic
    cache = LinkCache(tmp_path / "linkage")
    cfg = {"feed": config("medical_claim", **STRICT)}
    first = _session_links(reg, {"feed": records}, cfg, cache)["feed"]
    assert first.summary["model"]["trained"] is True
    assert [p.name for p in cache.models()] == [f"{model_id(cfg['feed'])}.json"]

    cache.clear()  # stored links gone, the model kept: scored again with the stored model, not retrained
    second = _session_links(reg, {"feed": records}, cfg, cache)["feed"]
    assert second.summary["model"]["trained"] is False
    assert second.model == first.model and second.links.equals(first.links)

    # the thresholds are not part of the model; the blocking rules are
    looser = {"feed": config("medical_claim", thresholds={"accept": 0.99, "review": 0.3})}
    banded = _session_links(reg, {"feed": records}, looser, cache)["feed"]
    assert banded.summary["model"].get("trained") in (None, False) and banded.model == first.model
    fewer_rules = {"feed": config("medical_claim", probabilistic={
        "blocking": [["name_py", "birth_date"], ["name_py", "township"]]}, **STRICT)}
    changed = _session_links(reg, {"feed": records}, fewer_rules, cache)["feed"]
    assert changed.summary["model"]["trained"] is True
    assert len(cache.models()) == 2

    # retrain=True ignores the stored model and replaces it
    before = cache.model_path(cfg["feed"]).stat().st_mtime_ns
    forced = _session_links(reg, {"feed": records}, cfg, cache, retrain=True)["feed"]
    assert forced.summary["model"]["trained"] is True
    assert cache.model_path(cfg["feed"]).stat().st_mtime_ns != before
    assert cache.forget_models() == 2 and cache.models() == []
    assert _session_links(reg, {"feed": records}, cfg, cache)["feed"].summary["model"]["trained"] is True


def test_only_records_not_linked_exactly_are_scored_and_alone_they_link_the_same(synthetic):
    reg, records, _truth = synthetic
    cfg = config("medical_claim", **STRICT)
    full = _session_links(reg, {"feed": records}, {"feed": cfg})["feed"]
    exact = pc.equal(full.links.column("method"), "exact")
    residue_ids = full.links.filter(pc.invert(pc.fill_null(exact, False))).column("record_id")
    assert 0 < len(residue_ids) < records.num_rows

    # the profiles scored are exactly the distinct profiles of the records left after exact linkage
    engine = DuckDBEngine()
    engine.register_table("feed", records)
    engine.register_table("ids", pa.table({"record_id": residue_ids}))
    prepare_feed(engine, "feed", cfg.right, "frame", only="ids")
    n_profiles = engine.fetch_arrow(__import__("sqlglot").parse_one(
        "SELECT count(DISTINCT pkey) FROM frame WHERE id_valid IS NOT TRUE")).column(0)[0].as_py()
    engine.close()
    assert full.summary["model"]["profiles_scored"] == n_profiles

    # the residue linked alone (same model) gets the same rows
    residue = records.filter(pc.is_in(records.column("record_id"), residue_ids))
    engine = DuckDBEngine()
    engine.register_table("members", reg)
    engine.register_table("rest", residue)
    try:
        with LinkSession(engine, "members") as session:
            alone = session.link("rest", cfg, model=full.model).links
    finally:
        engine.close()
    expected = full.links.filter(pc.is_in(full.links.column("record_id"), residue_ids))
    assert alone.equals(expected)


def test_models_command_lists_and_forgets_the_stored_models(synthetic, tmp_path):
    from typer.testing import CliRunner

    from jingzhun.cli.main import app

    reg, records, _truth = synthetic
    cache = LinkCache(tmp_path / "linkage")
    cfg = {"feed": config("medical_claim", **STRICT)}
    _session_links(reg, {"feed": records}, cfg, cache)
    runner = CliRunner()
    listed = runner.invoke(app, ["link", "models", "--data", str(tmp_path), "--json"])
    assert listed.exit_code == 0, listed.output
    rows = __import__("json").loads(listed.output)
    assert [r["file"] for r in rows] == [f"{model_id(cfg['feed'])}.json"] and rows[0]["records_sampled"] > 0
    forgot = runner.invoke(app, ["link", "models", "--data", str(tmp_path), "--forget"])
    assert forgot.exit_code == 0 and cache.models() == []


def test_a_registry_of_another_size_trains_again(synthetic, tmp_path):
    reg, records, _truth = synthetic
    cache = LinkCache(tmp_path / "linkage")
    cfg = {"feed": config("medical_claim", **STRICT)}
    first = _session_links(reg, {"feed": records}, cfg, cache)["feed"]
    assert first.summary["model"]["trained"] is True and first.model.info["registry"] == reg.num_rows
    cache.clear()
    # a third of the registry (more than retrain_registry_ratio = 2 times smaller): λ would be wrong
    small = reg.slice(0, reg.num_rows // 3)
    again = _session_links(small, {"feed": records}, cfg, cache)["feed"]
    assert again.summary["model"]["trained"] is True and again.model.info["registry"] == small.num_rows
    # the ratio is not part of the model: another ratio finds the same stored model
    lenient = {"feed": config("medical_claim", probabilistic={
        "training": {**FAST_TRAINING["training"], "retrain_registry_ratio": 0}},
                              **STRICT)}
    cache.clear()
    kept = _session_links(reg, {"feed": records}, lenient, cache)["feed"]
    assert kept.summary["model"]["trained"] is False and kept.model == again.model
