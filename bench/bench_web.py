"""Latency of the dashboard and household search under concurrent clients on loopback.

    .venv/bin/python bench/bench_web.py --persons 1000000 [--clients 20] [--requests 2000]
        [--workers 1] [--threads 2] [--memory-limit 4GB] [--json-out out.json] [--keep DIR]

Builds a data folder of N synthetic people directly as Parquet, the way an import leaves it (files named
by import id, rows in the import ledger), with villages of about 1,000 people, 15 villages per
township, 15 townships per county, two finished runs with alerts; starts
``jingzhun serve --workers W`` (``--plain-uvicorn``: bare ``uvicorn ... --factory``) and signs the clients in
as the province user (everything in scope: the worst case). Then, per page, ``--requests`` requests
from ``--clients`` concurrent clients, each cycling through its own list of URLs (the dashboard of the
province, its counties, townships and villages; searches by full name, surname and given name, name
prefix, village name, ID number and household id, and household pages), and prints p50/p95/max,
requests per second and the server's peak RSS (all worker processes). Each page is also measured with
one client alone first: the time a request takes on its own, without waiting for a turn.

Cold start is measured separately: the first request of a new server builds the web index
(``web/*.duckdb``, once per version of the data); a restarted server only opens it.
``--threads`` and ``--memory-limit`` apply to DuckDB in the server (index build and queries).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import numpy as np
import psutil
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

PROVINCE = "520000000000"
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华")
PASSWORD = "bench-pw"


def _strings(values: list[str], idx: np.ndarray) -> pa.Array:
    return pc.take(pa.array(values), pa.array(idx))


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _digits(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pa.array(values).cast(pa.string()), width, "0")


def geography(persons: int) -> tuple[list[tuple[str, str, str, str | None]], np.ndarray]:
    """Regions (code, name, level, parent) and the array of village codes: ~1,000 people a village."""
    n_villages = max(persons // 1000, 10)
    regions: list[tuple[str, str, str, str | None]] = [(PROVINCE, "云黔省", "province", None)]
    villages = []
    for v in range(n_villages):
        t, c = v // 15, v // 225
        city, county = 1 + c // 20, 1 + c % 20
        county_code = f"52{city:02d}{county:02d}000000"
        town_code = f"{county_code[:6]}{100 + t % 15:03d}000"
        village_code = f"{town_code[:9]}{100 + v % 15:03d}"
        if v % 225 == 0:
            if c % 20 == 0:
                regions.append((f"52{city:02d}00000000", f"第{city}市", "city", PROVINCE))
            regions.append((county_code, f"第{c + 1}县", "county", f"52{city:02d}00000000"))
        if v % 15 == 0:
            regions.append((town_code, f"第{t + 1}乡", "township", county_code))
        regions.append((village_code, f"{v + 1}村", "village", town_code))
        villages.append(village_code)
    return regions, np.array(villages)


def build(root: Path, persons: int, seed: int = 1) -> dict:
    """The data folder; returns what the clients need (sample names, ID numbers, household ids, regions)."""
    from jingzhun.auth import create_user
    from jingzhun.ops import open_store
    from jingzhun.ops.models import ImportRecord, RunRecord

    rng = np.random.default_rng(seed)
    regions, villages = geography(persons)
    (root / "reference").mkdir(parents=True)
    pq.write_table(
        pa.table(
            {k: [r[i] for r in regions] for i, k in enumerate(("code", "name", "level", "parent_code"))}
        ),
        root / "reference" / "region.parquet",
    )
    size = np.clip(rng.poisson(2.5, max(persons * 2 // 7, 1)) + 1, 1, 9)
    size = size[: np.searchsorted(np.cumsum(size), persons) + 1]
    size[-1] -= size.sum() - persons
    size = size[size > 0]
    n_hh = len(size)
    hh_village = np.sort(villages[rng.integers(0, len(villages), n_hh)])
    hh_ids = _join("H", pa.array(hh_village), _digits(np.arange(n_hh), 7))
    mtype = np.where(
        rng.random(n_hh) < 0.03, rng.choice(["脱贫不稳定户", "边缘易致贫户", "突发严重困难户"], n_hh), None
    )
    risk = np.where(mtype != None, rng.choice(["因病", "因残", "因学", "因灾", "缺劳动力"], n_hh), None)  # noqa: E711
    hh = pa.table(
        {
            "household_id": hh_ids,
            "village_code": pa.array(hh_village),
            "household_type": rng.choice(["脱贫户", "一般农户"], n_hh, p=[0.3, 0.7]),
            "monitoring_type": pa.array(mtype.tolist(), pa.string()),
            "risk_type": pa.array(risk.tolist(), pa.string()),
            "poverty_cause": pa.nulls(n_hh, pa.string()),
            "household_size": size,
        }
    )
    m_hh = np.repeat(np.arange(n_hh), size)
    n = len(m_hh)
    rank = np.arange(n) - np.repeat(np.cumsum(size) - size, size)
    names = _join(
        _strings(SURNAMES, rng.integers(0, len(SURNAMES), n)),
        _strings(GIVEN, rng.integers(0, len(GIVEN), n)),
        _strings(GIVEN, rng.integers(0, len(GIVEN), n)),
    )
    birth = np.datetime64("1940-01-01") + rng.integers(0, 365 * 80, n).astype("timedelta64[D]")
    ids = _join(
        pc.utf8_slice_codeunits(pc.take(hh["village_code"], pa.array(m_hh)), 0, 6),
        pc.strftime(pa.array(birth.astype("datetime64[s]")), "%Y%m%d"),
        _digits(np.arange(n) % 10000, 4),
    )
    members = pa.table(
        {
            "person_id": _join("P", _digits(np.arange(n), 9)),
            "household_id": pc.take(hh_ids, pa.array(m_hh)),
            "name": names,
            "id_number": ids,
            "relation": np.where(rank == 0, "户主", "之子"),
            "sex": rng.choice(["男", "女"], n),
            "birth_date": birth.astype("datetime64[D]"),
            "school_status": rng.choice(["非在校生", "小学", "初中", "高中"], n, p=[0.8, 0.1, 0.06, 0.04]),
            "disability_grade": pa.array(np.where(rng.random(n) < 0.03, "二级", None).tolist(), pa.string()),
            "medical_insurance": rng.random(n) < 0.97,
            "health": rng.choice(["健康", "大病"], n, p=[0.95, 0.05]),
        }
    )
    income = pa.table(
        {
            "household_id": hh_ids,
            "year": np.full(n_hh, 2024),
            "wage_income": rng.gamma(2.0, 9000, n_hh) * size,
            "business_income": np.zeros(n_hh),
            "property_income": np.zeros(n_hh),
            "transfer_income": rng.gamma(1.0, 1000, n_hh),
            "minimum_living_allowance": np.where(rng.random(n_hh) < 0.08, 2400.0, 0.0),
            "extreme_poverty_allowance": np.where(rng.random(n_hh) < 0.01, 3600.0, 0.0),
            "business_costs": np.zeros(n_hh),
        }
    )
    store = open_store(f"sqlite:///{(root / 'ops.sqlite').resolve()}")
    with store.session() as s:
        for name, table in (("household", hh), ("member", members), ("income", income)):
            import_id = f"bench-{name}"
            folder = root / "datasets" / name / "period=2025-02"
            folder.mkdir(parents=True)
            rows = table.num_rows
            table = table.append_column("_import_id", pa.array(np.full(rows, import_id)))
            table = table.append_column("_row", pa.array(np.arange(2, rows + 2)))
            table = table.append_column("_period", pa.array(np.full(rows, "2025-02")))
            pq.write_table(table, folder / f"{import_id}.parquet", row_group_size=1_000_000)
            s.add(
                ImportRecord(
                    id=import_id,
                    file_name=f"{name}.parquet",
                    content_hash=f"bench-{name}-{persons}",
                    dataset=name,
                    period="2025-02",
                    rows_in=rows,
                    rows_accepted=rows,
                    rows_quarantined=0,
                    imported_by="bench",
                    imported_at=dt.datetime(2025, 3, 1),
                )
            )
        for i, period in enumerate(("2025-01", "2025-02")):
            run_id = f"{period}-bench000{i}"
            k = max(n_hh // 20, 1)
            pick = np.sort(rng.choice(n_hh, k, replace=False))
            alerts = pa.table(
                {
                    "household_id": pc.take(hh_ids, pa.array(pick)),
                    "village_code": pa.array(hh_village[pick]),
                    "rule_id": rng.choice(
                        ["trigger.serious_illness", "trigger.unsafe_house", "monitor.marginal"], k
                    ),
                    "kind": np.full(k, "trigger"),
                    "status": rng.choice(["new", "persisting", "cleared"], k),
                    "first_period": np.full(k, "2025-01"),
                    "period": np.full(k, period),
                    "evidence": np.full(k, "{}"),
                    "explain_zh": np.full(k, "医疗自付费用高"),
                    "explain_en": np.full(k, "high medical costs"),
                }
            )
            (root / "runs" / run_id).mkdir(parents=True)
            pq.write_table(alerts, root / "runs" / run_id / "alerts.parquet")
            s.add(
                RunRecord(
                    id=run_id,
                    period=period,
                    engine="duckdb",
                    policy_set_hash="bench",
                    input_hashes={},
                    status="done",
                    progress=1.0,
                    stages={},
                    started_by="bench",
                    started_at=dt.datetime(2025, 3, 1, 9, i),
                )
            )
        create_user(s, "sheng", PASSWORD, "province", PROVINCE)
    store.dispose()
    sample = rng.choice(n, 200, replace=False)
    return {
        "names": pc.take(names, pa.array(sample)).to_pylist(),
        "ids": pc.take(ids, pa.array(sample)).to_pylist(),
        "households": pc.take(members["household_id"], pa.array(sample)).to_pylist(),
        "regions": regions,
        "households_n": n_hh,
    }


def urls(sample: dict, rng: random.Random) -> dict[str, list[str]]:
    """The URLs each page's clients cycle through."""
    regions = sample["regions"]
    by_level: dict[str, list[str]] = {}
    for code, _, level, _ in regions:
        by_level.setdefault(level, []).append(code)
    dash = ["/dashboard"]
    for level in ("city", "county", "township", "village"):
        codes = by_level.get(level, [])
        dash += [f"/dashboard?region={c}" for c in rng.sample(codes, min(len(codes), 12))]
    villages = [name for _, name, level, _ in regions if level == "village"]
    search = []
    for name, idn, hh in zip(
        sample["names"][:40], sample["ids"][:40], sample["households"][:40], strict=True
    ):
        search += [name, name[:2], name[1:], idn, hh]
    search += rng.sample(villages, min(len(villages), 20))
    rng.shuffle(search)
    return {
        "dashboard": dash,
        "search": [f"/households?q={quote(q)}" for q in search],
        "household": [f"/households/{h}" for h in sample["households"][:100]],
        "api_search": [f"/api/v1/households?q={quote(q)}" for q in search],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Server:
    """``jingzhun serve --workers W`` (migrates, builds the web index, then starts the workers), or with
    ``plain`` the bare ``uvicorn ... --factory --workers W`` (the first request builds the index)."""

    def __init__(
        self, root: Path, workers: int, threads: int | None, memory_limit: str | None, plain: bool = False
    ):
        self.port = free_port()
        env = dict(os.environ, JINGZHUN_DATA=str(root), JINGZHUN_SECRET_KEY="bench")
        if threads:
            env["JINGZHUN_INDEX_THREADS"] = str(threads)
        if memory_limit:
            env["JINGZHUN_INDEX_MEMORY_LIMIT"] = memory_limit
        if plain:
            cmd = [sys.executable, "-m", "uvicorn", "jingzhun.web.app:create_app", "--factory"]
            cmd += ["--host", "127.0.0.1", "--port", str(self.port)]
        else:
            cmd = [str(Path(sys.executable).parent / "jingzhun"), "serve", "--data", str(root)]
            cmd += ["--host", "127.0.0.1", "--port", str(self.port)]
        cmd += ["--workers", str(workers), "--log-level", "warning"]
        start = time.perf_counter()
        self.proc = subprocess.Popen(cmd, env=env)
        self.base = f"http://127.0.0.1:{self.port}"
        while True:  # serve builds the index before it listens: hours at tens of millions of people
            try:
                httpx.get(self.base + "/login", timeout=1)
                break
            except httpx.HTTPError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited with {self.proc.returncode}") from None
                time.sleep(0.1)
        self.ready_s = round(time.perf_counter() - start, 2)
        self.peak = 0

    def rss(self) -> int:
        try:
            root = psutil.Process(self.proc.pid)
            procs = [root, *root.children(recursive=True)]
            total = sum(p.memory_info().rss for p in procs if p.is_running())
        except psutil.Error:
            return self.peak
        self.peak = max(self.peak, total)
        return total

    def client(self, timeout: float = 600) -> httpx.Client:
        c = httpx.Client(base_url=self.base, timeout=timeout)
        r = c.post("/api/v1/auth/login", json={"username": "sheng", "password": PASSWORD, "cookie": True})
        r.raise_for_status()
        return c

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)


