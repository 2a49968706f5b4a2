"""The import and run ledgers (no personal data): any signed-in user; a department sees its own feed."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from jingzhun.api.deps import Ctx, CurrentUser, Page, page, paged
from jingzhun.audit import query as audit_query
from jingzhun.auth import scope
from jingzhun.errors import NotFound
from jingzhun.ops.models import ImportRecord, RunRecord

router = APIRouter(tags=["ledgers"])


def _row(obj: object) -> dict:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}  # type: ignore[attr-defined]


@router.get("/imports", summary="The import ledger")
def list_imports(
    principal: CurrentUser, ctx: Ctx, paging: Page, dataset: str | None = None, period: str | None = None
) -> dict:
    stmt = select(ImportRecord)
    own = scope.dataset_filter(principal)
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


@router.get("/audit", summary="The audit log (admin only)", tags=["audit"])
def list_audit(
    principal: CurrentUser,
    ctx: Ctx,
    paging: Page,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
) -> dict:
    scope.require_role(principal, "admin")
    with ctx.store.session() as session:
        rows, total = audit_query(
            session,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            limit=paging.limit,
            offset=paging.offset,
        )
        return page([_row(r) for r in rows], total, paging)
