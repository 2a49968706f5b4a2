"""Users and roles: Argon2 passwords, tokens and page sessions, lockout, and the region scope of every
query for personal data (:mod:`jingzhun.auth.scope`)."""

from jingzhun.auth.roles import ROLES, Role, check_scope
from jingzhun.auth.users import (
    DEMO_PASSWORD,
    Principal,
    UserExists,
    authenticate,
    create_demo_users,
    create_user,
    disable_user,
    get_user,
    list_users,
)

__all__ = [
    "DEMO_PASSWORD",
    "ROLES",
    "Principal",
    "Role",
    "UserExists",
    "authenticate",
    "check_scope",
    "create_demo_users",
    "create_user",
    "disable_user",
    "get_user",
    "list_users",
]
