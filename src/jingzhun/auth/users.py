"""User accounts: create, list, disable, authenticate (throttled per name and address), demo users."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jingzhun.auth import throttle, tokens
from jingzhun.auth.passwords import hash_password, needs_rehash, verify_password
from jingzhun.auth.roles import ROLES, check_scope
from jingzhun.errors import AuthenticationFailed, ConfigError, JingzhunError, NotFound
from jingzhun.ops.db import OpsStore
from jingzhun.ops.models import User, utcnow
from jingzhun.settings import Settings


@dataclass(frozen=True)
class Principal:
    """The signed-in user as every permission check sees it."""

    user_id: int
    username: str
    role: str
    scope: str
    display_name: str | None = None

    @classmethod
    def of(cls, user: User) -> Principal:
        return cls(user.id, user.username, user.role, user.scope, user.display_name)


class UserExists(JingzhunError):
    """A user with this name exists already."""


def create_user(
    session: Session, username: str, password: str, role: str, scope: str, display_name: str | None = None
) -> User:
    """Create an active user; the role and scope are validated (see :func:`roles.check_scope`)."""
    username = username.strip()
    if not username:
        raise JingzhunError("用户名不能为空 / the user name must not be empty")
    scope = check_scope(role, scope)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserExists(f"用户 {username} 已存在 / user {username} exists already")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        scope=scope,
        display_name=display_name,
        active=True,
        failed_attempts=0,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户 {username} 不存在 / no user {username}")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def disable_user(session: Session, username: str) -> User:
    """Disable an account and revoke its tokens (the row is kept: audit rows name it)."""
    user = get_user(session, username)
    user.active = False
    tokens.revoke_all(session, user.id, now=utcnow())
    return user


def authenticate(
    store: OpsStore,
    username: str,
    password: str,
    settings: Settings,
    now: dt.datetime | None = None,
    client: str | None = None,
) -> Principal:
    """Check a password. Too many failures in a row for this name from this ``client`` address make the
    next try wait (:mod:`jingzhun.auth.throttle`: :class:`~jingzhun.errors.LoginThrottled`, before the
    password is looked at); unknown names and wrong passwords get the same answer. No account is locked.

    The caller records the outcome in the audit log (``login`` / ``login_failed``), which the throttle reads.
    """
    now = now or utcnow()
    error: AuthenticationFailed | None = None
    principal: Principal | None = None
    with store.session() as session:
        throttle.check(session, username, client, now, settings)
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            verify_password(None, password)
            error = AuthenticationFailed("用户名或密码错误 / wrong user name or password")
        elif not verify_password(user.password_hash, password):
            user.failed_attempts = (user.failed_attempts or 0) + 1
            error = AuthenticationFailed("用户名或密码错误 / wrong user name or password")
        elif not user.active:
            error = AuthenticationFailed("账户已停用 / this account is disabled")
        else:
            user.failed_attempts = 0
            user.locked_until = None
            user.last_login_at = now
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            principal = Principal.of(user)
    if error is not None:
        raise error
    assert principal is not None
    return principal


def reset_lockout(session: Session, username: str) -> None:
    session.execute(
        update(User).where(User.username == username).values(failed_attempts=0, locked_until=None)
    )


DEMO_PASSWORD = "demo"


def create_demo_users(
    store: OpsStore,
    county_code: str,
    township_code: str,
    village_code: str,
    *,
    settings: Settings | None = None,
) -> list[str]:
    """Create users ``county``, ``township`` and ``village`` (password ``demo``) in demo mode only.

    Existing users are left as they are; returns the names created. Outside demo mode (``JINGZHUN_DEMO``
    not set) this refuses: known passwords must never reach a real installation.
    """
    settings = settings or Settings()
    if not settings.demo:
        raise ConfigError(
            "演示用户只能在演示模式下创建 / demo users exist only in demo mode (JINGZHUN_DEMO=1)"
        )
    created = []
    with store.session() as session:
        for role, code in (("county", county_code), ("township", township_code), ("village", village_code)):
            if session.scalar(select(User.id).where(User.username == role)) is None:
                create_user(
                    session, role, DEMO_PASSWORD, role, code, display_name=f"演示{ROLES[role].zh}用户"
                )
                created.append(role)
    return created
