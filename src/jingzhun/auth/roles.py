"""Roles and what each may do in general; the region check for one object lives in :mod:`.scope`.

>>> ROLES["village"].level, ROLES["province"].writes, ROLES["department"].personal_data
('village', False, False)
"""

from __future__ import annotations

from dataclasses import dataclass

from jingzhun import regions
from jingzhun.auth.permissions import allows
from jingzhun.errors import InvalidRegionCode, PermissionDenied


@dataclass(frozen=True)
class Role:
    """A role: its name, label and the level of its scope. What it may do is in
    :data:`jingzhun.auth.permissions.MATRIX`; the three flags below are read from there."""

    name: str
    zh: str
    level: str | None  # region level of the scope; None: scope is not a region

    @property
    def personal_data(self) -> bool:
        """May read personal data (cases, households, alerts) within the scope."""
        return allows(self.name, "read")

    @property
    def writes(self) -> bool:
        """May change cases."""
        return allows(self.name, "case_write")

    @property
    def unmask(self) -> bool:
        """May see full ID numbers on request (audited)."""
        return allows(self.name, "unmask")


ROLES: dict[str, Role] = {
    "village": Role("village", "村级", "village"),
    "township": Role("township", "乡镇", "township"),
    "county": Role("county", "县级", "county"),
    "province": Role("province", "省级(只读)", "province"),
    "department": Role("department", "行业部门", None),
    "admin": Role("admin", "系统管理员", None),
}


def check_scope(role: str, scope: str) -> str:
    """Validate (and normalise) the scope of a user with ``role``.

    Region roles need a code of their own level; a department names its feed or department; an admin
    has scope ``*``.

    >>> check_scope("township", "441481104")
    '441481104000'
    >>> check_scope("village", "441481104000")
    Traceback (most recent call last):
    ...
    jingzhun.errors.PermissionDenied: role village needs a village code, got 441481104000 (township)
    """
    if role not in ROLES:
        raise PermissionDenied(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    spec = ROLES[role]
    if spec.level is None:
        scope = scope.strip()
        if role == "admin":
            return "*"
        if not scope:
            raise PermissionDenied("a department user needs a feed or department name as scope")
        return scope
    try:
        code = regions.normalise_code(scope)
        level = regions.level_of(code)
    except InvalidRegionCode as exc:
        raise PermissionDenied(f"role {role} needs a {spec.level} code: {exc}") from None
    if level != spec.level:
        raise PermissionDenied(f"role {role} needs a {spec.level} code, got {code} ({level})")
    return code
