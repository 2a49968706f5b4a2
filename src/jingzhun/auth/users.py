"""User accounts: create, list, disable, authenticate with lockout, demo users."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jingzhun.auth import tokens
from jingzhun.auth.passwords import hash_password, needs_rehash, verify_password
from jingzhun.auth.roles import ROLES, check_scope
from jingzhun.errors import AccountLocked, AuthenticationFailed, ConfigError, JingzhunError, NotFound
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
    store: OpsStore, username: str, password: str, settings: Settings, now: dt.datetime | None = None
) -> Principal:
    """Check a password, counting failures: after ``lockout_attempts`` failures in a row the account is
    locked for ``lockout_minutes`` (even the right password is refused meanwhile).

    The failure counter is committed before the error is raised.
    """
    now = now or utcnow()
    error: AuthenticationFailed | None = None
    principal: Principal | None = None
    with store.session() as session:
        user = session.scalar(select(User).where(User.username == username).with_for_update())
        if user is None:
            verify_password(None, password)
            error = AuthenticationFailed("用户名或密码错误 / wrong user name or password")
        elif user.locked_until is not None and user.locked_until > now:
            error = AccountLocked(
                f"账户已锁定至 {user.locked_until:%Y-%m-%d %H:%M} UTC / account locked until "
                f"{user.locked_until:%Y-%m-%d %H:%M} UTC after {settings.lockout_attempts} failed logins"
            )
        elif not verify_password(user.password_hash, password):
            failures = (0 if user.locked_until is not None else user.failed_attempts) + 1
            user.locked_until = None
            user.failed_attempts = failures
            if failures >= settings.lockout_attempts:
                user.locked_until = now + dt.timedelta(minutes=settings.lockout_minutes)
                error = AccountLocked(
                    f"连续 {failures} 次登录失败，账户锁定 {settings.lockout_minutes} 分钟 / "
                    f"{failures} failed logins: account locked for {settings.lockout_minutes} minutes"
                )
            else:
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
