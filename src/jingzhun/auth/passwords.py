"""Password hashing with Argon2id (argon2-cffi defaults)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
# verified against when the user does not exist, so both paths cost the same time (made on first use)
_DUMMY: str | None = None


def _dummy() -> str:
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = _HASHER.hash("jingzhun-dummy-password")
    return _DUMMY


def hash_password(password: str) -> str:
    if not password:
        raise ValueError("the password must not be empty")
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``; ``None`` burns the same time and returns False."""
    try:
        ok = _HASHER.verify(stored_hash or _dummy(), password)
    except (VerificationError, InvalidHashError):
        return False
    return bool(ok) and stored_hash is not None


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)
