"""Households, read through the :class:`~jingzhun.cases.ports.HouseholdSource` port; every view audited."""

from __future__ import annotations

from fastapi import APIRouter

from jingzhun import regions
from jingzhun.api.deps import ClientIp, Ctx, CurrentUser, Page, page
from jingzhun.audit import Actor, record
from jingzhun.auth import scope
from jingzhun.auth.masking import mask_record
from jingzhun.auth.users import Principal
from jingzhun.errors import NotFound, PermissionDenied
from jingzhun.reports.sources import AtLeast

router = APIRouter(prefix="/households", tags=["households"])


def narrowed_prefix(principal: Principal, region: str | None) -> str:
    """The principal's region prefix, narrowed to ``region`` when that lies inside it."""
    prefix = scope.region_prefix(principal)
    if prefix is None:
        raise PermissionDenied(
            f"角色 {principal.role} 不能查看户信息 / role {principal.role} sees no household data"
        )
    if region:
        code = regions.normalise_code(region)
        scope.check_region(principal, code)
        prefix = max(prefix, regions.prefix_of(code, regions.level_of(code)), key=len)
    return prefix


@router.get("", summary="Search households in your region (ID numbers always masked here)")
def search(
    principal: CurrentUser,
    ctx: Ctx,
    ip: ClientIp,
    paging: Page,
    q: str | None = None,
    region: str | None = None,
) -> dict:
    prefix = narrowed_prefix(principal, region)
    rows, total = ctx.households.search(
        region_prefix=prefix, text=q, limit=paging.limit, offset=paging.offset
    )
    rows = [r for r in rows if str(r.get("village_code", "")).startswith(prefix)]  # never trust the port
    with ctx.store.session() as session:
        record(
            session,
            Actor(principal.username, principal.role, ip),
            "search",
            "household",
            None,
            at=ctx.now(),
            details={"q": q, "region": region, "household_ids": [r.get("household_id") for r in rows]},
        )
    found = page([mask_record(r) for r in rows], total, paging)
    # a common name is counted only up to a point: the total is then a lower bound
    found["total_exact"] = not isinstance(total, AtLeast)
    return found


@router.get("/{household_id}", summary="One household; full ID numbers only with unmask=true where allowed")
def get_household(
    household_id: str, principal: CurrentUser, ctx: Ctx, ip: ClientIp, unmask: bool = False
) -> dict:
    if scope.region_prefix(principal) is None:
        raise PermissionDenied(
            f"角色 {principal.role} 不能查看户信息 / role {principal.role} sees no household data"
        )
    household = ctx.households.get(household_id)
    if household is None:
        raise NotFound(f"户 {household_id} 不存在 / no household {household_id}")
    village = household.get("village_code")
    scope.check_region(principal, village)
    if unmask and not scope.may_unmask(principal, village):
        raise PermissionDenied(
            f"角色 {principal.role} 不能查看完整证件号码 / role {principal.role} may not unmask ID numbers"
        )
    with ctx.store.session() as session:
        record(
            session,
            Actor(principal.username, principal.role, ip),
            "view_unmasked" if unmask else "view",
            "household",
            household_id,
            at=ctx.now(),
            details={"village_code": village},
        )
    return dict(household) if unmask else mask_record(household)
