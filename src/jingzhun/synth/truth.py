"""Rows of the truth files: which person each feed record belongs to, its noise, and the events."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.catalog import DATASETS
from jingzhun.synth.feedbase import EVENTS, FeedChunk
from jingzhun.synth.population import Population
from jingzhun.synth.regions import RegionPlan


def person_ids(pop: Population, person: np.ndarray) -> pa.Array:
    ok = (person >= 0) & (pop.p["hh"][np.maximum(person, 0)] >= 0) if len(person) else np.zeros(0, bool)
    taken = pop.p["person_id"].take(pa.array(np.maximum(person, 0)))
    return pc.if_else(pa.array(ok), taken, pa.scalar(None, pa.string()))


def household_ids(pop: Population, household: np.ndarray) -> pa.Array:
    taken = pop.h["id"].take(pa.array(np.maximum(household, 0)))
    return pc.if_else(pa.array(household >= 0), taken, pa.scalar(None, pa.string()))


def truth_table(
    chunk: FeedChunk, table: pa.Table, noise: pa.Array, pop: Population, plan: RegionPlan, period: str
) -> pa.Table:
    n = len(chunk)
    return pa.table(
        {
            "dataset": pa.repeat(chunk.dataset, n),
            "period": pa.repeat(period, n),
            "record_id": table.column("record_id").slice(0, n),
            "person_id": person_ids(pop, chunk.person),
            "household_id": household_ids(pop, chunk.household),
            "village_code": plan.village_code.take(pa.array(chunk.village)),
            "noise": noise,
        }
    )


def record_dates(dataset: str, table: pa.Table) -> pa.Array:
    """The event date written in each record (date32): the feed's date field; for 人社 the first day of
    the 所属期 month."""
    ds = DATASETS[dataset]
    assert ds.date_field is not None
    col = table.column(ds.date_field).combine_chunks()
    if ds.field(ds.date_field).type == "date":
        return col
    return pc.strptime(pc.binary_join_element_wise(col, "-01", ""), "%Y-%m-%d", "s").cast(pa.date32())


def events_table(
    chunk: FeedChunk, table: pa.Table, pop: Population, plan: RegionPlan, period: str
) -> pa.Table:
    sel = np.flatnonzero(chunk.event >= 0)
    k = len(sel)
    take = pa.array(sel)
    detail = chunk.detail.take(take) if chunk.detail is not None else pa.nulls(k, pa.string())
    return pa.table(
        {
            "event": pa.array(list(EVENTS), pa.string()).take(pa.array(chunk.event[sel])),
            "period": pa.repeat(period, k),
            "person_id": person_ids(pop, chunk.person[sel]),
            "household_id": household_ids(pop, chunk.household[sel]),
            "village_code": plan.village_code.take(pa.array(chunk.village[sel])),
            "dataset": pa.repeat(chunk.dataset, k),
            "record_id": table.column("record_id").take(take),
            "detail": detail,
            "event_date": record_dates(chunk.dataset, table).take(take),
            "arrival": pa.repeat(period, k),
        }
    )


def registry_events_table(
    rows: list[dict[str, object]], pop: Population, plan: RegionPlan, period: str
) -> pa.Table:
    """Registry conflicts planted in the first month (a handful per county, so a list is fine)."""
    person = np.array([r["person"] for r in rows], dtype=np.int64)
    household = np.array([r["household"] for r in rows], dtype=np.int64)
    k = len(rows)
    return pa.table(
        {
            "event": pa.array([r["event"] for r in rows], pa.string()),
            "period": pa.repeat(period, k),
            "person_id": person_ids(pop, person),
            "household_id": household_ids(pop, household),
            "village_code": plan.village_code.take(pa.array(pop.h["village"][np.maximum(household, 0)])),
            "dataset": pa.array([r["dataset"] for r in rows], pa.string()),
            "record_id": pa.nulls(k, pa.string()),
            "detail": pa.array([r["detail"] for r in rows], pa.string()),
            "event_date": pa.nulls(k, pa.date32()),
            "arrival": pa.repeat(period, k),
        }
    )
