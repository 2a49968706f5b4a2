"""The monthly run: snapshot → load → link → evaluate → conflicts → diff → write, with a ledger.

A run is a pure function of its inputs (the snapshot's imports) and the policy set: the same inputs and
policies give the same result hash. Results are written into ``runs/<run_id>/`` with one atomic folder
swap and the ledger row is marked ``done`` only after that, so a run that fails or is killed leaves the
previous results intact; it can simply be started again. Re-running a period whose inputs and policies
have not changed returns the existing run (``unchanged``) unless ``force``.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlglot
from sqlalchemy import select

from jingzhun import periods
from jingzhun.catalog import DATASETS
from jingzhun.engines.duckdb import DuckDBEngine
from jingzhun.engines.factory import check_pipeline_engine, make_engine
from jingzhun.errors import JingzhunError, NotFound
from jingzhun.ops.db import OpsStore, open_store
from jingzhun.ops.models import RunRecord, utcnow
from jingzhun.pipeline.diff import alerts_sql
from jingzhun.pipeline.handoff import HANDOFF_TABLE, HandoffOutcome, hand_off_pending, handoff_sql
from jingzhun.pipeline.loading import register_dataset, register_regions
from jingzhun.pipeline.resources import engine_resources
from jingzhun.pipeline.results import (
    RESULT_TABLES,
    SORT_KEYS,
    Source,
    read_result,
    sort_table,
    write_results,
)
from jingzhun.pipeline.snapshot import Snapshot, relocate, take_snapshot
from jingzhun.settings import Settings
from jingzhun.store import DataFolder

STAGES = ("snapshot", "load", "link", "evaluate", "conflicts", "diff", "write")

Progress = Callable[[str, float, str], None]

DEFAULT_POLICY_DIR = Path("policies")
DEFAULT_LINK_CONFIG_DIR = Path("config/linkage")


def _repo_path(relative: Path) -> Path:
    """``relative`` from the working directory, else from the source checkout the package runs from."""
    if relative.exists():
        return relative
    candidate = Path(__file__).resolve().parents[3] / relative
    return candidate if candidate.exists() else relative


def policy_set_hash(policy_dir: Path) -> str:
    """Hash of every policy and parameter file (names and contents): the policy-set version."""
    digest = hashlib.sha256()
    root = Path(policy_dir)
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*.yaml") if p.is_file())
    for path in files:
        digest.update(str(path.relative_to(root if root.is_dir() else root.parent)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class RunOutcome:
    run_id: str
    period: str
    status: str  # done | unchanged
    result_hash: str
    summary: dict[str, Any] = field(default_factory=dict)
    stages: dict[str, Any] = field(default_factory=dict)
    #: handoffs of alerts to the case workflow finished by this call (this run's, and any left pending)
    handoffs: list[HandoffOutcome] = field(default_factory=list)

    @property
    def handoff(self) -> HandoffOutcome | None:
        """This run's handoff, when this call did it."""
        return next((h for h in self.handoffs if h.run_id == self.run_id), None)


class _Ledger:
    """Stage and progress of a run in the operational store, where the web app reads them."""

    def __init__(self, store: OpsStore, run_id: str):
        self.store, self.run_id = store, run_id

    def update(self, **values: Any) -> None:
        with self.store.session() as session:
            record = session.get(RunRecord, self.run_id)
            assert record is not None
            for key, value in values.items():
                setattr(record, key, value)
            record.version += 1


def mark_interrupted(store: OpsStore, period: str) -> int:
    """Runs of ``period`` still marked ``running`` belong to a process that was killed (one run of a
    period at a time is the contract of the CLI and the web worker): mark them ``failed``."""
    with store.session() as session:
        stale = session.scalars(
            select(RunRecord).where(RunRecord.period == period, RunRecord.status == "running")).all()
        for record in stale:
            record.status = "failed"
            record.error = "interrupted: the process running it stopped before it finished"
            record.finished_at = utcnow()
            record.version += 1
        return len(stale)


def current_run(store: OpsStore, period: str) -> RunRecord | None:
    """The latest finished run of ``period``."""
    with store.session() as session:
        return session.scalars(
            select(RunRecord).where(RunRecord.period == period, RunRecord.status == "done")
            .order_by(RunRecord.finished_at.desc(), RunRecord.id.desc()).limit(1)
        ).first()


