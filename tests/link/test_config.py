"""Linkage configuration files: the shipped defaults load, mistakes name the file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from jingzhun.catalog import DATASETS
from jingzhun.errors import ConfigError
from jingzhun.link.config import default_config, load_config

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config" / "linkage"


def test_every_person_level_feed_has_a_default_that_matches_the_code():
    feeds = [d.name for d in DATASETS.values() if d.kind == "feed" and d.person_level]
    for name in feeds:
        loaded = load_config(CONFIG_DIR / f"{name}.yaml")
        expected = default_config(name)
        assert loaded.name == name
        assert (
            loaded.comparisons,
            loaded.blocking,
            loaded.left,
            loaded.right,
            loaded.accept,
            loaded.review,
        ) == (
            expected.comparisons,
            expected.blocking,
            expected.left,
            expected.right,
            expected.accept,
            expected.review,
        )


def test_adhoc_example_maps_chinese_headers():
    cfg = load_config(CONFIG_DIR / "adhoc_example.yaml")
    assert cfg.left.columns["id_number"] == "证件号码"
    assert cfg.right.id == "结算单号"
    assert "phone" not in cfg.left.columns


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("thresholds: {accept: 0.5, review: 0.9}\n", "thresholds"),
        ("probabilistic:\n  blocking: [[nonsense]]\n", "probabilistic.blocking[0]"),
        ("probabilistic:\n  comparisons: [{column: name, type: fuzzy}]\n", "probabilistic.comparisons[0]"),
        ("right: {id: record_id, columns: {nmae: 姓名}}\n", "right.columns"),
    ],
)
def test_mistakes_name_file_and_field(tmp_path, text, field):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value) and field in str(info.value)


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nleft: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line"):
        load_config(path)
