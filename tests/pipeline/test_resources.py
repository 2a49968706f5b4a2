"""A run's engine gets its threads, memory limit and spill folder from arguments or settings."""

from __future__ import annotations

from jingzhun.engines.duckdb import DuckDBEngine
from jingzhun.pipeline.resources import engine_resources
from jingzhun.settings import Settings


def test_arguments_win_over_settings_which_win_over_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("JINGZHUN_MEMORY_LIMIT", "3GiB")
    monkeypatch.setenv("JINGZHUN_THREADS", "1")
    settings = Settings(data=tmp_path)
    assert engine_resources("duckdb", settings) == {
        "threads": 1, "memory_limit": "3GiB", "temp_directory": str(tmp_path / "spill")}
    given = engine_resources("duckdb", settings, threads=2, memory_limit="12GiB", temp_directory=tmp_path / "t")
    assert given == {"threads": 2, "memory_limit": "12GiB", "temp_directory": str(tmp_path / "t")}
    monkeypatch.setenv("JINGZHUN_TEMP_DIRECTORY", str(tmp_path / "elsewhere"))
    assert engine_resources("duckdb", Settings(data=tmp_path))["temp_directory"] == str(tmp_path / "elsewhere")


def test_duckdb_engine_applies_them(tmp_path):
    engine = DuckDBEngine(**engine_resources("duckdb", Settings(data=tmp_path), threads=1, memory_limit="1GiB"))
    setting = lambda name: engine.con.execute(f"SELECT current_setting('{name}')").fetchall()[0][0]  # noqa: E731
    assert setting("threads") == 1
    assert setting("memory_limit") in ("1.0 GiB", "1024.0 MiB", "1 GiB")
    assert setting("temp_directory") == str(tmp_path / "spill") and (tmp_path / "spill").is_dir()
    engine.close()
