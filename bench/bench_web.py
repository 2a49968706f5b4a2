"""Latency of the dashboard and household search under 20 concurrent clients on loopback.

    .venv/bin/python bench/bench_web.py [--persons 200000] [--clients 20] [--requests 400]

Builds a data folder of N synthetic people directly as Parquet (vectorised numpy/pyarrow: one county,
10 townships, 100 villages, households of ~3.5 people, income, a finished run with alerts), starts
``uvicorn jingzhun.web.app:create_app --factory`` in a subprocess, signs 20 clients in as the county user
and prints p50/p95/max per page, requests per second and the server's peak RSS. The first request of
each page (cache build) is measured separately as "cold".
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

COUNTY = "520121000000"
SURNAMES = np.array(list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"))
GIVEN = np.array(list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"))


def build(root: Path, persons: int, seed: int = 1) -> None:
    from jingzhun.auth import create_user
    from jingzhun.ops import open_store
    from jingzhun.ops.models import RunRecord

    rng = np.random.default_rng(seed)
    towns = [f"520121{200 + t:03d}000" for t in range(10)]
    villages = [f"{t[:9]}{200 + v:03d}" for t in towns for v in range(10)]
    regions = [("520000000000", "云黔省", "province", None), (COUNTY, "红冲县", "county", "520000000000")]
    regions += [(t, f"第{i + 1}乡", "township", COUNTY) for i, t in enumerate(towns)]
    regions += [(v, f"{v[-3:]}村", "village", v[:9] + "000") for v in villages]
    (root / "reference").mkdir(parents=True)
    pq.write_table(
        pa.table(
            {k: [r[i] for r in regions] for i, k in enumerate(("code", "name", "level", "parent_code"))}
        ),
        root / "reference" / "region.parquet",
    )

    n_hh = max(persons * 2 // 7, 1)
    hh_ids = np.char.add("H", np.arange(n_hh).astype(str))
    hh_village = np.array(villages)[rng.integers(0, len(villages), n_hh)]
    size = np.clip(rng.poisson(2.5, n_hh) + 1, 1, 9)
    size = np.maximum((size * persons / size.sum()).round().astype(int), 1)
    mtype = np.where(
        rng.random(n_hh) < 0.03, rng.choice(["脱贫不稳定户", "边缘易致贫户", "突发严重困难户"], n_hh), None
    )
    risk = np.where(mtype != None, rng.choice(["因病", "因残", "因学", "因灾", "缺劳动力"], n_hh), None)  # noqa: E711
    hh = pa.table(
        {
            "household_id": hh_ids,
            "village_code": hh_village,
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
    names = np.char.add(
        np.char.add(SURNAMES[rng.integers(0, len(SURNAMES), n)], GIVEN[rng.integers(0, len(GIVEN), n)]),
        GIVEN[rng.integers(0, len(GIVEN), n)],
    )
    birth = np.datetime64("1940-01-01") + rng.integers(0, 365 * 80, n).astype("timedelta64[D]")
    ids = np.char.add(
        np.char.add(hh_village[m_hh].astype("U6"), np.datetime_as_string(birth).astype("U10")),
        np.char.zfill(np.arange(n).astype(str), 4),
    )
    ids = np.char.replace(ids, "-", "")
    members = pa.table(
        {
            "person_id": np.char.add("P", np.arange(n).astype(str)),
            "household_id": hh_ids[m_hh],
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
    for name, table in (("household", hh), ("member", members), ("income", income)):
        folder = root / "datasets" / name / "period=2025-01"
        folder.mkdir(parents=True)
        pq.write_table(table, folder / "part-0.parquet")
    k = max(n_hh // 20, 1)
    pick = rng.choice(n_hh, k, replace=False)
    alerts = pa.table(
        {
            "household_id": hh_ids[pick],
            "village_code": hh_village[pick],
            "rule_id": rng.choice(["trigger.serious_illness", "trigger.unsafe_house", "monitor.marginal"], k),
            "kind": np.full(k, "trigger"),
            "status": rng.choice(["new", "persisting", "cleared"], k),
            "first_period": np.full(k, "2025-01"),
            "period": np.full(k, "2025-01"),
            "evidence": np.full(k, "{}"),
            "explain_zh": np.full(k, "医疗自付费用高"),
            "explain_en": np.full(k, "high medical costs"),
        }
    )
    run_dir = root / "runs" / "2025-01-bench0001"
    run_dir.mkdir(parents=True)
    pq.write_table(alerts, run_dir / "alerts.parquet")
    store = open_store(f"sqlite:///{(root / 'ops.sqlite').resolve()}")
    with store.session() as s:
        create_user(s, "xian", "bench-pw", "county", COUNTY)
        s.add(
            RunRecord(
                id="2025-01-bench0001",
                period="2025-01",
                engine="duckdb",
                policy_set_hash="x",
                input_hashes={},
                status="done",
                progress=1.0,
                stages={},
                started_by="bench",
                started_at=dt.datetime(2025, 2, 1),
            )
        )
    store.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=400, help="requests per page, over all clients")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="jz-bench-web-") as tmp:
        root = Path(tmp) / "data"
        t0 = time.perf_counter()
        build(root, args.persons)
        print(f"data: {args.persons:,} people built in {time.perf_counter() - t0:.1f} s ({root})")
        port = free_port()
        env = dict(os.environ, JINGZHUN_DATA=str(root), JINGZHUN_SECRET_KEY="bench")
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "jingzhun.web.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    httpx.get(base + "/login", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            clients = []
            for _ in range(args.clients):
                c = httpx.Client(base_url=base, timeout=60)
                r = c.post(
                    "/api/v1/auth/login", json={"username": "xian", "password": "bench-pw", "cookie": True}
                )
                r.raise_for_status()
                clients.append(c)
            pages = {
                "dashboard": ["/dashboard", "/dashboard?region=520121201000"],
                "search": ["/households?q=王伟", "/households?q=205村", "/households?q=H12345"],
            }
            proc = psutil.Process(server.pid)
            peak = 0
            for name, urls in pages.items():
                t = time.perf_counter()
                assert clients[0].get(urls[0]).status_code == 200
                cold = time.perf_counter() - t
                times: list[float] = []
                lock = threading.Lock()
                per_client = max(args.requests // args.clients, 1)

                def work(i: int, urls=urls, times=times, lock=lock, per_client=per_client) -> None:
                    for j in range(per_client):
                        start = time.perf_counter()
                        r = clients[i].get(urls[(i + j) % len(urls)])
                        took = time.perf_counter() - start
                        assert r.status_code == 200, r.text[:200]
                        with lock:
                            times.append(took)

                wall = time.perf_counter()
                threads = [threading.Thread(target=work, args=(i,)) for i in range(args.clients)]
                for th in threads:
                    th.start()
                for th in threads:
                    th.join()
                wall = time.perf_counter() - wall
                peak = max(peak, proc.memory_info().rss)
                print(
                    f"{name:10s} {len(times)} requests, {args.clients} clients: "
                    f"p50 {pct(times, 0.5) * 1000:.0f} ms, "
                    f"p95 {pct(times, 0.95) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms, "
                    f"{len(times) / wall:.1f} req/s; cold first request {cold * 1000:.0f} ms, "
                    f"mean {statistics.mean(times) * 1000:.0f} ms"
                )
            print(f"server RSS after load: {peak / 2**20:.0f} MiB")
        finally:
            server.terminate()
            server.wait(20)


if __name__ == "__main__":
    main()
