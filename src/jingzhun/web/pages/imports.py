"""Imports: upload department files (multipart) → ``jingzhun.ingest.import_files``, the import ledger,
the rejected rows of an import and their download as xlsx (to send back to the department)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select

from jingzhun import periods
from jingzhun.api.context import AppContext
from jingzhun.audit import Actor, record
from jingzhun.auth import permissions
from jingzhun.auth.masking import mask_rejected_row
from jingzhun.auth.users import Principal
from jingzhun.catalog import DATASETS
from jingzhun.errors import NotFound
from jingzhun.ingest import import_files, read_quarantine
from jingzhun.ingest.api import period_from_path
from jingzhun.ingest.headers import header_lookup, normalise_header
from jingzhun.ingest.quarantine import INTERNAL, REASON_COLUMN
from jingzhun.ops.models import ImportRecord
from jingzhun.reports.index import REGISTRY
from jingzhun.web import i18n
from jingzhun.web.state import web_state
from jingzhun.web.views import Csrf, Ctx, Ip, PageUser, lang_of, render, xlsx_response

router = APIRouter(include_in_schema=False)
IMPORT_STATUS = {"imported": "已导入", "already_imported": "此前已导入", "failed": "导入失败"}
#: an upload with files whose month neither their name nor the form gives
UNDATED = "无法确定以下文件属于哪个月：{files}。请在“期次”中选择这批文件的月份后重新上传。"
_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
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


def _t(lang: str, text: str, **values: str) -> str:
    return i18n.gettext_for(lang)(text).format(**values)


def _page(
    request: Request,
    ctx: AppContext,
    principal: Principal,
    *,
    results: list | None = None,
    chosen: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    ledger = _ledger(ctx, principal)
    return render(
        request,
        "imports.html",
        status_code=status_code,
        title="数据导入",
        ledger=ledger,
        results=results,
        datasets={n: d for n, d in DATASETS.items() if d.kind != "reference"},
        import_status=IMPORT_STATUS,
        may_import=may_import(principal),
        may_rejects=permissions.allows(principal.role, "rejects"),
        chosen=chosen or "",
        suggested=_next_period(ledger),
        upload_error=error,
    )


def _next_period(ledger: list[ImportRecord]) -> str:
    """The month after the latest department feed imported (the month a clerk uploads next)."""
    feeds = [r.period for r in ledger if r.dataset not in REGISTRY and r.period]
    if not feeds:
        return dt.date.today().strftime("%Y-%m")
    return periods.shift(max(feeds), 1)


@router.get("/imports")
def imports(request: Request, principal: PageUser, ctx: Ctx) -> Response:
    return _page(request, ctx, principal)


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
    lang = lang_of(request)
    chosen = (period or "").strip() or None
    if chosen and not _PERIOD.fullmatch(chosen):
        return _page(
            request,
            ctx,
            principal,
            status_code=422,
            chosen=chosen,
            error=_t(lang, "期次“{period}”应为年月，例如 2025-03", period=chosen),
        )
    named = {}
    for upload_file in files:
        name = _SAFE_NAME.sub("_", Path(upload_file.filename or "upload").name) or "upload"
        named[name] = upload_file
    undated = [n for n in named if period_from_path(n) is None]
    if undated and not chosen:
        # refuse before anything is stored: one question, asked once for the whole upload
        return _page(
            request,
            ctx,
            principal,
            status_code=422,
            chosen=None,
            error=_t(
                lang,
                UNDATED,
                files="、".join(undated),
            ),
        )
    paths = []
    for name, upload_file in named.items():
        target = folder / name
        target.write_bytes(await upload_file.read())
        paths.append(target)
    results = []
    for path in paths:  # each file in the period its name gives, else the one chosen for the upload
        results += await run_in_threadpool(
            import_files,
            root,
            [path],
            dataset or None,
            period_from_path(path.name) or chosen,
            principal.username,
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
    return _page(request, ctx, principal, results=results, chosen=chosen)


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
    if lang_of(request) == "en":  # the reason in English; the headers are the sender's own
        columns = [c for c in columns if c != REASON_COLUMN] + ["_reasons_en"]
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