def load(server: Server, clients: list[httpx.Client], page_urls: list[str], requests: int) -> dict:
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    per_client = max(requests // len(clients), 1)
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            server.rss()
            time.sleep(0.2)

    def work(i: int) -> None:
        mine = page_urls[i % len(page_urls) :] + page_urls[: i % len(page_urls)]
        for j in range(per_client):
            start = time.perf_counter()
            r = clients[i].get(mine[j % len(mine)])
            took = time.perf_counter() - start
            with lock:
                times.append(took)
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {mine[j % len(mine)]}")

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    wall = time.perf_counter()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(clients))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - wall
    stop.set()
    assert not errors, errors[:5]
    return {
        "requests": len(times),
        "p50_ms": round(pct(times, 0.5) * 1000, 1),
        "p95_ms": round(pct(times, 0.95) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "req_per_s": round(len(times) / wall, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=2000, help="requests per page, over all clients")
    ap.add_argument("--workers", type=int, default=1, help="worker processes")
    ap.add_argument(
        "--plain-uvicorn",
        action="store_true",
        help="serve with bare `uvicorn --factory` (index built by the first request) instead of `jingzhun serve`",
    )
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads in the server")
    ap.add_argument("--memory-limit", default=None, help="DuckDB memory limit in the server, e.g. 4GB")
    ap.add_argument("--json-out", default=None, help="write the figures as JSON to this file")
    ap.add_argument("--keep", default=None, help="build the data folder here and keep it (reused if there)")
    ap.add_argument(
        "--reuse-index", action="store_true", help="with --keep: do not rebuild an existing index"
    )
    args = ap.parse_args()

    tmp = None
    if args.keep:
        root = Path(args.keep)
    else:
        tmp = tempfile.mkdtemp(prefix="jz-bench-web-")
        root = Path(tmp) / "data"
    out: dict = {"persons": args.persons, "clients": args.clients, "workers": args.workers}
    out["server"] = "uvicorn --factory" if args.plain_uvicorn else "jingzhun serve"
    out["threads"], out["memory_limit"] = args.threads, args.memory_limit
    out["loadavg_before"] = [round(x, 2) for x in os.getloadavg()]
    try:
        t0 = time.perf_counter()
        sample_file = root / "bench-sample.json"
        if sample_file.exists():
            sample = json.loads(sample_file.read_text())
        else:
            sample = build(root, args.persons)
            sample_file.write_text(json.dumps(sample, ensure_ascii=False))
        out["build_data_s"] = round(time.perf_counter() - t0, 1)
        print(
            f"data: {args.persons:,} people, {sample['households_n']:,} households ({out['build_data_s']} s, {root})"
        )
        all_urls = urls(sample, random.Random(7))

        # cold: a new server builds the web index on its first request; a restarted one only opens it
        if not (args.reuse_index and any((root / "web").glob("registry-*.duckdb"))):
            shutil.rmtree(root / "web", ignore_errors=True)
            server = Server(root, args.workers, args.threads, args.memory_limit, args.plain_uvicorn)
            try:
                c = server.client(timeout=4 * 3600)  # with bare uvicorn the first request builds the index
                t = time.perf_counter()
                assert c.get("/dashboard").status_code == 200
                out["cold_build_s"] = round(server.ready_s + time.perf_counter() - t, 2)
                server.rss()
            finally:
                server.stop()
        out["index_mib"] = round(sum(p.stat().st_size for p in (root / "web").glob("*.duckdb")) / 2**20, 1)
        server = Server(root, args.workers, args.threads, args.memory_limit, args.plain_uvicorn)
        out["restart_ready_s"] = server.ready_s
        try:
            clients = [server.client() for _ in range(args.clients)]
            t = time.perf_counter()
            assert clients[0].get("/dashboard").status_code == 200
            out["cold_open_s"] = round(time.perf_counter() - t, 3)
            t = time.perf_counter()
            assert clients[0].get(all_urls["search"][0]).status_code == 200
            out["cold_first_search_s"] = round(time.perf_counter() - t, 3)
            print(
                f"cold: start to first dashboard (index built) {out.get('cold_build_s')} s ({out['index_mib']} MiB); "
                f"restarted server: ready in {out['restart_ready_s']} s, first dashboard {out['cold_open_s'] * 1000:.0f} ms, "
                f"first search {out['cold_first_search_s'] * 1000:.0f} ms"
            )
            for page in ("dashboard", "search", "household", "api_search"):
                # one client first: the time a request takes on its own (the rest is waiting for a turn)
                one = load(server, clients[:1], all_urls[page], max(args.requests // 10, 20))
                fig = load(server, clients, all_urls[page], args.requests)
                out[page] = fig | {"one_client_p50_ms": one["p50_ms"], "one_client_p95_ms": one["p95_ms"]}
                print(
                    f"{page:10s} {fig['requests']} requests, {args.clients} clients: p50 {fig['p50_ms']:.0f} ms, "
                    f"p95 {fig['p95_ms']:.0f} ms, max {fig['max_ms']:.0f} ms, {fig['req_per_s']} req/s; "
                    f"one client alone: p50 {one['p50_ms']:.0f} ms, p95 {one['p95_ms']:.0f} ms"
                )
            out["server_peak_rss_mib"] = round(server.peak / 2**20)
            print(f"server peak RSS (all workers): {out['server_peak_rss_mib']} MiB")
        finally:
            server.stop()
        out["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        print(f"load average before/after: {out['loadavg_before']} / {out['loadavg_after']}")
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(out, indent=2))
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
