"""Settings: environment variables, province time limits, the stored signing key."""

from __future__ import annotations

import os
import stat

from jingzhun.settings import Settings


def test_environment_and_time_limits(monkeypatch, tmp_path):
    monkeypatch.setenv("JINGZHUN_DATA", str(tmp_path))
    monkeypatch.setenv("JINGZHUN_TIME_LIMITS", '{"default": 15, "52": 20, "520102": 10}')
    monkeypatch.setenv("JINGZHUN_NOTICE_DAYS", "7")
    s = Settings()
    assert s.database_url == f"sqlite:///{tmp_path.resolve() / 'ops.sqlite'}"
    assert (
        s.time_limit_days("520102001001"),
        s.time_limit_days("520301001001"),
        s.time_limit_days("441481104201"),
    ) == (10, 20, 15)
    assert s.notice_days == 7
    monkeypatch.setenv("JINGZHUN_DB_URL", "postgresql://jz@db/jz")
    assert Settings().database_url == "postgresql://jz@db/jz"


def test_signing_key_is_kept_in_the_data_folder(tmp_path):
    key = Settings(data=tmp_path).signing_key
    assert key == Settings(data=tmp_path).signing_key and len(key) >= 32
    assert stat.S_IMODE(os.stat(tmp_path / "secret.key").st_mode) == 0o600
    assert Settings(data=tmp_path, secret_key="given").signing_key == "given"
