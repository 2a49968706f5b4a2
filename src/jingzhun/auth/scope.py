"""The one place where access to personal data is decided.

Every query that touches personal data (cases, households, alerts) goes through :func:`scoped_select`
(lists) or :func:`check_region` (one object). Region roles see their region and everything inside it
(a village officer one village, a township officer its villages, ...); departments and admins see no
personal data; province viewers read without changing anything and never see full ID numbers.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false

from jingzhun import regions
from jingzhun.auth.roles import ROLES
from jingzhun.auth.users import Principal
from jingzhun.errors import PermissionDenied

S = TypeVar("S", bound=Select[Any])


def region_prefix(principal: Principal) -> str | None:
    """The code prefix of everything ``principal`` may read, or None when they may read no personal data.

    >>> region_prefix(Principal(1, "v", "village", "441481104201"))
    '441481104201'
    >>> region_prefix(Principal(2, "t", "township", "441481104000"))
    '441481104'
    >>> region_prefix(Principal(3, "d", "department", "medical_claim")) is None
    True
    """
    role = ROLES.get(principal.role)
    if role is None or not role.personal_data or role.level is None:
        return None
    return regions.prefix_of(principal.scope, role.level)


def region_of(principal: Principal) -> str | None:
    """The code prefix of the principal's own region (any region role, read-only ones too), else None.

    >>> region_of(Principal(1, "c", "county", "441481000000")), region_of(Principal(2, "a", "admin", "*"))
    ('441481', None)
    """
    role = ROLES.get(principal.role)
    if role is None or role.level is None:
        return None
    return regions.prefix_of(principal.scope, role.level)


def in_scope(principal: Principal, region_code: str | None) -> bool:
    """True when ``region_code`` lies inside the principal's region.

    >>> in_scope(Principal(1, "t", "township", "441481104000"), "441481104201")
    True
    >>> in_scope(Principal(1, "t", "township", "441481104000"), "441481105001")
    False
    """
    prefix = region_prefix(principal)
    return prefix is not None and region_code is not None and str(region_code).startswith(prefix)


def scoped_select(stmt: S, region_column: ColumnElement[Any] | Any, principal: Principal) -> S:
    """Add the principal's region filter to a select (``column LIKE 'prefix%'``; nothing at all for roles
    without access to personal data)."""
    prefix = region_prefix(principal)
    if prefix is None:
        return stmt.where(false())
    return stmt.where(region_column.like(prefix + "%"))


def check_region(principal: Principal, region_code: str | None, *, write: bool = False) -> None:
    """Refuse unless ``principal`` may read (or, with ``write``, change) personal data in ``region_code``."""
    if not in_scope(principal, region_code):
        raise PermissionDenied(
            f"无权访问该地区的数据 / user {principal.username} ({principal.role}) may not access region "
            f"{region_code}"
        )
    if write and not ROLES[principal.role].writes:
        raise PermissionDenied(f"只读角色不能修改 / role {principal.role} is read-only")


def may_unmask(principal: Principal, region_code: str | None) -> bool:
    """Full ID numbers: only village, township and county users, inside their region."""
    return ROLES[principal.role].unmask and in_scope(principal, region_code)


def require_role(principal: Principal, *roles: str) -> None:
    if principal.role not in roles:
        raise PermissionDenied(
            f"该操作需要角色 {'/'.join(roles)} / this needs role {' or '.join(roles)}, "
            f"{principal.username} is {principal.role}"
        )
