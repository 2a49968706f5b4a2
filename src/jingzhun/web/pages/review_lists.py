"""Review of lists linked with `jingzhun link` (typed fields, docs/LINKAGE.md "Any two lists"): the
officer uploads the workbook the command wrote; each pair of its review sheet is shown with both records
as typed and, per comparison, the level reached and its match weight; accept or reject is stored like the
monthly queue's decisions (``jingzhun.link.decide``, keyed by the list's name) and applied by the next
`jingzhun link ... --data`. Uploaded workbooks are kept under ``<data>/linkage/review/``."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from jingzhun.api.errors import audit_refusal, status_of
from jingzhun.audit import Actor, record
from jingzhun.auth import permissions
from jingzhun.errors import JingzhunError, NotFound
from jingzhun.ids import mask
from jingzhun.link import decide
from jingzhun.link.explain import pair_chart_options, read_review
from jingzhun.ops.models import LinkDecision
from jingzhun.store import atomic_file
from jingzhun.web.state import web_state
from jingzhun.web.views import Csrf, Ctx, Ip, PageUser, back, render

router = APIRouter(include_in_schema=False)
_KEY = re.compile(r"^[0-9a-f]{16}$")
_ID_LIKE = re.compile(r"^[0-9]{6}(?:[0-9]{9}|[0-9]{11}[0-9Xx])$")


def _may_decide(principal: Any) -> bool:
    return permissions.allows(principal.role, "review")


def _require(principal: Any) -> None:
    """Lists of people compared are personal data: the roles that may review linkage (the matrix's
    ``review``) read and decide them; others are refused (403, audited)."""
    permissions.require(principal.role, "review", username=principal.username)


def _folder(request: Request) -> Any:
    return web_state(request).data / "linkage" / "review"


def _shown(value: Any) -> Any:
    """Chinese ID numbers masked whatever the workbook holds."""
    return mask(value) if isinstance(value, str) and _ID_LIKE.match(value.strip()) else value


def _pending(ctx: Any, key_path: Any) -> list[dict[str, Any]]:
    pairs = read_review(key_path)
    with ctx.store.session() as session:
        done = set(session.execute(
            select(LinkDecision.feed, LinkDecision.record_fingerprint, LinkDecision.person_id)).all())
    out = []
    for p in pairs:
        if (p["list"], p["fingerprint"], p["left_id"]) in done:
            continue
        for f in p["fields"]:
            f["record"], f["candidate"] = _shown(f["record"]), _shown(f["candidate"])
        p["chart"] = json.dumps(pair_chart_options(p), ensure_ascii=False)
        out.append(p)
    return out


@router.get("/review/lists")
def lists(request: Request, principal: PageUser) -> Response:
    _require(principal)
    folder = _folder(request)
    found = sorted(folder.glob("*.xlsx"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.exists() else []
    return render(request, "review_lists.html", title="名单比对复核", key=None, pairs=None,
                  uploaded=[p.stem for p in found], writes=_may_decide(principal))


@router.post("/review/lists", dependencies=[Csrf])
async def upload(request: Request, principal: PageUser, ctx: Ctx, ip: Ip,
                 workbook: Annotated[UploadFile | None, File()] = None) -> Response:
    _require(principal)
    if workbook is None:
        return back("/review/lists", err="请选择 jingzhun link 生成的比对结果工作簿 / choose the workbook written by jingzhun link")
    body = await workbook.read()
    key = hashlib.sha256(body).hexdigest()[:16]
    target = _folder(request) / f"{key}.xlsx"
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(target) as tmp:
        tmp.write_bytes(body)
    try:
        await run_in_threadpool(read_review, target)
    except JingzhunError as exc:
        target.unlink(missing_ok=True)
        return back("/review/lists", err=str(exc))
    with ctx.store.session() as session:
        record(session, Actor(principal.username, principal.role, ip), "link_review_upload", "link", key,
               at=ctx.now(), details={"file": workbook.filename})
    return back(f"/review/lists/{key}")


@router.get("/review/lists/{key}")
def pairs(request: Request, principal: PageUser, ctx: Ctx, key: str) -> Response:
    _require(principal)
    path = _folder(request) / f"{key}.xlsx"
    if not _KEY.match(key) or not path.exists():
        raise NotFound(f"复核名单 {key} 不存在 / no uploaded review list {key}")
    return render(request, "review_lists.html", title="名单比对复核", key=key, pairs=_pending(ctx, path),
                  uploaded=None, writes=_may_decide(principal))


@router.post("/review/lists/{key}/decide", dependencies=[Csrf])
def decide_pair(request: Request, principal: PageUser, ctx: Ctx, ip: Ip, key: str,
                fingerprint: Annotated[str, Form()], left_id: Annotated[str, Form()],
                decision: Annotated[str, Form()], note: Annotated[str | None, Form()] = None) -> Response:
    url = f"/review/lists/{key}"
    _require(principal)
    path = _folder(request) / f"{key}.xlsx"
    if not _KEY.match(key) or not path.exists():
        raise NotFound(f"复核名单 {key} 不存在 / no uploaded review list {key}")
    try:
        pair = next((p for p in _pending(ctx, path) if (p["fingerprint"], p["left_id"]) == (fingerprint, left_id)),
                    None)
        if pair is None:
            raise NotFound("复核记录不存在或已处理 / no such pair waiting for review")
        decide(ctx.store, pair["list"], fingerprint, left_id, decision, principal.username, note or None,
               score=pair["probability"])
        with ctx.store.session() as session:
            record(session, Actor(principal.username, principal.role, ip), f"link_{decision}", "link",
                   f"{pair['list']}:{fingerprint}"[:80], at=ctx.now(),
                   details={"left_id": left_id, "right_id": pair["right_id"], "note": note})
    except JingzhunError as exc:
        audit_refusal(request, *status_of(exc), str(exc))
        return back(url, err=str(exc))
    return back(url, msg=("已确认为同一人 / accepted" if decision == "accept" else "已否定 / rejected"))