def get_run(store: OpsStore, run_id: str) -> RunRecord:
    with store.session() as session:
        record = session.get(RunRecord, run_id)
    if record is None:
        raise NotFound(f"no run {run_id!r}; see `jingzhun runs list`")
    return record


def list_runs(store: OpsStore, limit: int = 50) -> list[RunRecord]:
    with store.session() as session:
        return list(session.scalars(select(RunRecord).order_by(RunRecord.started_at.desc()).limit(limit)))


def _counts(engine: Any, relation: str, column: str) -> dict[str, int]:
    """Rows per value of ``column`` of a relation in the engine."""
    tree = sqlglot.parse_one(f"SELECT {column} AS v, count(*) AS n FROM {relation} GROUP BY {column}")
    return {r["v"]: int(r["n"]) for r in engine.fetch_arrow(tree).to_pylist()}


def _sorted_stream(engine: Any, table: str, relation: str) -> pa.RecordBatchReader:
    """The rows of ``relation`` in the order of result table ``table`` (:data:`SORT_KEYS`, NULLs last as
    :func:`~jingzhun.pipeline.results.sort_table` puts them, on every engine), streamed."""
    keys = ", ".join(f"{key} NULLS LAST" for key in SORT_KEYS[table])
    return engine.fetch_batches(sqlglot.parse_one(f"SELECT * FROM {relation} ORDER BY {keys}", read="duckdb"))


def _members_for_linkage(engine: Any) -> None:
    engine.materialize("jz_link_members", sqlglot.parse_one("""
        SELECT m.person_id, m.household_id, m.name, m.id_number, m.sex, m.birth_date, m.phone, h.village_code
        FROM member m JOIN household h ON h.household_id = m.household_id
    """))


