"""The generation run: lay out the province, then county by county draw the registry, the months of
feeds, noise and truth, and stream everything to the writers so memory stays bounded."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from jingzhun.catalog import DATASETS
from jingzhun.errors import JingzhunError
from jingzhun.store import atomic_dir
from jingzhun.synth import feeds_health, feeds_place, feeds_school, feeds_social
from jingzhun.synth.config import GB18030_DATASETS, EventRates, NoiseRates, SynthConfig
from jingzhun.synth.conflicts import plant_registry_conflicts
from jingzhun.synth.delivery import Deliveries
from jingzhun.synth.feedbase import FEED_NAMES, Ctx, FeedChunk, finalize
from jingzhun.synth.feednoise import add_noise
from jingzhun.synth.history import History
from jingzhun.synth.income import household_income
from jingzhun.synth.manifest import FileEntry, Manifest
from jingzhun.synth.population import build_county
from jingzhun.synth.regions import RegionPlan, plan_regions
from jingzhun.synth.registry import household_table, income_table, member_table
from jingzhun.synth.timeline import draw_timeline
from jingzhun.synth.truth import events_table, registry_events_table, truth_table
from jingzhun.synth.writers import (
    EVENTS_SCHEMA,
    HOUSEHOLDS_SCHEMA,
    STATES_SCHEMA,
    TRUTH_SCHEMA,
    DatasetWriter,
    TruthWriter,
    sha256_of,
)

Progress = Callable[[int, int, str], None]
REGISTRY = ("household", "member", "income")
FEEDS = FEED_NAMES
_BUILDERS: dict[str, Callable[[Ctx, int, str], FeedChunk]] = {
    "medical_claim": lambda c, m, p: feeds_health.medical_claims(c, m),
    "assistance": lambda c, m, p: feeds_social.assistance(c, m),
    "disability_cert": lambda c, m, p: feeds_health.disability_certs(c, m),
    "enrolment": lambda c, m, p: feeds_school.enrolment(c, m),
    "employment": lambda c, m, p: feeds_social.employment(c, m, p),
    "housing_safety": lambda c, m, p: feeds_place.housing_safety(c, m),
    "water_safety": lambda c, m, p: feeds_place.water_safety(c, m),
    "civil_registry": lambda c, m, p: feeds_social.civil_registry(c, m),
    "disaster_loss": lambda c, m, p: feeds_place.disaster_loss(c, m),
}


def generate(
    out: str | Path,
    persons: int = 20000,
    seed: int = 1,
    start: str = "2025-01",
    months: int = 6,
    fmt: str = "csv",
    progress: Progress | None = None,
    noise: NoiseRates | None = None,
    events: EventRates | None = None,
    workers: int = 1,
) -> Manifest:
    """Generate a synthetic province into ``out`` (replaced atomically) and return its manifest.

    Same arguments give byte-identical files (whatever ``workers``, the number of processes drawing
    counties in parallel). ``progress(done, total, stage)`` is called as counties finish.
    """
    cfg = SynthConfig(
        persons=persons,
        seed=seed,
        start=start,
        months=months,
        fmt=fmt,
        noise=noise or NoiseRates(),
        events=events or EventRates(),
    )
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "manifest.json").exists())):
        raise JingzhunError(
            f"{out} exists and is not an earlier synth output folder; choose an empty or new folder"
        )
    with atomic_dir(out) as tmp:
        manifest = _run(tmp, cfg, progress, workers)
        manifest.write(tmp)
    return manifest


@dataclass
class CountyOutput:
    """Everything one county contributes, in write order."""

    county: int
    tables: list[tuple[tuple[str, str], pa.Table]]
    truth: list[pa.Table]
    events: list[pa.Table]
    states: list[pa.Table]
    households_truth: list[pa.Table]
    households: int
    registered: int
    others: int


Sink = Callable[[str, "tuple[str, str] | None", pa.Table], None]


def county_output(cfg: SynthConfig, plan: RegionPlan, county: int, sink: Sink | None = None) -> CountyOutput:
    """Draw one county (registry, every month of every feed, noise, truth); a pure function of its inputs.

    With ``sink(kind, key, table)`` (kind: data, truth, events, states or households) every table goes
    out as soon as it is made, so only one feed-month is held; without it the tables are collected in
    the result. Records delivered late wait in :class:`Deliveries` for the month whose file holds them.
    """
    periods = cfg.periods
    rng = np.random.Generator(np.random.PCG64([cfg.seed, 1, county]))
    pop = build_county(rng, plan, county, cfg)
    income = household_income(rng, pop)
    tl = draw_timeline(rng, pop, cfg)
    registry_events = plant_registry_conflicts(rng, pop, tl, cfg)
    out = CountyOutput(
        county, [], [], [], [], [], pop.n_households, pop.n_registered, pop.n_people - pop.n_registered
    )
    collected = {
        "truth": out.truth,
        "events": out.events,
        "states": out.states,
        "households": out.households_truth,
    }

    def emit(kind: str, key: tuple[str, str] | None, table: pa.Table) -> None:
        if sink is not None:
            sink(kind, key, table)
        elif kind == "data":
            assert key is not None
            out.tables.append((key, table))
        else:
            collected[kind].append(table)

    emit("data", ("household", periods[0]), household_table(pop, plan))
    emit("data", ("member", periods[0]), member_table(pop))
    emit("data", ("income", periods[0]), income_table(pop, income, cfg.income_year))
    emit("events", None, registry_events_table(registry_events, pop, plan, periods[0]))
    deliveries = Deliveries(cfg.seed, county, cfg.months)
    ctx = Ctx(pop, plan, tl, cfg, rng, county, deliveries)
    history = History(pop, plan, cfg)
    for m, period in enumerate(periods):
        for name in FEEDS:
            chunk = deliveries.route(_BUILDERS[name](ctx, m, period), m)
            table = finalize(chunk, period, pop.county_code6)
            table, noise = add_noise(ctx, table, chunk, cfg, ctx.month_start(m))
            emit("data", (name, period), table)
            emit("truth", None, truth_table(chunk, table, noise, pop, plan, period))
            emit("events", None, events_table(chunk, table, pop, plan, period))
            history.add(chunk, table, m, period)
    emit("events", None, history.events())
    emit("states", None, history.states())
    emit("households", None, history.households())
    return out


def _county_results(cfg: SynthConfig, plan: RegionPlan, workers: int, sink: Sink) -> Iterator[CountyOutput]:
    """County outputs in county order; with several workers, counties are drawn in parallel processes
    while at most ``workers`` finished or running counties are held, so memory stays bounded."""
    n = plan.n_counties
    if workers <= 1 or n == 1:
        for county in range(n):
            yield county_output(cfg, plan, county, sink)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
        pending: deque[Future[CountyOutput]] = deque()
        following = 0
        while following < n and len(pending) < workers:
            pending.append(pool.submit(county_output, cfg, plan, following))
            following += 1
        while pending:
            result = pending.popleft().result()
            if following < n:
                pending.append(pool.submit(county_output, cfg, plan, following))
                following += 1
            yield result


def _run(folder: Path, cfg: SynthConfig, progress: Progress | None, workers: int = 1) -> Manifest:
    plan = plan_regions(np.random.Generator(np.random.PCG64([cfg.seed, 0])), cfg.persons)
    periods = cfg.periods
    regions_path = folder / "regions.csv"
    with regions_path.open("wb") as fh:
        fh.write(b"code,name,level,parent_code\n")
        pacsv.write_csv(plan.table(), fh, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    created = dt.datetime(int(cfg.start[:4]), int(cfg.start[5:7]), 1)
    ext = cfg.fmt

    def encoding(name: str) -> str | None:
        if cfg.fmt != "csv":
            return None
        return "gb18030" if name in GB18030_DATASETS else "utf-8-sig"

    writers: dict[tuple[str, str], DatasetWriter] = {}
    for name in REGISTRY:
        writers[(name, periods[0])] = DatasetWriter(
            folder / periods[0] / f"{name}.{ext}", name, cfg.fmt, encoding(name) or "utf-8-sig", created
        )
    for period in periods:
        for name in FEEDS:
            writers[(name, period)] = DatasetWriter(
                folder / period / f"{name}.{ext}", name, cfg.fmt, encoding(name) or "utf-8-sig", created
            )
    truth_writers = {
        "truth": TruthWriter(folder / "truth" / "feed_truth.parquet", TRUTH_SCHEMA),
        "events": TruthWriter(folder / "truth" / "events.parquet", EVENTS_SCHEMA),
        "states": TruthWriter(folder / "truth" / "states.parquet", STATES_SCHEMA),
        "households": TruthWriter(folder / "truth" / "households.parquet", HOUSEHOLDS_SCHEMA),
    }
    counts = {
        "counties": plan.n_counties,
        "townships": len(plan.town_code),
        "villages": len(plan.village_code),
        "households": 0,
        "persons": 0,
        "other_people": 0,
    }
    done = 0
    try:

        def sink(kind: str, key: tuple[str, str] | None, table: pa.Table) -> None:
            if kind == "data":
                assert key is not None
                writers[key].write(table)
            else:
                truth_writers[kind].write(table)

        for result in _county_results(cfg, plan, workers, sink):
            for key, table in result.tables:
                writers[key].write(table)
            for kind, tables in (
                ("truth", result.truth),
                ("events", result.events),
                ("states", result.states),
                ("households", result.households_truth),
            ):
                for table in tables:
                    truth_writers[kind].write(table)
            counts["households"] += result.households
            counts["persons"] += result.registered
            counts["other_people"] += result.others
            done += result.registered
            if progress:
                progress(done, cfg.persons, f"county {result.county + 1}/{plan.n_counties}")
    finally:
        rows = {key: w.close() for key, w in writers.items()}
        truth_rows = {kind: w.close() for kind, w in truth_writers.items()}

    files = [
        FileEntry(
            "regions.csv",
            "region",
            None,
            "reference",
            plan.table().num_rows,
            sha256_of(regions_path),
            "utf-8",
        )
    ]
    for (name, period), w in writers.items():
        files.append(
            FileEntry(
                w.path.relative_to(folder).as_posix(),
                name,
                period,
                DATASETS[name].kind,
                rows[(name, period)],
                w.sha256,
                w.encoding if cfg.fmt == "csv" else None,
                w.sheets if cfg.fmt == "xlsx" else None,
            )
        )
    for kind, tw in truth_writers.items():
        name = "feed_truth" if kind == "truth" else kind
        files.append(
            FileEntry(
                tw.path.relative_to(folder).as_posix(), name, None, "truth", truth_rows[kind], tw.sha256
            )
        )
    return Manifest(
        seed=cfg.seed,
        persons=cfg.persons,
        start=cfg.start,
        months=cfg.months,
        format=cfg.fmt,
        periods=periods,
        income_year=cfg.income_year,
        province={"code": plan.province_code, "name": plan.province_name},
        counts=counts,
        noise_rates=asdict(cfg.noise),
        event_rates=asdict(cfg.events),
        files=files,
    )
