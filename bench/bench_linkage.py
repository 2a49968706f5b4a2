"""Benchmark of linkage: exact linkage of a feed against N registered people, probabilistic linkage of M
ID-less noisy records against the same registry, HMAC hashing throughput, and precision/recall against the
planted truth (or against a `jingzhun synth` folder's truth/feed_truth.parquet with --synth DIR).

    .venv/bin/python bench/bench_linkage.py                    # N = 1,000,000, M = 50,000
    .venv/bin/python bench/bench_linkage.py --people 5000000 --id-less 200000
    .venv/bin/python bench/bench_linkage.py --synth DIR        # every person-level feed of a synth folder

Targets (DESIGN.md, 2 cores): exact 34 M ≤ 30 s; probabilistic 1 M vs 34 M ≤ 2 min; precision ≥ 0.995 and
recall ≥ 0.98 on noisy synthetic feeds.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import duckdb

from jingzhun.link import default_config, link_feed_result, precision_recall
from jingzhun.link.hashing import hash_table

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华飞玉萍红燕鹏辉建国志文斌宇浩凯丹玲亮婷雪梅春林海波"
    "峰俊德荣晓云成福宁春梅琴兵坤鑫晨瑶欣怡佳慧嘉子涵雨轩博浩然梓豪思彤宏光伦庆祥瑞秋菊凤兴旺"
)
# homophones planted as typos (given-name characters only)
HOMO_FROM, HOMO_TO = "明伟丽军华静杰敏芳涛玲婷平红勇洋", "铭炜莉君桦婧洁珉方韬灵亭萍虹永阳"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_registry(con: duckdb.DuckDBPyConnection, n: int) -> None:
    """N people in households of ~4, 40 counties × 10 townships × 20 villages, vectorised in SQL."""
    con.execute("SELECT 1")
    from jingzhun.link import frames

    frames.install(con)
    sl, gl = len(SURNAMES), len(GIVEN)
    con.execute(f"""
        CREATE OR REPLACE TABLE members AS
        WITH base AS (
            SELECT i, i // 4 AS h,
                   substr('{SURNAMES}', 1 + CAST(hash(i // 4, 1) % {sl} AS INTEGER), 1) AS surname,
                   DATE '1925-01-01' + CAST(hash(i, 5) % 27000 AS INTEGER) AS birth_date,
                   CAST(hash(i, 6) % 2 AS INTEGER) AS male,
                   CAST(hash(i // 4, 7) % 40 AS INTEGER) AS county,
                   CAST(hash(i // 4, 8) % 10 AS INTEGER) AS town,
                   CAST(hash(i // 4, 9) % 20 AS INTEGER) AS village
            FROM range({n}) t(i)
        )
        SELECT 'P' || lpad(CAST(i AS VARCHAR), 9, '0') AS person_id,
               'H' || lpad(CAST(h AS VARCHAR), 9, '0') AS household_id,
               surname || substr('{GIVEN}', 1 + CAST(hash(i, 2) % {gl} AS INTEGER), 1) ||
                   CASE WHEN hash(i, 3) % 4 > 0
                        THEN substr('{GIVEN}', 1 + CAST(hash(i, 4) % {gl} AS INTEGER), 1) ELSE '' END AS name,
               jz_id_upgrade('52' || lpad(CAST(county + 1 AS VARCHAR), 4, '0') ||
                             strftime(birth_date, '%y%m%d') ||
                             lpad(CAST((CAST(hash(i, 10) % 500 AS INTEGER) * 2 + male) AS VARCHAR), 3, '0'))
                   AS id_number,
               CASE WHEN male = 1 THEN '男' ELSE '女' END AS sex,
               birth_date,
               '52' || lpad(CAST(county + 1 AS VARCHAR), 4, '0') || lpad(CAST(town + 1 AS VARCHAR), 3, '0') ||
                   lpad(CAST(village + 201 AS VARCHAR), 3, '0') AS village_code,
               CAST(NULL AS VARCHAR) AS phone
        FROM base
    """)


def make_exact_feed(con: duckdb.DuckDBPyConnection, rows: int, n: int) -> None:
    """A feed of ``rows`` records, 90 % registered people (ID in varied spellings), 10 % strangers."""
    con.execute(f"""
        CREATE OR REPLACE TABLE exact_feed AS
        SELECT 'E' || lpad(CAST(j AS VARCHAR), 9, '0') AS record_id,
               CASE WHEN j % 10 = 9 THEN '520199' || strftime(m.birth_date, '%Y%m%d') || '0011'
                    WHEN j % 10 = 1 THEN lower(m.id_number)
                    WHEN j % 10 = 2 THEN translate(m.id_number, '0123456789', '０１２３４５６７８９')
                    ELSE m.id_number END AS id_number,
               CAST(NULL AS VARCHAR) AS id_number_raw,
               m.name, m.sex, m.birth_date, m.village_code AS region_code, CAST(NULL AS VARCHAR) AS phone,
               CASE WHEN j % 10 = 9 THEN NULL ELSE m.person_id END AS true_person_id
        FROM range({rows}) t(j)
        JOIN members m ON m.person_id = 'P' || lpad(CAST(hash(j, 11) % {n} AS VARCHAR), 9, '0')
    """)


def make_idless_feed(con: duckdb.DuckDBPyConnection, rows: int, n: int) -> None:
    """``rows`` records without ID numbers: 90 % registered people with planted noise (homophones,
    traditional characters, spaces, birth-date slips, township-level address), 10 % strangers."""
    con.execute(f"""
        CREATE OR REPLACE TABLE idless_feed AS
        WITH picked AS (
            SELECT j, m.*, hash(j, 21) % 100 AS r1, hash(j, 22) % 100 AS r2, hash(j, 23) % 100 AS r3
            FROM range({rows}) t(j)
            JOIN members m ON m.person_id = 'P' || lpad(CAST(hash(j, 12) % {n} AS VARCHAR), 9, '0')
        )
        SELECT 'I' || lpad(CAST(j AS VARCHAR), 9, '0') AS record_id,
               CAST(NULL AS VARCHAR) AS id_number, CAST(NULL AS VARCHAR) AS id_number_raw,
               CASE WHEN j % 10 = 9 THEN substr('{SURNAMES}', 1 + CAST(hash(j, 30) % 50 AS INTEGER), 1) ||
                                         substr('{GIVEN}', 1 + CAST(hash(j, 31) % 60 AS INTEGER), 1) ||
                                         substr('{GIVEN}', 1 + CAST(hash(j, 32) % 60 AS INTEGER), 1)
                    WHEN r1 < 10
                         THEN substr(name, 1, 1) || translate(substr(name, 2), '{HOMO_FROM}', '{HOMO_TO}')
                    WHEN r1 < 15 THEN translate(name, '张陈刘黄赵吴杨郑丽军华国红飞兰伟强静',
                                                '張陳劉黃趙吳楊鄭麗軍華國紅飛蘭偉強靜')
                    WHEN r1 < 20 THEN substr(name, 1, 1) || ' ' || substr(name, 2)
                    ELSE name END AS name,
               CASE WHEN r3 < 20 THEN NULL ELSE sex END AS sex,
               CASE WHEN j % 10 = 9 THEN DATE '1930-01-01' + CAST(hash(j, 33) % 25000 AS INTEGER)
                    WHEN r2 < 8 THEN birth_date + 1
                    WHEN r2 < 12 AND day(birth_date) <= 12 AND day(birth_date) <> month(birth_date)
                         THEN make_date(year(birth_date), day(birth_date), month(birth_date))
                    ELSE birth_date END AS birth_date,
               CASE WHEN r3 >= 80 THEN substr(village_code, 1, 9) || '000' ELSE village_code END
                   AS region_code,
               CAST(NULL AS VARCHAR) AS phone,
               CASE WHEN j % 10 = 9 THEN NULL ELSE person_id END AS true_person_id
        FROM picked
    """)


def _truth(con: duckdb.DuckDBPyConnection, table: str):  # type: ignore[no-untyped-def]
    return con.sql(f"SELECT record_id, true_person_id AS person_id FROM {table}").to_arrow_table()


def bench_generated(args: argparse.Namespace) -> dict:
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    out: dict = {"people": args.people}
    t = time.perf_counter()
    make_registry(con, args.people)
    make_exact_feed(con, args.exact_rows or args.people // 2, args.people)
    make_idless_feed(con, args.id_less, args.people)
    out["generate_s"] = round(time.perf_counter() - t, 2)

    # keyed hashing as `jingzhun hash-ids` does it (normalise, HMAC over distinct values in DuckDB)
    ids = con.sql("SELECT id_number FROM members").to_arrow_table()
    t = time.perf_counter()
    hash_table(ids, b"k" * 32, ["id_number"])
    secs = time.perf_counter() - t
    out["hash_ids"] = {"rows": ids.num_rows, "seconds": round(secs, 2),
                       "rows_per_s": round(ids.num_rows / secs)}

    exact_cfg = default_config("bench_exact", probabilistic={"enabled": False})
    t = time.perf_counter()
    res = link_feed_result(con, "members", "exact_feed", exact_cfg)
    secs = time.perf_counter() - t
    out["exact"] = {"records": res.links.num_rows, "seconds": round(secs, 2),
                    "rows_per_s": round(res.links.num_rows / secs), "timings": res.summary["timings"],
                    "bands": res.summary["by_band"], **precision_recall(res.links, _truth(con, "exact_feed"))}

    prob_cfg = default_config("bench_prob", probabilistic={"training": {"u_max_pairs": args.u_pairs}})
    t = time.perf_counter()
    res = link_feed_result(con, "members", "idless_feed", prob_cfg)
    secs = time.perf_counter() - t
    out["probabilistic"] = {"records": res.links.num_rows, "seconds": round(secs, 2),
                            "rows_per_s": round(res.links.num_rows / secs), "timings": res.summary["timings"],
                            "bands": res.summary["by_band"], "pairs": res.summary["model"].get("pairs"),
                            **precision_recall(res.links, _truth(con, "idless_feed"))}
    out["peak_rss_mb"] = round(peak_rss_mb())
    return out


def bench_synth(args: argparse.Namespace) -> dict:
    """Link every person-level feed of a `jingzhun synth` folder (Chinese headers mapped by the catalogue)."""
    import pyarrow.parquet as pq

    from jingzhun.catalog import DATASETS
    from jingzhun.link.io import read_table

    root = Path(args.synth)
    months = sorted(p for p in root.iterdir() if p.is_dir() and p.name[:4].isdigit())

    def load(dataset: str, month: Path):  # type: ignore[no-untyped-def]
        files = sorted(month.glob(f"{dataset}.*"))
        if not files:
            return None
        table = read_table(files[0])
        ds = DATASETS[dataset]
        names = []
        for col in table.column_names:
            match = next((f.name for f in ds.fields if col.strip() in f.headers()), col)
            names.append(match)
        return table.rename_columns(names)

    con = duckdb.connect()
    member, household = load("member", months[0]), load("household", months[0])
    con.register("member_raw", member)
    con.register("household_raw", household)
    con.execute("CREATE TABLE members AS SELECT m.*, h.village_code FROM member_raw m "
                "JOIN household_raw h USING (household_id)")
    truth = pq.read_table(root / "truth" / "feed_truth.parquet")
    out: dict = {"people": member.num_rows, "feeds": {}}
    for ds in (d for d in DATASETS.values() if d.kind == "feed" and d.person_level):
        tables = [t for t in (load(ds.name, m) for m in months) if t is not None]
        if not tables:
            continue
        import pyarrow as pa

        feed = pa.concat_tables(tables, promote_options="permissive")
        con.register("feed", feed)
        t = time.perf_counter()
        res = link_feed_result(con, "members", "feed", default_config(ds.name))
        secs = time.perf_counter() - t
        out["feeds"][ds.name] = {"records": feed.num_rows, "seconds": round(secs, 2),
                                 "bands": res.summary["by_band"], "methods": res.summary["by_method"],
                                 **precision_recall(res.links, truth, ds.name)}
        con.unregister("feed")
    out["peak_rss_mb"] = round(peak_rss_mb())
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000, help="registered people N (default 1 M)")
    parser.add_argument("--exact-rows", type=int, default=0, help="exact feed rows (default N / 2)")
    parser.add_argument("--id-less", type=int, default=50_000, help="ID-less records M (default 50 k)")
    parser.add_argument("--u-pairs", type=float, default=1e6, help="pairs sampled to estimate u")
    parser.add_argument("--threads", type=int, default=0, help="DuckDB threads (default: all cores)")
    parser.add_argument("--synth", help="a `jingzhun synth` folder with truth/feed_truth.parquet")
    args = parser.parse_args(argv)
    result = bench_synth(args) if args.synth else bench_generated(args)
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    sys.exit(main())
