"""Users, passwords, tokens and lockout on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from jingzhun.auth import create_demo_users, create_user, disable_user, list_users, tokens
from jingzhun.auth.users import authenticate
from jingzhun.errors import AccountLocked, AuthenticationFailed, ConfigError, PermissionDenied
from jingzhun.ops.models import AuthToken, User
from jingzhun.settings import Settings


@pytest.fixture
def alice(store):
    with store.session() as s:
        create_user(s, "alice", "correct horse", "village", "441481104201")


def test_password_is_hashed_with_argon2(store, alice):
    with store.session() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == "alice"))
    assert stored.startswith("$argon2id$") and "correct horse" not in stored


def test_scope_must_match_role(store):
    with store.session() as s, pytest.raises(PermissionDenied, match="village code"):
        create_user(s, "bob", "pw", "village", "441481104000")
    with store.session() as s, pytest.raises(PermissionDenied, match="unknown role"):
        create_user(s, "bob", "pw", "mayor", "441481104000")


def test_lockout_after_five_failures(store, alice, settings, clock):
    for _ in range(4):
        with pytest.raises(AuthenticationFailed) as info:
            authenticate(store, "alice", "wrong", settings, now=clock())
        assert not isinstance(info.value, AccountLocked)
    with pytest.raises(AccountLocked):
        authenticate(store, "alice", "wrong", settings, now=clock())
    clock.advance(minutes=14)
    with pytest.raises(AccountLocked):  # even the right password, while locked
        authenticate(store, "alice", "correct horse", settings, now=clock())
    clock.advance(minutes=2)
    assert authenticate(store, "alice", "correct horse", settings, now=clock()).role == "village"
    with store.session() as s:
        user = s.scalar(select(User).where(User.username == "alice"))
        assert user.failed_attempts == 0 and user.locked_until is None


def test_lockout_parameters(store, alice, tmp_path, clock):
    settings = Settings(data=tmp_path, lockout_attempts=2, lockout_minutes=1)
    with pytest.raises(AuthenticationFailed):
        authenticate(store, "alice", "x", settings, now=clock())
    with pytest.raises(AccountLocked, match="1"):
        authenticate(store, "alice", "x", settings, now=clock())


def test_unknown_and_disabled_users(store, alice, settings):
    with pytest.raises(AuthenticationFailed):
        authenticate(store, "nobody", "x", settings)
    with store.session() as s:
        user = s.scalar(select(User).where(User.username == "alice"))
        raw, _ = tokens.issue(s, user, kind="api", hours=1, now=dt.datetime(2026, 1, 1))
    with store.session() as s:
        disable_user(s, "alice")
    with pytest.raises(AuthenticationFailed, match="disabled"):
        authenticate(store, "alice", "correct horse", settings)
    with store.session() as s:
        assert tokens.resolve(s, raw, now=dt.datetime(2026, 1, 1)) is None


def test_tokens_store_only_hashes_and_expire(store, alice):
    now = dt.datetime(2026, 1, 1)
    with store.session() as s:
        user = s.scalar(select(User).where(User.username == "alice"))
        raw, _ = tokens.issue(s, user, kind="api", hours=2, now=now)
    with store.session() as s:
        assert s.scalar(select(AuthToken.token_hash)) == tokens.hash_token(raw) != raw
        assert tokens.resolve(s, raw, now=now + dt.timedelta(hours=1)).username == "alice"
        assert tokens.resolve(s, raw, now=now + dt.timedelta(hours=2)) is None
        assert tokens.resolve(s, raw + "x", now=now) is None
        assert tokens.revoke(s, raw, now=now)
        assert tokens.resolve(s, raw, now=now) is None


def test_demo_users_only_in_demo_mode(store, tmp_path, monkeypatch):
    monkeypatch.delenv("JINGZHUN_DEMO", raising=False)
    with pytest.raises(ConfigError, match="demo mode"):
        create_demo_users(store, "441481000000", "441481104000", "441481104201")
    demo = Settings(data=tmp_path, demo=True)
    assert create_demo_users(store, "441481000000", "441481104000", "441481104201", settings=demo) == [
        "county",
        "township",
        "village",
    ]
    assert create_demo_users(store, "441481000000", "441481104000", "441481104201", settings=demo) == []
    with store.session() as s:
        assert {(u.username, u.role) for u in list_users(s)} == {
            ("county", "county"),
            ("township", "township"),
            ("village", "village"),
        }
    assert authenticate(store, "village", "demo", demo).scope == "441481104201"