def registry_version(snapshot: Snapshot) -> str:
    """The registry's version for reusing links: the imports (content hashes) of member and household."""
    hashes = snapshot.input_hashes()
    blob = json.dumps({name: hashes.get(name, []) for name in ("member", "household")}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _link_config(feed: str, config_dir: Path) -> Any:
    from jingzhun.link import default_config, load_config

    path = config_dir / f"{feed}.yaml"
    return load_config(path) if path.exists() else default_config(feed)


def load_relations(engine: Any, snapshot: Snapshot) -> dict[str, int]:
    """Register the registry, the region list and the feeds (person-level feeds under a raw name,
    ``__jz_feed_<name>``, until :func:`attach_links` adds their person and household)."""
    rows: dict[str, int] = {}
    for name, dataset in DATASETS.items():
        if dataset.kind == "registry":
            rows[name] = register_dataset(engine, snapshot, name)
        elif dataset.kind == "feed":
            relation = f"__jz_feed_{name}" if dataset.person_level else name
            rows[name] = register_dataset(engine, snapshot, name, relation)
    rows["region"] = register_regions(engine, snapshot)
    return rows


def attach_links(engine: Any, feed: str, links: pa.Table | str) -> None:
    """Make feed ``feed`` queryable under its own name with ``person_id`` and ``household_id`` from the
    accepted links (records in review, rejected or unlinked get NULL). ``links``: an Arrow table, or the
    name of a relation on the engine holding them (left in place)."""
    raw = f"__jz_feed_{feed}"
    if not engine.has_table(raw):
        return
    if not isinstance(links, str):
        engine.register_table(f"__jz_links_{feed}", links)
        try:
            attach_links(engine, feed, f"__jz_links_{feed}")
        finally:
            engine.drop(f"__jz_links_{feed}")
        return
    engine.materialize(feed, sqlglot.parse_one(f"""
        SELECT f.*, l.person_id, l.household_id
        FROM {raw} f
        LEFT JOIN {links} l ON l.record_id = f.record_id AND l.band = 'accepted'
    """))
    engine.drop(raw)


def _links_stream(engine: Any, feeds: list[str], schema: pa.Schema) -> pa.RecordBatchReader:
    """The links of every feed (tables ``jz_links_<feed>``, as the monthly run keeps them) with the feed's
    name as last column, in the order of the ``links`` result (feed, then record): one sorted feed after
    the other, so the engine never sorts every link at once."""
    cols = ", ".join(name for name in schema.names if name != "feed")

    def batches() -> Iterator[pa.RecordBatch]:
        for feed in sorted(feeds):
            reader = _sorted_stream(engine, "links", f"(SELECT {cols}, '{feed}' AS feed FROM jz_links_{feed})")
            try:
                for batch in reader:
                    yield batch if batch.schema == schema else batch.cast(schema)
            finally:
                reader.close()

    return pa.RecordBatchReader.from_batches(schema, batches())


def context_for_run(data_root: str | Path, run_id: str, store: OpsStore | None = None, *,
                    engine_name: str = "duckdb", **engine_options: Any) -> tuple[Any, RunRecord]:
    """An engine holding exactly the relations run ``run_id`` evaluated (its snapshot and stored links),
    for explaining a household or a what-if on the same data.

    Whatever engine made the run, the context is on ``engine_name``: DuckDB by default, which answers one
    household in well under a second, where a Spark job costs seconds per query; the engines give
    identical results (``tests/engines``), so an explanation on DuckDB is the run's explanation."""
    data = DataFolder(data_root)
    store = store or open_store(data.ops_url)
    run = get_run(store, run_id)
    snapshot = take_snapshot(data, store, run.period)
    engine = DuckDBEngine() if engine_name == "duckdb" and not engine_options else make_engine(
        engine_name, **engine_options)
    load_relations(engine, snapshot)
    links_path = data.run_dir(run_id) / "links.parquet"
    if links_path.exists():
        engine.register_table("jz_run_links", links_path)  # read where used, one feed at a time
    else:
        engine.register_table("jz_run_links", pa.table({name: pa.array([], pa.string()) for name in (
            "record_id", "person_id", "household_id", "band", "feed")}))
    for dataset in DATASETS.values():
        if dataset.kind == "feed" and dataset.person_level:
            engine.create_view(f"__jz_links_{dataset.name}", sqlglot.parse_one(
                "SELECT record_id, person_id, household_id, band FROM jz_run_links "
                f"WHERE feed = '{dataset.name}'"))
            attach_links(engine, dataset.name, f"__jz_links_{dataset.name}")
            engine.drop(f"__jz_links_{dataset.name}")
    engine.drop("jz_run_links")
    return engine, run


def run_period(
    data_root: str | Path,
    period: str,
    *,
    policy_dir: str | Path | None = None,
    link_config_dir: str | Path | None = None,
    engine_name: str = "duckdb",
    user: str = "cli",
    force: bool = False,
    progress: Progress | None = None,
    store: OpsStore | None = None,
    handoff: bool = True,
    settings: Settings | None = None,
    threads: int | None = None,
    memory_limit: str | None = None,
    temp_directory: str | Path | None = None,
    engine_options: dict[str, Any] | None = None,
    data_uri: str | None = None,
) -> RunOutcome:
    """Run period ``period`` over the data folder; see the module docstring for the guarantees.

    With ``handoff`` (the default) the run's new alerts become cases (部门筛查预警) once its results are
    written, and handoffs left pending or failed by earlier calls are finished
    (:mod:`jingzhun.pipeline.handoff`); without it the run is marked ``skipped`` for
    ``jingzhun runs handoff``. ``threads``, ``memory_limit`` and ``temp_directory`` (else the settings
    ``JINGZHUN_THREADS``, ``JINGZHUN_MEMORY_LIMIT``, ``JINGZHUN_TEMP_DIRECTORY``) bound the engine;
    ``engine_options`` go to the engine's constructor as they are (Spark: ``master``, ``conf``,
    ``session``). ``data_uri``: the engine reads the snapshot's Parquet files from this copy of the data
    folder (``hdfs://…``, ``s3a://…``, ``file://…``; :func:`jingzhun.pipeline.snapshot.relocate`) instead
    of the local folder; the ledger, link cache and results stay in the local folder."""
    from jingzhun import link as linkage
    from jingzhun import policy
    from jingzhun.link.api import LINK_SCHEMA
    from jingzhun.link.conflicts import CONFLICT_SCHEMA, find_conflicts
    from jingzhun.policy.flags import FLAG_SCHEMA

    links_schema = LINK_SCHEMA.append(pa.field("feed", pa.string()))

    periods.check(period)
    check_pipeline_engine(engine_name)
    say = progress or (lambda stage, fraction, message: None)
    data = DataFolder(data_root).ensure()
    data.sweep()
    store = store or open_store(data.ops_url)
    settings = settings or Settings(data=data.root)
    policy_path = _repo_path(Path(policy_dir) if policy_dir else DEFAULT_POLICY_DIR)
    config_dir = _repo_path(Path(link_config_dir) if link_config_dir else DEFAULT_LINK_CONFIG_DIR)
    policy_set = policy.load(policy_path)
    policy_hash = policy_set_hash(policy_path)

    say("snapshot", 0.0, "")
    mark_interrupted(store, period)
    snapshot = take_snapshot(data, store, period)
    if not snapshot.has_registry:
        raise JingzhunError(
            f"no registry (household and member) imported for {period} or earlier in {data.root}; "
            "import the registry extract first (jingzhun import)"
        )
    inputs = {**snapshot.input_hashes(), "_fingerprint": [snapshot.fingerprint()]}
    existing = current_run(store, period)
    if (existing is not None and not force and existing.engine == engine_name
            and existing.policy_set_hash == policy_hash and existing.input_hashes == inputs):
        say("write", 1.0, "unchanged")
        return RunOutcome(existing.id, period, "unchanged", existing.result_hash or "",
                          existing.summary or {}, existing.stages,
                          hand_off_pending(data.root, store, settings=settings) if handoff else [])

    run_id = f"{period}-{uuid.uuid4().hex[:8]}"
    with store.session() as session:
        session.add(RunRecord(id=run_id, period=period, engine=engine_name, policy_set_hash=policy_hash,
                              input_hashes=inputs, status="running", stage="snapshot", progress=0.0,
                              stages={}, started_by=user))
    ledger = _Ledger(store, run_id)
    stages: dict[str, dict[str, Any]] = {}
    clock = time.perf_counter()

    def stage_done(name: str, **counts: Any) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = {"seconds": round(now - clock, 3), **counts}
        clock = now
        index = STAGES.index(name)
        following = STAGES[index + 1] if index + 1 < len(STAGES) else name
        ledger.update(stage=following, progress=(index + 1) / len(STAGES), stages=dict(stages))
        say(name, (index + 1) / len(STAGES), "")

    options = engine_resources(engine_name, settings, threads=threads, memory_limit=memory_limit,
                               temp_directory=temp_directory)
    engine = make_engine(engine_name, **{**options, **(engine_options or {})})
    try:
        stage_done("snapshot", datasets=len(snapshot.inputs),
                   imports=sum(len(v) for v in snapshot.inputs.values()))

        rows = load_relations(engine, relocate(snapshot, data.root, data_uri) if data_uri else snapshot)
        stage_done("load", rows=rows)

        # link every person-level feed to registered members; the links stay in the engine (one table per
        # feed) and are streamed, sorted, into their file at the end
        review_tables: list[pa.Table] = []
        link_summary: dict[str, Any] = {}
        _members_for_linkage(engine)
        person_feeds = [d for d in DATASETS.values() if d.kind == "feed" and d.person_level and rows.get(d.name)]
        # largest first: feeds configured alike share one linkage model, trained by the first that needs one
        person_feeds.sort(key=lambda d: -rows[d.name])
        # links of records seen before (same import, same registry, configuration and model) are reused
        link_cache = linkage.LinkCache(data.root / "linkage")
        linked_records = 0
        with linkage.LinkSession(engine, "jz_link_members", cache=link_cache,
                                 registry_version=registry_version(snapshot)) as link_session:
            for i, dataset in enumerate(person_feeds):
                say("link", i / max(1, len(person_feeds)), dataset.name)
                result = link_session.link(f"__jz_feed_{dataset.name}", _link_config(dataset.name, config_dir),
                                           store, version="_import_id", ordered=False,
                                           into=f"jz_links_{dataset.name}")
                review_tables.append(result.review)  # already carries its feed
                link_summary[dataset.name] = {k: v for k, v in result.summary.items() if k not in ("model",)}
                linked_records += int(result.summary["records"])
                attach_links(engine, dataset.name, f"jz_links_{dataset.name}")
        review_all = (pa.concat_tables(review_tables, promote_options="default") if review_tables
                      else pa.table({}))
        stage_done("link", records=linked_records, review=review_all.num_rows)

        # flags and alerts stay in the engine: counted there and streamed, sorted, into their files
        policy.evaluate(engine, policy_set, period, into="jz_flags")
        fired = _counts(engine, "jz_flags", "rule_id")
        stage_done("evaluate", flags=sum(fired.values()), rules=len(policy_set.rules))

        present = {d: d if engine.has_table(d) and rows.get(d) else None
                   for d in ("civil_registry", "medical_claim", "disability_cert", "enrolment")}
        find_conflicts(engine, "member", "household", **present, into="jz_conflicts")
        conflict_rows = sum(_counts(engine, "jz_conflicts", "conflict_type").values())
        stage_done("conflicts", conflicts=conflict_rows)

        previous = current_run(store, periods.shift(period, -1))
        previous_name = None
        if previous is not None and (data.run_dir(previous.id) / "alerts.parquet").exists():
            engine.register_table("jz_prev_alerts", data.run_dir(previous.id) / "alerts.parquet")
            previous_name = "jz_prev_alerts"
        alerts_tree = sqlglot.parse_one(alerts_sql("jz_flags", previous_name, period), read="duckdb")
        alerts_tree.set("order", None)  # sorted when written
        engine.materialize("jz_alerts", alerts_tree)
        statuses = {"new": 0, "persisting": 0, "cleared": 0, **_counts(engine, "jz_alerts", "status")}
        handoff_rows = engine.fetch_arrow(sqlglot.parse_one(handoff_sql("jz_alerts"), read="duckdb"))
        stage_done("diff", previous_run=previous.id if previous else None, **statuses)

        # what the results are made of is stored in the engine now: free the rest before the large sorts
        for name in [*DATASETS, *(f"__jz_feed_{d}" for d in DATASETS), "region", "jz_link_members",
                     "jz_prev_alerts"]:
            engine.drop(name)
        in_memory = {"review": review_all, HANDOFF_TABLE: handoff_rows}
        review_rows = review_all.num_rows
        del review_all, handoff_rows, review_tables
        tables: dict[str, Source | Callable[[], Source]] = {
            name: sort_table(name, table) for name, table in in_memory.items()}
        in_memory.clear()
        # the large tables are streamed from the engine in their order, one at a time
        tables["links"] = lambda: _links_stream(engine, [d.name for d in person_feeds], links_schema)
        for name, relation in (("flags", "jz_flags"), ("alerts", "jz_alerts"), ("conflicts", "jz_conflicts")):
            tables[name] = lambda name=name, relation=relation: _sorted_stream(engine, name, relation)
        result_hash = write_results(data.run_dir(run_id), {name: tables[name] for name in RESULT_TABLES},
                                    schemas={"flags": FLAG_SCHEMA, "links": links_schema,
                                             "conflicts": CONFLICT_SCHEMA})
        del tables
        summary = {
            "period": period,
            "households": rows.get("household", 0),
            "members": rows.get("member", 0),
            "alerts": statuses,
            "flags_by_rule": dict(sorted(fired.items())),
            "conflicts": conflict_rows,
            "review": review_rows,
            "linkage": link_summary,
            "previous_run": previous.id if previous else None,
        }
        stage_done("write", tables=len(RESULT_TABLES))
        ledger.update(status="done", stage=None, progress=1.0, result_hash=result_hash, summary=summary,
                      finished_at=utcnow(), handoff_status="pending" if handoff else "skipped")
    except BaseException as exc:
        ledger.update(status="failed", error=f"{type(exc).__name__}: {exc}"[:4000], finished_at=utcnow())
        raise
    finally:
        engine.close()
    handoffs = hand_off_pending(data.root, store, settings=settings) if handoff else []
    return RunOutcome(run_id, period, "done", result_hash, summary, stages, handoffs)


def load_result(data_root: str | Path, run_id: str, table: str) -> pa.Table:
    run_dir = DataFolder(data_root).run_dir(run_id)
    if not (run_dir / f"{table}.parquet").exists():
        raise NotFound(f"run {run_id!r} has no {table!r} results in {run_dir}")
    return read_result(run_dir, table)


__all__ = [
    "STAGES", "RunOutcome", "current_run", "get_run", "list_runs", "load_result", "policy_set_hash",
    "run_period",
]
