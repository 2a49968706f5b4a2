"""The linkage review queue of the latest run: a department record and the registered person it may be,
side by side; accept or reject (``jingzhun.link.decide``). Rows are limited to households in scope."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy import select
from starlette.responses import Response

from jingzhun.api.errors import audit_refusal, status_of
from jingzhun.api.routes_households import narrowed_prefix
from jingzhun.audit import Actor, record
from jingzhun.auth import permissions, scope
from jingzhun.errors import JingzhunError, NotFound, PermissionDenied
from jingzhun.link import decide
from jingzhun.ops.models import LinkDecision
from jingzhun.reports import data
from jingzhun.reports.index import code_range
from jingzhun.reports.runs import run_for
from jingzhun.web.state import web_state
from jingzhun.web.views import Csrf, Ctx, Ip, PageUser, back, render

router = APIRouter(include_in_schema=False)

SIDES = [
    ("name", "姓名"),
    ("id_number", "证件号码"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("region", "区划代码"),
    ("phone", "联系电话"),
]


def queue(
    request: Request, ctx: Any, principal: Any, limit: int = 200
) -> tuple[str | None, list[dict[str, Any]]]:
    """(run id, review rows in scope that nobody has decided yet)."""
    prefix = narrowed_prefix(principal, None)
    _, run_id = run_for(ctx.store, None)
    path = web_state(request).data / "runs" / str(run_id) / "review.parquet"
    if run_id is None or not path.exists():
        return run_id, []
    lo, hi = code_range(prefix)
    found = data.rows(
        web_state(request).index.cursor(),
        f"""SELECT r.*, h.village_code FROM read_parquet({data.sql_str(str(path))}) r
            JOIN reg.household h ON h.hk = hash(r.household_id) AND h.household_id = r.household_id
            WHERE h.vc BETWEEN ? AND ? ORDER BY r.score DESC NULLS LAST LIMIT {int(limit) * 2}""",
        [lo, hi],
    )
    with ctx.store.session() as session:
        done = set(
            session.execute(
                select(LinkDecision.feed, LinkDecision.record_fingerprint, LinkDecision.person_id)
            ).all()
        )
    return run_id, [r for r in found if (r["feed"], r["fingerprint"], r["person_id"]) not in done][:limit]


@router.get("/review")
def review(request: Request, principal: PageUser, ctx: Ctx) -> Response:
    run_id, items = queue(request, ctx, principal)
    return render(
        request,
        "review.html",
        title="比对复核",
        run_id=run_id,
        items=items,
        sides=SIDES,
        writes=permissions.allows(principal.role, "review"),
    )


@router.post("/review/decide", dependencies=[Csrf])
def review_decide(
    request: Request,
    principal: PageUser,
    ctx: Ctx,
    ip: Ip,
    feed: Annotated[str, Form()],
    fingerprint: Annotated[str, Form()],
    person_id: Annotated[str, Form()],
    decision: Annotated[str, Form()],
    note: Annotated[str | None, Form()] = None,
) -> Response:
    permissions.require(principal.role, "review", username=principal.username)
    try:
        _, items = queue(request, ctx, principal, limit=100000)
        row = next(
            (
                r
                for r in items
                if (r["feed"], r["fingerprint"], r["person_id"]) == (feed, fingerprint, person_id)
            ),
            None,
        )
        if row is None:
            raise NotFound("复核记录不存在或已处理 / no such pair waiting for review in your region")
        scope.check_region(principal, row["village_code"], write=True)
        decide(
            ctx.store,
            feed,
            fingerprint,
            person_id,
            decision,
            principal.username,
            note or None,
            score=row.get("score"),
        )
        with ctx.store.session() as session:
            record(
                session,
                Actor(principal.username, principal.role, ip),
                f"link_{decision}",
                "link",
                f"{feed}:{fingerprint}"[:80],
                at=ctx.now(),
                details={"person_id": person_id, "note": note},
            )
    except (PermissionDenied, NotFound):
        raise  # a refusal of access: the error page (403/404), audited
    except JingzhunError as exc:
        audit_refusal(request, *status_of(exc), str(exc))
        return back("/review", err=str(exc))
    return back("/review", msg=("已确认为同一人 / accepted" if decision == "accept" else "已否定 / rejected"))
