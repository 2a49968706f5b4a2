"""The web's read index: two DuckDB files beside the data, built once per version of the data and then
only read, by every web worker process.

``web/registry-<version>.duckdb``
    the registry as the monthly run's snapshot chooses it (:func:`jingzhun.pipeline.snapshot.take_snapshot`
    as of the latest period, de-duplicated by :func:`jingzhun.pipeline.loading.register_dataset`: newest
    import wins), laid out for point lookups, plus the figures that do not depend on a period, for every
    region. Rebuilt when an extract is imported or the region list changes.
``web/results-<version>.duckdb``
    the alerts of the latest finished run of every period and the figures of the current period (coverage
    and income against that period's monitoring line), for every region. Rebuilt after each run.

Lookups never scan a table: every table is sorted on an integer key and written in row groups of
:data:`ROW_GROUP_SIZE` rows, so DuckDB's per-row-group min/max (zonemaps) skip all but the row group(s)
holding the key. The keys: ``hk = hash(household_id)`` (households, members, income), ``kh = hash(key)``
(ID numbers, person ids and household ids), ``nk`` (the first three characters of every suffix of a
name, :func:`name_key`, so a substring of a name is a prefix of a suffix; sorted by the first
character, then household number), ``vc`` (the 12-digit village
code as a number: a region is a range of it, :func:`code_range`).

A file is written under a temporary name and renamed into place, under a lock file, by one process;
the others wait for the lock and open the result read-only (one writer per DuckDB file, DESIGN.md).
Older versions are removed once two newer ones exist. The files are derived data: deleting ``web/`` is
always safe.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from jingzhun.errors import JingzhunError
from jingzhun.ops import OpsStore
from jingzhun.reports import figures
from jingzhun.reports.data import sql_str
from jingzhun.reports.runs import done_runs, policy_dir
from jingzhun.store import DataFolder

log = logging.getLogger(__name__)

FORMAT = "2"  # bump when the layout of the files changes
ROW_GROUP_SIZE = 8192
INDEX_DIR = "web"
LATEST = "9999-12"  # the snapshot "as of now": the latest period of every dataset
REGISTRY = ("household", "member", "income")
KEEP_VERSIONS = 2

#: the columns the pages read, with their types; an extract without one of them gets it as NULL
SCHEMAS: dict[str, dict[str, str]] = {
    "household": {
        "household_id": "VARCHAR",
        "village_code": "VARCHAR",
        "household_type": "VARCHAR",
        "monitoring_type": "VARCHAR",
        "risk_type": "VARCHAR",
        "poverty_cause": "VARCHAR",
        "household_size": "BIGINT",
    },
    "member": {
        "person_id": "VARCHAR",
        "household_id": "VARCHAR",
        "name": "VARCHAR",
        "id_number": "VARCHAR",
        "relation": "VARCHAR",
        "sex": "VARCHAR",
        "birth_date": "DATE",
        "health": "VARCHAR",
        "school_status": "VARCHAR",
        "disability_grade": "VARCHAR",
        "labour_capacity": "VARCHAR",
        "medical_insurance": "BOOLEAN",
    },
    "income": {
        "household_id": "VARCHAR",
        "year": "BIGINT",
        "wage_income": "DOUBLE",
        "business_income": "DOUBLE",
        "property_income": "DOUBLE",
        "transfer_income": "DOUBLE",
        "minimum_living_allowance": "DOUBLE",
        "extreme_poverty_allowance": "DOUBLE",
        "business_costs": "DOUBLE",
    },
    "region": {"code": "VARCHAR", "name": "VARCHAR", "level": "VARCHAR", "parent_code": "VARCHAR"},
    "alerts": {
        "household_id": "VARCHAR",
        "village_code": "VARCHAR",
        "rule_id": "VARCHAR",
        "kind": "VARCHAR",
        "status": "VARCHAR",
        "first_period": "VARCHAR",
        "period": "VARCHAR",
        "evidence": "VARCHAR",
        "explain_zh": "VARCHAR",
        "explain_en": "VARCHAR",
    },
}
#: digits of a region code that name a region of each level (the rest are zeros)
LEVEL_WIDTH = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}
NAME_KEY_CHARS = 3
_BITS = 21  # a Unicode code point fits in 21 bits; three fit in a BIGINT


def empty_sql(table: str) -> str:
    """A SELECT with no rows and the columns of ``SCHEMAS[table]``.

    >>> empty_sql("region")
    'SELECT NULL::VARCHAR AS code, NULL::VARCHAR AS name, NULL::VARCHAR AS level, NULL::VARCHAR AS parent_code WHERE false'
    """
    cols = ", ".join(f"NULL::{t} AS {c}" for c, t in SCHEMAS[table].items())
    return f"SELECT {cols} WHERE false"


def code_range(prefix: str) -> tuple[int, int]:
    """The village codes (as numbers) inside the region whose code starts with ``prefix``.

    >>> code_range("520121201"), code_range("")
    ((520121201000, 520121201999), (0, 999999999999))
    """
    if not prefix.isdigit() and prefix:
        raise ValueError(f"not a region prefix: {prefix!r}")
    return int(prefix.ljust(12, "0")), int(prefix.ljust(12, "9"))


def name_key(text: str) -> tuple[int, int]:
    """The range of ``nk`` values of the names (or name suffixes) that start with ``text``: the first
    three characters' code points packed into one number, the missing ones spanning all values.

    >>> lo, hi = name_key("王伟")
    >>> lo == (ord("王") << 42) | (ord("伟") << 21) and hi == lo + (1 << 21) - 1
    True
    >>> name_key("王伟华")[0] == name_key("王伟华")[1]
    True
    """
    cps = [ord(c) for c in text[:NAME_KEY_CHARS]]
    lo = 0
    for i, cp in enumerate(cps):
        lo |= cp << (_BITS * (NAME_KEY_CHARS - 1 - i))
    span = (1 << (_BITS * (NAME_KEY_CHARS - len(cps)))) - 1
    return lo, lo | span


def _name_key_sql(col: str) -> str:
    """SQL for :func:`name_key` of a stored string (its first three characters)."""
    parts = [
        f"(greatest(unicode(substr({col}, {i + 1}, 1)), 0)::BIGINT << {_BITS * (NAME_KEY_CHARS - 1 - i)})"
        for i in range(NAME_KEY_CHARS)
    ]
    return " | ".join(parts)


# --- versions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """What a pair of index files was built from."""

    registry: str  # digest of the registry imports chosen by the snapshot, the region file, the format
    results: str  # digest of ``registry`` and the latest finished run of each period
    runs: tuple[tuple[str, str], ...]  # (period, run id)
    period: str | None  # the period of the figures in the results file (latest run, else the extract)


def _digest(*parts: Any) -> str:
    blob = json.dumps([FORMAT, duckdb.__version__, *parts], sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def current_version(root: str | Path, store: OpsStore) -> tuple[Version, Any]:
    """The version of the data now, and the snapshot it reads (cheap: the ledgers and one stat)."""
    from jingzhun.pipeline.snapshot import take_snapshot

    folder = DataFolder(root)
    snapshot = take_snapshot(folder, store, LATEST)
    imports = {
        ds: [f"{f.import_id}:{f.content_hash}" for f in snapshot.inputs.get(ds, [])] for ds in REGISTRY
    }
    region = folder.reference_file("region")
    stat = (region.stat().st_size, region.stat().st_mtime_ns) if region.exists() else None
    registry = _digest(imports, stat)
    runs = tuple(done_runs(store))
    extract = max((f.period for f in snapshot.inputs.get("household", [])), default=None)
    period = runs[-1][0] if runs else extract
    params = policy_dir() / "params.yaml"  # the monitoring lines of the income figures
    lines = (params.stat().st_size, params.stat().st_mtime_ns) if params.exists() else None
    return Version(registry, _digest(registry, runs, period, lines), runs, period), snapshot


# --- building -------------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".build.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _connect(threads: int | None, memory_limit: str | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET preserve_insertion_order = true")  # name lookups read the entries in stored order
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute("SET memory_limit = ?", [memory_limit])
    return con


def _write(path: Path, fill: Any, threads: int | None, memory_limit: str | None) -> None:
    """Create ``path`` by ``fill(con)`` on a connection with the new file attached as ``ix``; atomic."""
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    tmp.unlink(missing_ok=True)
    con = _connect(threads, memory_limit)
    try:
        spill = path.parent / ".spill"  # DuckDB's spill files: beside the index, not in the working directory
        con.execute(f"SET temp_directory = {sql_str(str(spill))}")
        con.execute(f"ATTACH {sql_str(str(tmp))} AS ix (ROW_GROUP_SIZE {ROW_GROUP_SIZE})")
        fill(con)
        con.execute("DETACH ix")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, path)


def _load_registry(con: duckdb.DuckDBPyConnection, snapshot: Any) -> None:
    """Temp tables ``household``, ``member``, ``income``, ``region`` chosen as the monthly run chooses."""
    from jingzhun.engines.duckdb import DuckDBEngine
    from jingzhun.pipeline.loading import register_dataset

    engine = DuckDBEngine(connection=con)
    for name in REGISTRY:
        loaded = f"__jz_loaded_{name}"
        if register_dataset(engine, snapshot, name, loaded) or engine.has_table(loaded):
            con.execute(
                f"CREATE TEMP TABLE {name} AS SELECT * FROM ({empty_sql(name)}) "
                f"UNION ALL BY NAME SELECT * FROM {loaded}"
            )
            engine.drop(loaded)
        else:
            con.execute(f"CREATE TEMP TABLE {name} AS {empty_sql(name)}")
        for (col,) in con.execute(f"SELECT name FROM pragma_table_info('{name}')").fetchall():
            if col.startswith("_"):  # the import's bookkeeping (_import_id, _row, _period)
                con.execute(f'ALTER TABLE {name} DROP COLUMN "{col}"')
    if snapshot.region_file is not None:
        con.execute(
            f"CREATE TEMP TABLE region AS SELECT * FROM ({empty_sql('region')}) UNION ALL BY NAME "
            f"SELECT code, name, level, parent_code FROM read_parquet({sql_str(str(snapshot.region_file))})"
        )
    else:
        con.execute(f"CREATE TEMP TABLE region AS {empty_sql('region')}")


def _fill_registry(con: duckdb.DuckDBPyConnection, snapshot: Any, version: Version) -> None:
    _load_registry(con, snapshot)
    widths = " ".join(f"WHEN '{lv}' THEN {w}" for lv, w in LEVEL_WIDTH.items())
    con.execute(f"""CREATE TABLE ix.region AS
        SELECT code, name, level, parent_code, substr(code, 1, CASE level {widths} ELSE 12 END) AS prefix,
               rpad(substr(code, 1, CASE level {widths} ELSE 12 END), 12, '0')::BIGINT AS lo,
               rpad(substr(code, 1, CASE level {widths} ELSE 12 END), 12, '9')::BIGINT AS hi
        FROM region WHERE regexp_full_match(code, '[0-9]{{12}}') ORDER BY code""")
    con.execute("""CREATE TEMP TABLE head AS
        SELECT household_id, count(*) AS people,
               arg_min(name, (CASE WHEN relation = '户主' THEN '0' ELSE '1' END) || person_id) AS head_name
        FROM member GROUP BY household_id""")
    con.execute("""CREATE TABLE ix.household AS
        SELECT hash(h.household_id) AS hk, TRY_CAST(h.village_code AS BIGINT) AS vc, h.*,
               hd.head_name, coalesce(hd.people, 0) AS people, v.name AS village_name_ref
        FROM household h LEFT JOIN head hd USING (household_id) LEFT JOIN region v ON v.code = h.village_code
        ORDER BY hk""")
    # households in (village, household id) order: row i of hh_place is household number ``hno`` = i, and
    # a region is a contiguous range of numbers (ix.ranges). Name entries repeat the household's shown
    # columns (a page of 50 results scattered over the data is read in place); key entries carry only
    # the number (a key finds one household or two, read by row id)
    con.execute("""CREATE TABLE ix.hh_place AS
        SELECT (row_number() OVER (ORDER BY vc, household_id) - 1)::INTEGER AS hno, vc, household_id,
               head_name, household_type, monitoring_type, household_size
        FROM ix.household ORDER BY hno""")
    misplaced = con.execute("SELECT count(*) FROM ix.hh_place WHERE hno <> rowid").fetchall()[0][0]
    if misplaced:
        raise JingzhunError(f"web index: {misplaced} households out of place in hh_place (rowid <> hno)")
    con.execute(
        f"CREATE TABLE ix.ranges AS {figures.cube('min(hno) AS lo, max(hno) AS hi', 'ix.hh_place', vc=True)}"
    )
    con.execute("CREATE TEMP TABLE hno AS SELECT household_id, hno FROM ix.hh_place")
    con.execute("CREATE TABLE ix.member AS SELECT hash(household_id) AS hk, * FROM member ORDER BY hk")
    con.execute("CREATE TABLE ix.income AS SELECT hash(household_id) AS hk, * FROM income ORDER BY hk")
    # every suffix of every name: a substring of a name is the start of one of its suffixes. Sorted by
    # the first character, then by household number: the zonemaps of nk keep a search to the entries
    # of its first character, and those come in household order, so the first matches of a region
    # are read without a sort and the read stops there (sources.IndexedHouseholds)
    con.execute(f"""CREATE TABLE ix.name_idx AS
        WITH s AS (
            SELECT substr(name, i) AS sfx, household_id
            FROM (SELECT name, household_id, unnest(range(1, length(name) + 1)) AS i
                  FROM member WHERE name IS NOT NULL AND length(name) <= 20))
        SELECT {_name_key_sql("s.sfx")} AS nk, s.sfx, h.* FROM s JOIN ix.hh_place h USING (household_id)
        ORDER BY nk >> {_BITS * (NAME_KEY_CHARS - 1)}, hno""")
    con.execute("""CREATE TABLE ix.key_idx AS
        WITH k AS (
            SELECT upper(id_number) AS key, household_id FROM member WHERE id_number IS NOT NULL
            UNION ALL SELECT upper(person_id), household_id FROM member WHERE person_id IS NOT NULL
            UNION ALL SELECT upper(household_id), household_id FROM household)
        SELECT hash(k.key) AS kh, k.key, n.hno FROM k JOIN hno n USING (household_id) ORDER BY kh""")
    figures.build_registry_figures(con, "ix.household")
    _meta(con, {"kind": "registry", "version": version.registry})


def _fill_results(con: duckdb.DuckDBPyConnection, root: Path, registry: Path, version: Version) -> None:
    con.execute(f"ATTACH {sql_str(str(registry))} AS reg (READ_ONLY)")
    folder = DataFolder(root)
    paths = [
        (run_id, folder.run_dir(run_id) / "alerts.parquet")
        for _, run_id in version.runs
        if (folder.run_dir(run_id) / "alerts.parquet").exists()
    ]
    parts = [f"SELECT * FROM ({empty_sql('alerts')}) a, (SELECT NULL::VARCHAR AS run_id) r"]
    parts += [
        f"SELECT *, {sql_str(run_id)} AS run_id FROM read_parquet({sql_str(str(p))})" for run_id, p in paths
    ]
    con.execute(f"CREATE TEMP VIEW all_alerts AS {' UNION ALL BY NAME '.join(parts)}")
    con.execute("""CREATE TABLE ix.alerts AS
        SELECT a.*, TRY_CAST(a.village_code AS BIGINT) AS vc, h.head_name
        FROM all_alerts a LEFT JOIN reg.household h
            ON h.hk = hash(a.household_id) AND h.household_id = a.household_id
        ORDER BY a.run_id, vc, a.household_id, a.rule_id""")
    if version.period:
        figures.build_period_figures(con, "reg", version.period)
    else:
        figures.build_period_figures(con, "reg", None)
    _meta(con, {"kind": "results", "version": version.results, "period": version.period or ""})


def _meta(con: duckdb.DuckDBPyConnection, values: dict[str, str]) -> None:
    con.execute("CREATE TABLE ix.meta (key VARCHAR, value VARCHAR)")
    con.executemany("INSERT INTO ix.meta VALUES (?, ?)", [[k, str(v)] for k, v in values.items()])


def index_paths(root: str | Path, version: Version) -> tuple[Path, Path]:
    folder = Path(root) / INDEX_DIR
    return folder / f"registry-{version.registry}.duckdb", folder / f"results-{version.results}.duckdb"


def build(
    root: str | Path,
    store: OpsStore,
    version: Version | None = None,
    snapshot: Any = None,
    *,
    threads: int | None = None,
    memory_limit: str | None = None,
) -> tuple[Version, Path, Path, dict[str, float]]:
    """Make sure the index files of ``version`` (default: the current one) exist; returns the version,
    both paths and the seconds spent building each (0 when it was there)."""
    if version is None or snapshot is None:
        version, snapshot = current_version(root, store)
    reg, res = index_paths(root, version)
    took = {"registry_s": 0.0, "results_s": 0.0}
    with _locked(reg.parent):
        if not reg.exists():
            t = time.perf_counter()
            _write(reg, lambda con: _fill_registry(con, snapshot, version), threads, memory_limit)
            took["registry_s"] = round(time.perf_counter() - t, 3)
            log.info("web index: registry %s built in %.1f s", reg.name, took["registry_s"])
        if not res.exists():
            t = time.perf_counter()
            _write(res, lambda con: _fill_results(con, Path(root), reg, version), threads, memory_limit)
            took["results_s"] = round(time.perf_counter() - t, 3)
            log.info("web index: results %s built in %.1f s", res.name, took["results_s"])
        _prune(reg.parent)
    return version, reg, res, took


def _prune(folder: Path) -> None:
    """Remove all but the newest :data:`KEEP_VERSIONS` files of each kind (open handles keep working)."""
    for kind in ("registry", "results"):
        files = sorted(folder.glob(f"{kind}-*.duckdb"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[KEEP_VERSIONS:]:
            old.unlink(missing_ok=True)


# --- reading --------------------------------------------------------------------------------------


class WebIndex:
    """The index files of the current version of the data, opened read-only in this process.

    :meth:`cursor` checks the version at most every ``recheck_s`` seconds (at once with ``fresh=True``)
    and, when it changed, builds the missing files first (the request that notices waits; so do the
    others, on the lock) and then serves the new version. ``memo`` holds results computed from the
    version served now (figures), at most ``memo_size`` of them. DuckDB's threads and memory limit
    come from ``threads``/``memory_limit`` or the environment variables ``JINGZHUN_INDEX_THREADS`` and
    ``JINGZHUN_INDEX_MEMORY_LIMIT`` (default: DuckDB's own for building; one thread per query, since
    requests run side by side and a lookup reads one row group).
    """

    def __init__(
        self,
        root: str | Path,
        store: OpsStore,
        recheck_s: float = 2.0,
        memo_size: int = 2048,
        threads: int | None = None,
        memory_limit: str | None = None,
    ):
        self.root = Path(root)
        self.store = store
        env_threads = os.environ.get("JINGZHUN_INDEX_THREADS")
        self.threads = threads or (int(env_threads) if env_threads else None)
        self.memory_limit = memory_limit or os.environ.get("JINGZHUN_INDEX_MEMORY_LIMIT") or None
        self.recheck_s = recheck_s
        self.memo_size = memo_size
        self._lock = threading.Lock()
        self._memo_lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._version: Version | None = None
        self._checked = 0.0
        self.memo: OrderedDict[tuple, Any] = OrderedDict()
        self.last_build: dict[str, float] = {}

    @property
    def version(self) -> Version | None:
        return self._version

    def cursor(self, fresh: bool = False) -> duckdb.DuckDBPyConnection:
        """A cursor on the index (tables ``reg.*`` and ``res.*``), on its own connection to the shared
        database, so requests run in parallel."""
        now = time.monotonic()
        if self._con is None or fresh or now - self._checked >= self.recheck_s:
            with self._lock:
                if self._con is None or fresh or now - self._checked >= self.recheck_s:
                    self._refresh()
                    self._checked = time.monotonic()
        assert self._con is not None
        return self._con.cursor()

    def _refresh(self) -> None:
        version, snapshot = current_version(self.root, self.store)
        if version == self._version and self._con is not None:
            return
        version, reg, res, took = build(
            self.root, self.store, version, snapshot, threads=self.threads, memory_limit=self.memory_limit
        )
        con = _connect(self.threads or 1, self.memory_limit)  # lookups gain nothing from more threads
        con.execute(f"ATTACH {sql_str(str(reg))} AS reg (READ_ONLY)")
        con.execute(f"ATTACH {sql_str(str(res))} AS res (READ_ONLY)")
        self._con, self._version = con, version  # cursors on the old connection keep working
        self.memo = OrderedDict()
        self.last_build = took

    def warm(self) -> threading.Thread:
        """Build and open the current version in the background (after an import), so that the next
        page need not wait; a failure is logged and left to the next page."""

        def run() -> None:
            try:
                self.cursor(fresh=True)
            except Exception:
                log.exception("web index: building in the background failed")

        thread = threading.Thread(target=run, name="jingzhun-web-index", daemon=True)
        thread.start()
        return thread

    def region_names(self, codes: list[str]) -> dict[str, tuple[str | None, str | None]]:
        """Village code → (village name, township name), remembered per version of the data."""
        known: dict[str, tuple[str | None, str | None]] = self.remember(("region_names",), dict)
        missing = sorted({c for c in codes if c and c not in known})
        if missing:
            marks = ", ".join("?" for _ in missing)
            found = (
                self.cursor()
                .execute(
                    f"""SELECT v.code, v.name, t.name FROM reg.region v LEFT JOIN reg.region t ON t.code = v.parent_code
                    WHERE v.code IN ({marks})""",
                    missing,
                )
                .fetchall()
            )
            got = {code: (village, township) for code, village, township in found}
            for code in missing:
                known[code] = got.get(code, (None, None))
            if len(known) > 100_000:
                known.clear()
        return {c: known.get(c, (None, None)) for c in codes}

    def remember(self, key: tuple, compute: Any) -> Any:
        """``compute()`` once per version of the data and ``key`` (computed outside the lock: two
        requests may both compute it the first time)."""
        full = (self._version, *key)
        with self._memo_lock:
            if full in self.memo:
                self.memo.move_to_end(full)
                return self.memo[full]
        value = compute()
        with self._memo_lock:
            self.memo[full] = value
            while len(self.memo) > self.memo_size:
                self.memo.popitem(last=False)
        return value
