"""Household search (name, ID number or place; ID numbers masked) and the household page: members,
income, linked department records, flags with their explanations, tags, conflicts and case history.
Reads go through the audited API functions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from jingzhun.api.deps import Page, all_pages
from jingzhun.api.routes_households import get_household, search
from jingzhun.auth import scope
from jingzhun.auth.masking import mask_record
from jingzhun.auth.roles import ROLES
from jingzhun.cases import workflow
from jingzhun.cases.service import OPENING_ROLES
from jingzhun.ops.models import ImportRecord
from jingzhun.pipeline.snapshot import take_snapshot
from jingzhun.policy.flags import received_lines
from jingzhun.reports import data
from jingzhun.reports.runs import run_for
from jingzhun.store import DataFolder
from jingzhun.web.state import web_state
from jingzhun.web.views import Ctx, Ip, PageUser, render, xlsx_response

router = APIRouter(include_in_schema=False)

COLUMNS = [
    ("household_id", "户编号"),
    ("head_name", "户主"),
    ("township_name", "乡(镇)"),
    ("village_name", "行政村"),
    ("household_type", "户类型"),
    ("monitoring_type", "监测对象类别"),
    ("household_size", "家庭人口数"),
]
MEMBER_COLUMNS = [
    ("name", "姓名"),
    ("id_number", "证件号码"),
    ("relation", "与户主关系"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("health", "健康状况"),
    ("school_status", "在校生状况"),
    ("labour_capacity", "劳动技能"),
    ("medical_insurance", "是否参加城乡居民基本医疗保险"),
]

#: columns of a department record that are keys, not facts: not listed among its fields
RECORD_KEYS = frozenset({"record_id", "person_id", "household_id", "village_code", "id_number_raw"})


@router.get("/households")
def households(
    request: Request,
    principal: PageUser,
    ctx: Ctx,
    ip: Ip,
    paging: Page,
    q: str | None = None,
    region: str | None = None,
) -> Response:
    found = search(principal, ctx, ip, paging, q or None, region or None)
    return render(
        request,
        "households.html",
        title="农户查询",
        q=q or "",
        region=region or "",
        found=found,
        columns=COLUMNS,
    )


@router.get("/households.xlsx")
def households_xlsx(
    principal: PageUser, ctx: Ctx, ip: Ip, q: str | None = None, region: str | None = None
) -> Response:
    items = all_pages(lambda paging: search(principal, ctx, ip, paging, q or None, region or None))
    return xlsx_response(ctx, principal, ip, "农户查询", COLUMNS, items, "household", {"q": q})


def _run_rows(
    cur: Any, root: Path, run_id: str | None, table: str, household_id: str
) -> list[dict[str, Any]]:
    """Rows of one run table about one household (empty when the run, the table or the column is missing)."""
    if run_id is None:
        return []
    path = DataFolder(root).run_dir(run_id) / f"{table}.parquet"
    if not path.exists():
        return []
    try:
        return data.rows(
            cur,
            f"SELECT * FROM read_parquet({data.sql_str(str(path))}) WHERE household_id = ?",
            [household_id],
        )
    except duckdb.BinderException:  # a table without household_id
        return []


def _with_records(flags: list[dict[str, Any]], store: Any) -> list[dict[str, Any]]:
    """Each flag with the department records it counted, in words (zh and en): each record's own date,
    the month that brought it and the file (docs/DOMAIN.md "Time")."""
    wanted = [json.loads(f["evidence"]) if f.get("evidence") else {} for f in flags]
    if not any(e.get("received") for e in wanted):
        return flags
    with store.session() as session:
        files = dict(session.execute(select(ImportRecord.id, ImportRecord.file_name)).all())
    return [
        {**f, "records_zh": received_lines(e, files, "zh"), "records_en": received_lines(e, files, "en")}
        for f, e in zip(flags, wanted, strict=True)
    ]


def _linked_records(
    cur: Any, root: Path, store: Any, period: str | None, links: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The department records linked to the household's members (accepted links), one row per record,
    read from the files the run's snapshot of ``period`` chose."""
    out: list[dict[str, Any]] = []
    by_feed: dict[str, list[str]] = {}
    for link in links:
        if link.get("feed") and link.get("record_id") and link.get("band", "accepted") == "accepted":
            by_feed.setdefault(link["feed"], []).append(str(link["record_id"]))
    if not by_feed or period is None:
        return out
    snapshot = take_snapshot(DataFolder(root), store, period)
    for feed, ids in sorted(by_feed.items()):
        files = snapshot.files(feed)
        if not files:
            continue
        listed = ", ".join(data.sql_str(str(f)) for f in files)
        marks = ", ".join("?" for _ in ids)
        for r in data.rows(
            cur,
            f"SELECT * FROM read_parquet([{listed}], union_by_name=true, hive_partitioning=false) WHERE record_id IN ({marks})",
            ids,
        ):
            shown = {k: v for k, v in r.items() if v is not None and not k.startswith("_")}
            out.append({"feed": feed, "record_id": r["record_id"], "fields": mask_record(shown)})
    return out


@router.get("/households/{household_id}")
def household(
    request: Request, household_id: str, principal: PageUser, ctx: Ctx, ip: Ip, unmask: bool = False
) -> Response:
    h = get_household(household_id, principal, ctx, ip, unmask)
    root = web_state(request).data
    cur = web_state(request).index.cursor()
    period, run_id = run_for(ctx.store, None)
    flags = _with_records(_run_rows(cur, root, run_id, "flags", household_id), ctx.store)
    links = _run_rows(cur, root, run_id, "links", household_id)
    cases, _ = ctx.cases.list_cases(principal, ip, household_id=household_id, limit=100)
    return render(
        request,
        "household.html",
        title=f"农户 {household_id}",
        h=h,
        member_columns=MEMBER_COLUMNS,
        flags=[f for f in flags if f.get("kind") != "tag"],
        tags=[f for f in flags if f.get("kind") == "tag"],
        conflicts=_run_rows(cur, root, run_id, "conflicts", household_id),
        records=_linked_records(cur, root, ctx.store, period, links),
        cases=cases,
        period=period,
        hidden_fields=RECORD_KEYS,
        unmasked=unmask,
        may_unmask=scope.may_unmask(principal, h.get("village_code")),
        may_open=ROLES[principal.role].writes
        and principal.role in OPENING_ROLES
        and not any(c["state"] not in workflow.FINAL_STATES for c in cases),
    )
