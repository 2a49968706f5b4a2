"""What every feed builder shares: the chunk of records it returns, the person columns, record IDs and the
conversion to the catalogue's export types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.catalog import DATASETS
from jingzhun.synth.strings import concat, pick, yes_no, zpad

if TYPE_CHECKING:
    from jingzhun.synth.config import SynthConfig
    from jingzhun.synth.delivery import Deliveries
    from jingzhun.synth.population import Population
    from jingzhun.synth.regions import RegionPlan
    from jingzhun.synth.timeline import Timeline

EVENTS = (
    "high_medical_cost",
    "dropout",
    "labourer_death",
    "death",
    "disaster",
    "job_loss",
    "severe_disability",
    "house_unsafe",
    "unsafe_water",
    "dibao_entry",
    "dibao_exit",
    "birth",
    "move_out",
    "move_in",
    "chronic_outpatient",
    "serious_illness",
    "tekun_entry",
    "tekun_exit",
    "temp_assistance",
    "conflict_dead_listed",
    "conflict_duplicate_id",
    "conflict_two_insurances",
    "conflict_disability_grade",
    "conflict_labour_risk_type",
    "conflict_school_status",
)
EVENT = {e: i for i, e in enumerate(EVENTS)}

FEED_NAMES = (
    "medical_claim",
    "assistance",
    "disability_cert",
    "enrolment",
    "employment",
    "housing_safety",
    "water_safety",
    "civil_registry",
    "disaster_loss",
)
RECORD_PREFIX = {
    "medical_claim": "JS",
    "assistance": "MZ",
    "disability_cert": "CL",
    "enrolment": "XJ",
    "employment": "RS",
    "housing_safety": "ZJ",
    "water_safety": "SL",
    "civil_registry": "GA",
    "disaster_loss": "YJ",
}


@dataclass
class FeedChunk:
    """Records of one feed for one county and month, in canonical column names.

    ``person`` indexes the county's people (-1: none, e.g. village-level feeds or newborns);
    ``household`` the county's households (-1: none); ``event`` an index of :data:`EVENTS` (-1: none).
    ``late_kind`` says which kind of event a record delivers (an index of :data:`EVENTS`, -1: none), so
    that :mod:`jingzhun.synth.delivery` may deliver it late; ``unit`` is what is delivered together
    (records of one unit and kind share their delay, e.g. every member's 纳入 of one household).
    """

    dataset: str
    cols: dict[str, object]
    person: np.ndarray
    household: np.ndarray
    village: np.ndarray
    event: np.ndarray
    detail: pa.Array | None = None
    extra: dict[str, object] = field(default_factory=dict)
    late_kind: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    unit: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    keep: np.ndarray | None = None  # rows that go into this month's file (None: all), applied by finalize

    def __post_init__(self) -> None:
        n = len(self.person)
        if len(self.late_kind) != n:
            self.late_kind = np.full(n, -1, np.int64)
        if len(self.unit) != n:
            self.unit = self.person.astype(np.int64, copy=True)

    def __len__(self) -> int:
        return len(self.person)


def chunk(
    dataset: str,
    cols: dict[str, object],
    person: np.ndarray,
    household: np.ndarray,
    village: np.ndarray,
    event: np.ndarray | None = None,
    detail: pa.Array | None = None,
) -> FeedChunk:
    n = len(person)
    return FeedChunk(
        dataset,
        cols,
        np.asarray(person, np.int64),
        np.asarray(household, np.int64),
        np.asarray(village, np.int64),
        np.full(n, -1) if event is None else np.asarray(event),
        detail,
    )


def person_cols(
    pop: Population,
    plan: RegionPlan,
    idx: np.ndarray,
    rng: np.random.Generator | None = None,
    region_share: float = 1.0,
    phone_share: float = 0.0,
) -> dict[str, object]:
    """The person fields of a feed (ID number, name, sex, birth date, address code, phone) for ``idx``."""
    p = pop.p
    take = pa.array(idx, pa.int64())
    region = plan.village_code.take(pa.array(p["village"][idx]))
    phone = p["phone"].take(take)
    if rng is not None and region_share < 1.0:
        region = pc.if_else(
            pa.array(rng.random(len(idx)) < region_share), region, pa.scalar(None, pa.string())
        )
    if rng is not None and phone_share < 1.0:
        phone = pc.if_else(pa.array(rng.random(len(idx)) < phone_share), phone, pa.scalar(None, pa.string()))
    return {
        "id_number": p["id"].take(take),
        "name": p["name"].take(take),
        "sex": pick(("男", "女"), p["sex"][idx]),
        "birth_date": p["birth"][idx],
        "region_code": region,
        "phone": phone,
    }


def days_in(rng: np.random.Generator, month_start: np.datetime64, n: int) -> np.ndarray:
    """Random days within the month starting at ``month_start``."""
    nxt = (month_start.astype("datetime64[M]") + 1).astype("datetime64[D]")
    return month_start + rng.integers(0, int((nxt - month_start).astype(np.int64)), n)


def _convert(ftype: str, values: object, n: int) -> pa.Array:
    if values is None:
        return pa.nulls(
            n,
            pa.string()
            if ftype not in ("int", "decimal", "date")
            else {"int": pa.int64(), "decimal": pa.decimal128(18, 2), "date": pa.date32()}[ftype],
        )
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        if ftype == "decimal" and not pa.types.is_decimal(values.type):
            return pc.round(values.cast(pa.float64()), 2).cast(pa.decimal128(18, 2))
        return values
    arr = np.asarray(values)
    if ftype == "bool":
        return yes_no(arr)
    if ftype == "int":
        return pa.array(arr.astype(np.int64))
    if ftype == "decimal":
        return pc.round(pa.array(arr.astype(np.float64)), 2).cast(pa.decimal128(18, 2))
    if ftype == "date":
        return pa.array(arr.astype("datetime64[D]"), pa.date32())
    return pa.array(arr).cast(pa.string())


def finalize(c: FeedChunk, period: str, county6: int) -> pa.Table:
    """Sort by the feed's date, give record IDs (prefix + month + county + serial) and convert to the
    catalogue's export types in catalogue order."""
    ds = DATASETS[c.dataset]
    rows = c.keep
    c.keep = None
    if ds.date_field and isinstance(c.cols.get(ds.date_field), np.ndarray):
        dates = np.asarray(c.cols[ds.date_field]).astype("datetime64[D]").astype(np.int64)
        if rows is None:
            _reorder(c, np.argsort(dates, kind="stable"))
        else:
            _reorder(c, rows[np.argsort(dates[rows], kind="stable")])
    elif rows is not None:
        _reorder(c, rows)
    n = len(c)
    rid = concat(
        f"{RECORD_PREFIX[c.dataset]}{period.replace('-', '')}{county6}", zpad(np.arange(1, n + 1), 7)
    )
    c.cols["record_id"] = rid
    arrays = [_convert(f.type, c.cols.get(f.name), n) for f in ds.fields]
    return pa.table(arrays, names=[f.name for f in ds.fields])


def _reorder(c: FeedChunk, order: np.ndarray) -> None:
    take = pa.array(order)
    for k, v in list(c.cols.items()):
        if isinstance(v, np.ndarray):
            c.cols[k] = v[order]
        elif isinstance(v, pa.Array | pa.ChunkedArray):
            c.cols[k] = v.take(take)
    c.person, c.household, c.village, c.event = (
        c.person[order],
        c.household[order],
        c.village[order],
        c.event[order],
    )
    c.late_kind, c.unit = c.late_kind[order], c.unit[order]
    if c.detail is not None:
        c.detail = c.detail.take(take)


def concat_chunks(parts: list[FeedChunk]) -> FeedChunk:
    """Join chunks of the same feed (columns must match)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        raise ValueError("no parts")
    keys = list(parts[0].cols)
    cols: dict[str, object] = {}
    for k in keys:
        vals = [p.cols.get(k) for p in parts]
        if all(isinstance(v, np.ndarray) for v in vals):
            cols[k] = np.concatenate(vals)  # type: ignore[arg-type]
        else:
            arrs = []
            for v, p in zip(vals, parts, strict=True):
                if v is None:
                    arrs.append(pa.nulls(len(p), pa.string()))
                elif isinstance(v, np.ndarray):
                    arrs.append(pa.array(v))
                else:
                    arrs.append(v.combine_chunks() if isinstance(v, pa.ChunkedArray) else v)
            cols[k] = pa.concat_arrays(arrs)
    details = [p.detail if p.detail is not None else pa.nulls(len(p), pa.string()) for p in parts]
    return FeedChunk(
        parts[0].dataset,
        cols,
        np.concatenate([p.person for p in parts]),
        np.concatenate([p.household for p in parts]),
        np.concatenate([p.village for p in parts]),
        np.concatenate([p.event for p in parts]),
        pa.concat_arrays(details),
        late_kind=np.concatenate([p.late_kind for p in parts]),
        unit=np.concatenate([p.unit for p in parts]),
    )


def take_rows(c: FeedChunk, rows: np.ndarray) -> FeedChunk:
    """The records ``rows`` of a chunk (same columns)."""
    take = pa.array(rows, pa.int64())
    cols: dict[str, object] = {}
    for k, v in c.cols.items():
        if isinstance(v, np.ndarray):
            cols[k] = v[rows]
        elif isinstance(v, pa.Array | pa.ChunkedArray):
            cols[k] = v.take(take)
        else:
            cols[k] = v
    return FeedChunk(
        c.dataset,
        cols,
        c.person[rows],
        c.household[rows],
        c.village[rows],
        c.event[rows],
        c.detail.take(take) if c.detail is not None else None,
        late_kind=c.late_kind[rows],
        unit=c.unit[rows],
    )


def event_codes(n: int, mask_name: list[tuple[np.ndarray, str]]) -> np.ndarray:
    """Event index per record from (mask, event name) pairs; later pairs win."""
    out = np.full(n, -1)
    for mask, name in mask_name:
        out[mask] = EVENT[name]
    return out


@dataclass
class Ctx:
    """Everything a feed builder needs for one county."""

    pop: Population
    plan: RegionPlan
    tl: Timeline
    cfg: SynthConfig
    rng: np.random.Generator
    county: int
    deliveries: Deliveries | None = None
    cache: dict[str, object] = field(default_factory=dict)  # state a builder carries from month to month

    def stable(self, key: int) -> np.random.Generator:
        """A generator that gives the same draws for this county whatever the month (per-person constants)."""
        return np.random.Generator(np.random.PCG64([self.cfg.seed, self.county, 7919, key]))

    def month_start(self, m: int) -> np.datetime64:
        return (np.datetime64(self.cfg.start, "M") + m).astype("datetime64[D]")

    def death_dates(self, idx: np.ndarray, m: int) -> np.ndarray:
        """The day people ``idx`` who die in month ``m`` die (公安 and the 残联 cancellation agree)."""
        start = self.month_start(m)
        days = int(((start.astype("datetime64[M]") + 1).astype("datetime64[D]") - start).astype(np.int64))
        return start + (self.tl.p["death_u"][idx] * days).astype(np.int64)

    def late_months(self, kind: str, units: np.ndarray, month: np.ndarray) -> np.ndarray:
        """Delay of events of ``kind`` that happened in ``month`` (per unit): they arrive that much later."""
        out = np.zeros(len(units), np.int64)
        if self.deliveries is None:
            return out
        for mm in np.unique(month).tolist():
            sel = month == mm
            out[sel] = self.deliveries.delay(EVENT[kind], units[sel], mm)
        return out

    def people_chunk(
        self,
        dataset: str,
        idx: np.ndarray,
        cols: dict[str, object],
        event: np.ndarray | None = None,
        detail: pa.Array | None = None,
    ) -> FeedChunk:
        p = self.pop.p
        return chunk(dataset, cols, idx, p["hh"][idx], p["village"][idx], event, detail)
