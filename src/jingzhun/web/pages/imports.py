"""Imports: upload department files (multipart) → ``jingzhun.ingest.import_files``, the import ledger,
the rejected rows of an import and their download as xlsx (to send back to the department).

Who may do what is the permission matrix's (``import``, ``rejects``, ``ledgers``): the county office
uploads any file, a department its own feed; rejected rows are personal data, shown and exported with ID
numbers, phones and bank accounts masked (:func:`jingzhun.auth.masking.mask_rejected_row`)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select

from jingzhun.api.context import AppContext
from jingzhun.audit import Actor, record
from jingzhun.auth import permissions
from jingzhun.auth.masking import mask_rejected_row
from jingzhun.auth.users import Principal
from jingzhun.catalog import DATASETS
from jingzhun.errors import NotFound
from jingzhun.ingest import import_files, read_quarantine
from jingzhun.ingest.headers import header_lookup, normalise_header
from jingzhun.ingest.quarantine import INTERNAL, REASON_COLUMN
from jingzhun.ops.models import ImportRecord
from jingzhun.reports.index import REGISTRY
from jingzhun.web.state import web_state
from jingzhun.web.views import Csrf, Ctx, Ip, PageUser, render, xlsx_response

router = APIRouter(include_in_schema=False)
IMPORT_STATUS = {"imported": "已导入", "already_imported": "此前已导入", "failed": "导入失败"}
_SAFE_NAME = re.compile(r"[^\w.\-（）()\u4e00-\u9fff]+")


def may_import(principal: Principal) -> bool:
    return permissions.allows(principal.role, "import")


def _ledger(ctx: AppContext, principal: Principal) -> list[ImportRecord]:
    permissions.require(principal.role, "ledgers", username=principal.username)
    stmt = select(ImportRecord).order_by(ImportRecord.imported_at.desc()).limit(100)
    if permissions.scope_for(principal.role, "ledgers") is permissions.Scope.OWN_FEED:
        stmt = stmt.where(ImportRecord.dataset == principal.scope)
    with ctx.store.session() as session:
        return list(session.scalars(stmt).all())


def masked_rejects(root: Path, rec: ImportRecord) -> tuple[list[str], list[dict[str, object]]]:
    """The rejected rows of an import (columns as in the file, then 错误原因), masked for everyone."""
    rows = read_quarantine(root, rec.id)
    columns = [c for c in (rows[0].keys() if rows else []) if c not in INTERNAL]
    id_columns, private = set(), set()
    if rec.dataset in DATASETS:
        ds = DATASETS[rec.dataset]
        lookup = header_lookup(ds)
        for column in columns:
            name = lookup.get(normalise_header(column))
            found = ds.field(name) if name else None
            if found is not None and found.type == "id_number":
                id_columns.add(column)
            elif found is not None and found.pii:
                private.add(column)
    if REASON_COLUMN in columns:  # the reasons last, as in the file sent back
        columns = [c for c in columns if c != REASON_COLUMN] + [REASON_COLUMN]
    return columns, [mask_rejected_row(r, id_columns, private) for r in rows]


@router.get("/imports")
def imports(request: Request, principal: PageUser, ctx: Ctx) -> Response:
    ledger = _ledger(ctx, principal)
    return render(
        request,
        "imports.html",
        title="数据导入",
        ledger=ledger,
        results=None,
        datasets=DATASETS,
        import_status=IMPORT_STATUS,
        may_import=may_import(principal),
        may_rejects=permissions.allows(principal.role, "rejects"),
    )


@router.post("/imports", dependencies=[Csrf])
async def upload(
    request: Request,
    principal: PageUser,
    ctx: Ctx,
    ip: Ip,
    files: Annotated[list[UploadFile], File()],
    dataset: Annotated[str | None, Form()] = None,
    period: Annotated[str | None, Form()] = None,
) -> Response:
    if permissions.require(principal.role, "import", username=principal.username) is permissions.Scope.OWN_FEED:
        # a department uploads its own feed only: another dataset named in the form is refused
        permissions.require(principal.role, "import", feed=dataset or principal.scope, own=principal.scope)
        dataset = principal.scope
    root = web_state(request).data
    folder = root / "uploads" / dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for upload_file in files:
        name = _SAFE_NAME.sub("_", Path(upload_file.filename or "upload").name) or "upload"
        target = folder / name
        target.write_bytes(await upload_file.read())
        paths.append(target)
    results = await run_in_threadpool(
        import_files, root, paths, dataset or None, period or None, principal.username
    )
    if any(r.status == "imported" and r.dataset in REGISTRY for r in results):
        web_state(request).index.warm()  # a new extract: rebuild the web index now, not on the next page
    with ctx.store.session() as session:
        record(
            session,
            Actor(principal.username, principal.role, ip),
            "import",
            "import",
            None,
            at=ctx.now(),
            details={
                "files": [p.name for p in paths],
                "results": [{"status": r.status, "import_id": r.import_id} for r in results],
            },
        )
    return render(
        request,
        "imports.html",
        title="数据导入",
        ledger=_ledger(ctx, principal),
        results=results,
        datasets=DATASETS,
        import_status=IMPORT_STATUS,
        may_import=True,
        may_rejects=permissions.allows(principal.role, "rejects"),
    )


def _allowed(ctx: AppContext, principal: Principal, import_id: str) -> ImportRecord:
    permissions.require(principal.role, "rejects", username=principal.username)
    with ctx.store.session() as session:
        rec = session.get(ImportRecord, import_id)
    if rec is None:
        raise NotFound(f"导入记录 {import_id} 不存在 / no import {import_id}")
    permissions.require(principal.role, "rejects", feed=rec.dataset, own=principal.scope)
    return rec


@router.get("/imports/{import_id}")
def import_page(request: Request, import_id: str, principal: PageUser, ctx: Ctx, ip: Ip) -> Response:
    rec = _allowed(ctx, principal, import_id)
    columns, rows = masked_rejects(web_state(request).data, rec)
    with ctx.store.session() as session:
        record(
            session,
            Actor(principal.username, principal.role, ip),
            "view",
            "import",
            import_id,
            at=ctx.now(),
            details={"what": "rejects", "rows": min(len(rows), 200)},
        )
    return render(
        request, "import.html", title=f"导入 {rec.file_name}", rec=rec, rows=rows[:200], columns=columns
    )


@router.get("/imports/{import_id}/rejects.xlsx")
def rejects_xlsx(request: Request, import_id: str, principal: PageUser, ctx: Ctx, ip: Ip) -> Response:
    rec = _allowed(ctx, principal, import_id)
    columns, rows = masked_rejects(web_state(request).data, rec)
    return xlsx_response(
        ctx,
        principal,
        ip,
        f"退回数据-{Path(rec.file_name).stem}",
        [(c, c) for c in columns],
        rows,
        "import",
        details={"what": "rejects", "import_id": import_id, "masked": True},
    )
