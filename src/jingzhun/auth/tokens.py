"""Bearer tokens and page sessions: random secrets handed out once, stored as SHA-256 hashes.

Page sessions travel in a signed, httponly cookie (itsdangerous) that carries the session secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jingzhun.ops.models import AuthToken, User

_COOKIE_SALT = "jingzhun.session"


def hash_token(raw: str) -> str:
    """The stored form of a token.

    >>> len(hash_token("abc")), hash_token("abc") == hash_token("abc")
    (64, True)
    """
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue(session: Session, user: User, *, kind: str, hours: int, now: dt.datetime) -> tuple[str, AuthToken]:
    """Create a token for ``user``; the raw secret is returned here and never stored."""
    raw = secrets.token_urlsafe(32)
    token = AuthToken(
        user_id=user.id,
        token_hash=hash_token(raw),
        kind=kind,
        created_at=now,
        expires_at=now + dt.timedelta(hours=hours),
    )
    session.add(token)
    session.flush()
    return raw, token


def resolve(session: Session, raw: str, *, now: dt.datetime) -> User | None:
    """The active user owning a live (unexpired, unrevoked) token, else None."""
    row = session.execute(
        select(AuthToken, User)
        .join(User, User.id == AuthToken.user_id)
        .where(AuthToken.token_hash == hash_token(raw))
    ).first()
    if row is None:
        return None
    token, user = row
    if token.revoked_at is not None or token.expires_at <= now or not user.active:
        return None
    return user


def revoke(session: Session, raw: str, *, now: dt.datetime) -> bool:
    result = session.execute(
        update(AuthToken)
        .where(AuthToken.token_hash == hash_token(raw), AuthToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def revoke_all(session: Session, user_id: int, *, now: dt.datetime) -> int:
    result = session.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def sign_cookie(raw: str, secret_key: str) -> str:
    """The cookie value for a page session.

    >>> unsign_cookie(sign_cookie("tok", "k"), "k", 60)
    'tok'
    >>> unsign_cookie(sign_cookie("tok", "k") + "x", "k", 60) is None
    True
    """
    return URLSafeTimedSerializer(secret_key, salt=_COOKIE_SALT).dumps(raw)


def unsign_cookie(value: str, secret_key: str, max_age_s: int) -> str | None:
    try:
        raw = URLSafeTimedSerializer(secret_key, salt=_COOKIE_SALT).loads(value, max_age=max_age_s)
    except BadSignature:
        return None
    return raw if isinstance(raw, str) else None
