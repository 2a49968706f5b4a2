"""Users, passwords, tokens and login throttling on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from jingzhun.audit import Actor, record
from jingzhun.auth import create_demo_users, create_user, disable_user, list_users, tokens
from jingzhun.auth.users import authenticate
from jingzhun.errors import AuthenticationFailed, ConfigError, LoginThrottled, PermissionDenied
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


def _try(store, settings, clock, name, password, ip):
    """Sign in as the login endpoint does: authenticate, then write the outcome to the audit log."""
    try:
        principal = authenticate(store, name, password, settings, now=clock(), client=ip)
    except LoginThrottled:
        raise
    except AuthenticationFailed:
        with store.session() as s:
            record(s, Actor(name, None, ip), "login_failed", "user", name, at=clock())
        raise
    with store.session() as s:
        record(s, Actor(name, principal.role, ip), "login", "user", name, at=clock())
    return principal


@pytest.mark.parametrize("name", ["alice", "nobody"])
def test_throttle_grows_per_name_and_address_and_looks_the_same_for_unknown_names(
    store, alice, settings, clock, name
):
    for _ in range(5):  # five free attempts
        with pytest.raises(AuthenticationFailed) as info:
            _try(store, settings, clock, name, "wrong", "10.0.0.9")
        assert not isinstance(info.value, LoginThrottled)
    waits = []
    for _ in range(3):  # then each try waits twice as long as the one before, password unchecked
        with pytest.raises(LoginThrottled) as info:
            _try(store, settings, clock, name, "correct horse", "10.0.0.9")
        waits.append(info.value.retry_after)
        clock.advance(seconds=info.value.retry_after)
        with pytest.raises(AuthenticationFailed):
            _try(store, settings, clock, name, "wrong", "10.0.0.9")
    assert waits == [1, 2, 4]
    # the stranger at 10.0.0.9 does not lock the user out: from the user's own address it just works
    if name == "alice":
        assert _try(store, settings, clock, "alice", "correct horse", "10.0.0.1").role == "village"
        clock.advance(seconds=8)
        assert _try(store, settings, clock, "alice", "correct horse", "10.0.0.9").role == "village"
        # a success starts the count again
        with pytest.raises(AuthenticationFailed) as info:
            _try(store, settings, clock, "alice", "wrong", "10.0.0.9")
        assert not isinstance(info.value, LoginThrottled)


def test_throttle_parameters_and_window(store, alice, tmp_path, clock):
    settings = Settings(data=tmp_path, login_free_attempts=2, login_delay_seconds=30, login_window_hours=1)
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            _try(store, settings, clock, "alice", "x", None)
    with pytest.raises(LoginThrottled, match="30"):
        _try(store, settings, clock, "alice", "correct horse", None)
    clock.advance(hours=2)  # failures older than the window are forgotten
    assert _try(store, settings, clock, "alice", "correct horse", None).role == "village"


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
