"""The import and run ledgers (no personal data): any signed-in user; a department sees its own feed.
The audit log, as the permission matrix allows (``audit``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from jingzhun.api.context import AppContext
from jingzhun.api.deps import Ctx, CurrentUser, Page, Paging, page, paged
from jingzhun.audit import query as audit_query
from jingzhun.auth import permissions, scope
from jingzhun.auth.users import Principal
from jingzhun.errors import NotFound
from jingzhun.ops.models import ImportRecord, RunRecord

router = APIRouter(tags=["ledgers"])


def _row(obj: object) -> dict:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}  # type: ignore[attr-defined]


@router.get("/imports", summary="The import ledger")
def list_imports(
    principal: CurrentUser, ctx: Ctx, paging: Page, dataset: str | None = None, period: str | None = None
) -> dict:
    permissions.require(principal.role, "ledgers", username=principal.username)
    stmt = select(ImportRecord)
    own = principal.scope if permissions.scope_for(principal.role, "ledgers") is permissions.Scope.OWN_FEED else None
    if own is not None:
        stmt = stmt.where(ImportRecord.dataset == own)
    if dataset:
        stmt = stmt.where(ImportRecord.dataset == dataset)
    if period:
        stmt = stmt.where(ImportRecord.period == period)
    with ctx.store.session() as session:
        rows, total = paged(session, stmt, paging, ImportRecord.imported_at.desc(), ImportRecord.id)
        return page([_row(r) for r in rows], total, paging)


@router.get("/runs", summary="The run ledger")
def list_runs(
    principal: CurrentUser, ctx: Ctx, paging: Page, period: str | None = None, status: str | None = None
) -> dict:
    permissions.require(principal.role, "ledgers", username=principal.username)
    stmt = select(RunRecord)
    if period:
        stmt = stmt.where(RunRecord.period == period)
    if status:
        stmt = stmt.where(RunRecord.status == status)
    with ctx.store.session() as session:
        rows, total = paged(session, stmt, paging, RunRecord.started_at.desc(), RunRecord.id)
        return page([_row(r) for r in rows], total, paging)


@router.get("/runs/{run_id}", summary="One run")
def get_run(run_id: str, principal: CurrentUser, ctx: Ctx) -> dict:
    with ctx.store.session() as session:
        run = session.get(RunRecord, run_id)
        if run is None:
            raise NotFound(f"运行 {run_id} 不存在 / no run {run_id}")
        return _row(run)


class AuditFilters:
    """The filters of the audit log (API ``GET /audit`` and the audit page alike)."""

    def __init__(
        self,
        actor: Annotated[str | None, Query(max_length=100, description="user name")] = None,
        action: Annotated[str | None, Query(max_length=40, description="e.g. denied, refused, export")] = None,
        object_type: Annotated[str | None, Query(max_length=40, description="e.g. case, household")] = None,
        object_id: Annotated[str | None, Query(max_length=80)] = None,
        since: Annotated[dt.date | None, Query(description="first day (YYYY-MM-DD)")] = None,
        until: Annotated[dt.date | None, Query(description="last day (YYYY-MM-DD)")] = None,
    ):
        self.actor = actor or None
        self.action = action or None
        self.object_type = object_type or None
        self.object_id = object_id or None
        self.since = since
        self.until = until

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


Filters = Annotated[AuditFilters, Depends()]


def read_audit(ctx: AppContext, principal: Principal, filters: AuditFilters, paging: Paging) -> dict:
    """One page of the audit log as ``principal`` may read it (permission ``audit``: an admin all of it,
    a county officer the entries of users inside the county)."""
    found = permissions.require(principal.role, "audit", username=principal.username)
    region = scope.region_of(principal) if found is permissions.Scope.REGION else None
    with ctx.store.session() as session:
        rows, total = audit_query(
            session,
            actor=filters.actor,
            action=filters.action,
            object_type=filters.object_type,
            object_id=filters.object_id,
            since=filters.since,
            until=filters.until,
            actors_in_region=region,
            limit=paging.limit,
            offset=paging.offset,
        )
        return page([_row(r) for r in rows], total, paging)


@router.get("/audit", summary="The audit log (admin: all; county: its users' entries)", tags=["audit"])
def list_audit(principal: CurrentUser, ctx: Ctx, paging: Page, filters: Filters) -> dict:
    return read_audit(ctx, principal, filters, paging)
