"""Alerts of the monthly runs (through the :class:`~jingzhun.cases.ports.AlertSource` port) and opening a
case from one."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends

from jingzhun.api.deps import ClientIp, Ctx, CurrentUser, Page, page
from jingzhun.api.routes_households import narrowed_prefix
from jingzhun.audit import Actor, record
from jingzhun.auth import scope
from jingzhun.auth.masking import mask_record
from jingzhun.errors import NotFound
from jingzhun.reports.sources import AlertFilters

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("", summary="Alerts in your region")
def list_alerts(
    principal: CurrentUser,
    ctx: Ctx,
    ip: ClientIp,
    paging: Page,
    period: str | None = None,
    region: str | None = None,
    status: Literal["new", "persisting"] | None = None,
    rule: str | None = None,
    filters: Annotated[AlertFilters | None, Depends(lambda: None)] = None,
) -> dict:
    """Alerts of the latest finished run of ``period`` in the region, narrowed by ``status`` and
    ``rule`` (pages pass a whole :class:`AlertFilters`, with households and order)."""
    prefix = narrowed_prefix(principal, region)
    if filters is None:
        filters = AlertFilters(status=status or None, rule_id=rule or None)
    rows, total = ctx.alerts.list(
        region_prefix=prefix, period=period, limit=paging.limit, offset=paging.offset, filters=filters
    )
    rows = [r for r in rows if str(r.get("village_code", "")).startswith(prefix)]
    with ctx.store.session() as session:
        record(
            session,
            Actor(principal.username, principal.role, ip),
            "list",
            "alert",
            None,
            at=ctx.now(),
            details={
                "period": period,
                "region": region,
                "status": filters.status,
                "rule": filters.rule_id,
                "alert_ids": [r.get("alert_id") for r in rows],
            },
        )
    return page([mask_record(r) for r in rows], total, paging)


@router.post("/{alert_id}/case", status_code=201, summary="Open a case (部门筛查预警) from an alert")
def open_from_alert(alert_id: str, principal: CurrentUser, ctx: Ctx, ip: ClientIp) -> dict:
    alert = ctx.alerts.get(alert_id)
    if alert is None:
        raise NotFound(f"预警 {alert_id} 不存在 / no alert {alert_id}")
    scope.check_region(principal, alert.get("village_code"), write=True)
    evidence = {
        "evidence": alert.get("evidence"),
        "explanation": alert.get("explanation"),
        "period": alert.get("period"),
    }
    return ctx.cases.open_case(
        principal,
        ip,
        household_id=alert["household_id"],
        village_code=alert["village_code"],
        head_name=alert.get("head_name") or "",
        channel="dept_alert",
        risk_type=alert.get("risk_type"),
        reason=alert.get("explanation"),
        run_id=alert.get("run_id"),
        alert_id=alert_id,
        rule_ids=list(alert.get("rule_ids") or []),
        evidence=evidence,
    )
