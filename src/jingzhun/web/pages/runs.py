"""Runs: start the monthly run of a period in a worker process, watch its progress by stage (htmx
polling the run ledger) and read its summary."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from sqlalchemy import select
from starlette.responses import Response

from jingzhun import periods
from jingzhun.api.context import AppContext
from jingzhun.audit import Actor, record
from jingzhun.auth import permissions
from jingzhun.auth.users import Principal
from jingzhun.errors import JingzhunError, NotFound
from jingzhun.ops.models import ImportRecord, RunRecord
from jingzhun.pipeline import STAGES
from jingzhun.reports.data import latest_period
from jingzhun.reports.index import REGISTRY
from jingzhun.web import i18n
from jingzhun.web.state import web_state
from jingzhun.web.views import Csrf, Ctx, Ip, PageUser, back, lang_of, render

router = APIRouter(include_in_schema=False)

STAGES_ZH = {
    "snapshot": "数据快照",
    "load": "加载",
    "link": "数据比对",
    "evaluate": "政策规则",
    "conflicts": "数据冲突",
    "diff": "预警比较",
    "write": "写入结果",
}
STATUS_ZH = {"running": "运行中", "done": "已完成", "failed": "失败", "unchanged": "无变化"}


def _t(lang: str, text: str, **values: str) -> str:
    return i18n.gettext_for(lang)(text).format(**values)


def why_not_run(ctx: AppContext, period: str, lang: str) -> str | None:
    """Why a run of ``period`` should not start, in the user's words (None when it may): no household
    register imported up to that month, or no department data imported for that month (a run would
    compare nothing and write notes on open cases for alerts that only look cleared)."""
    with ctx.store.session() as session:
        found = session.execute(
            select(ImportRecord.dataset, ImportRecord.period).where(ImportRecord.period <= period)
        ).all()
    if not any(d in REGISTRY for d, _ in found):
        return _t(
            lang,
            "{period} 及以前没有导入农户信息（建档立卡数据），不能运行。请先在“数据导入”上传农户、家庭成员和收入表。",
            period=period,
        )
    if not any(p == period and d not in REGISTRY for d, p in found):
        return _t(
            lang,
            "{period} 没有导入任何部门数据，不能运行。请先在“数据导入”上传该月的部门数据。",
            period=period,
        )
    return None


def may_run(principal: Principal) -> bool:
    return permissions.allows(principal.role, "run")


@router.get("/runs")
def runs(request: Request, principal: PageUser, ctx: Ctx, period: str | None = None) -> Response:
    with ctx.store.session() as session:
        items = list(session.scalars(select(RunRecord).order_by(RunRecord.started_at.desc()).limit(50)).all())
        imported: dict[str, set[str]] = {}
        for dataset, month in session.execute(select(ImportRecord.dataset, ImportRecord.period).distinct()):
            if dataset not in REGISTRY:
                imported.setdefault(month, set()).add(dataset)
    root = web_state(request).data
    default = max(
        filter(None, [latest_period(root, "medical_claim"), latest_period(root, "household")]),
        default=dt.date.today().strftime("%Y-%m"),
    )
    return render(
        request,
        "runs.html",
        title="监测运行",
        items=items,
        default_period=period if period and re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period) else default,
        imported=sorted(imported.items(), reverse=True)[:12],
        may_run=may_run(principal),
        status_zh=STATUS_ZH,
    )


@router.post("/runs", dependencies=[Csrf])
def start_run(
    request: Request, principal: PageUser, ctx: Ctx, ip: Ip, period: Annotated[str, Form()]
) -> Response:
    permissions.require(principal.role, "run", username=principal.username)
    lang = lang_of(request)
    try:
        periods.check(period)
    except JingzhunError:
        return back("/runs", err=_t(lang, "期次“{period}”应为年月，例如 2025-03", period=period))
    refused = why_not_run(ctx, period, lang)
    if refused:
        return back(f"/runs?period={period}", err=refused)
    state = web_state(request)
    state.reap()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    log_dir = state.data / "runs" / "_web"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = (log_dir / f"{stamp}.log").open("wb")
    env = dict(os.environ, JINGZHUN_DATA=str(state.data))
    proc = subprocess.Popen(
        [sys.executable, "-m", "jingzhun.web.worker", str(state.data), period, principal.username],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=os.getcwd(),
    )
    log.close()
    state.watch(proc)
    with ctx.store.session() as session:
        record(
            session,
            Actor(principal.username, principal.role, ip),
            "start_run",
            "run",
            period,
            at=ctx.now(),
            details={"pid": proc.pid, "log": f"{stamp}.log"},
        )
    return back(f"/runs/watch?period={period}&since={stamp}&pid={proc.pid}", msg="已启动 / run started")


def _latest_since(ctx: AppContext, period: str, since: dt.datetime) -> RunRecord | None:
    with ctx.store.session() as session:
        return session.scalars(
            select(RunRecord)
            .where(RunRecord.period == period, RunRecord.started_at >= since)
            .order_by(RunRecord.started_at.desc())
            .limit(1)
        ).first()


#: the ``since`` stamp of a run started here (also the name of its log file): nothing else is accepted
Stamp = Annotated[str, Query(pattern=r"^\d{8}T\d{6,12}$", max_length=21)]
Pid = Annotated[int, Query(ge=0, le=2**31 - 1)]


def _since(stamp: str) -> dt.datetime:
    """The start time a ``since`` stamp stands for (2 s earlier: clocks of processes differ).

    >>> _since("20260301T080000000000").isoformat()
    '2026-03-01T07:59:58'
    """
    try:
        return dt.datetime.strptime(stamp, "%Y%m%dT%H%M%S%f") - dt.timedelta(seconds=2)
    except ValueError:
        raise JingzhunError(f"since={stamp!r} 不是运行的开始时间 / is not the start stamp of a run") from None


@router.get("/runs/watch")
def watch(request: Request, principal: PageUser, period: str, since: Stamp, pid: Pid = 0) -> Response:
    _since(since)
    return render(request, "run_watch.html", title="监测运行", period=period, since=since, pid=pid)


@router.get("/runs/progress")
def progress(
    request: Request, principal: PageUser, ctx: Ctx, period: str, since: Stamp, pid: Pid = 0
) -> Response:
    """The htmx fragment: the run's stages so far; polling stops once the run has finished."""
    state = web_state(request)
    run = _latest_since(ctx, period, _since(since))
    proc = next((p for p in state.workers if p.pid == pid), None)
    exited = proc is not None and proc.poll() is not None
    log_path = state.data / "runs" / "_web" / f"{since}.log"
    tail = log_path.read_text(errors="replace")[-2000:] if exited and log_path.exists() else ""
    unchanged = exited and proc is not None and proc.returncode == 0 and "unchanged" in tail
    finished = (run is not None and run.status != "running") or (exited and (run is None or unchanged))
    return render(
        request,
        "run_progress.html",
        run=run,
        stages=STAGES,
        stages_zh=STAGES_ZH,
        status_zh=STATUS_ZH,
        finished=finished,
        failed_early=exited and run is None and not unchanged and proc is not None and proc.returncode != 0,
        unchanged=unchanged,
        tail=tail,
        period=period,
        since=since,
        pid=pid,
    )


@router.get("/runs/{run_id}")
def run_page(request: Request, run_id: str, principal: PageUser, ctx: Ctx) -> Response:
    with ctx.store.session() as session:
        run = session.get(RunRecord, run_id)
    if run is None:
        raise NotFound(f"运行 {run_id} 不存在 / no run {run_id}")
    return render(
        request,
        "run.html",
        title=f"运行 {run_id}",
        run=run,
        stages=STAGES,
        stages_zh=STAGES_ZH,
        status_zh=STATUS_ZH,
    )
