"""The web index: registry files chosen as the monthly run's snapshot chooses them, search semantics,
lookups that read one row group, rebuilding when the data changes, atomic builds, several readers."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jingzhun.ops import open_store
from jingzhun.ops.models import ImportRecord, RunRecord
from jingzhun.reports import figures
from jingzhun.reports import index as ix
from jingzhun.reports.sources import COUNT_CAP, AtLeast, IndexedAlerts, IndexedHouseholds

from .world import T1, V1, V2, V3, setup


@pytest.fixture
def world(tmp_path):
    settings, store = setup(tmp_path / "data")
    yield Path(settings.data), store
    store.dispose()


def _import(store, root: Path, dataset: str, import_id: str, period: str, rows: list[dict], at: dt.datetime):
    """Write one import's accepted rows and its ledger row, as an import does."""
    folder = root / "datasets" / dataset / f"period={period}"
    folder.mkdir(parents=True, exist_ok=True)
    rows = [r | {"_import_id": import_id, "_row": i + 2, "_period": period} for i, r in enumerate(rows)]
    pq.write_table(pa.Table.from_pylist(rows), folder / f"{import_id}.parquet")
    with store.session() as s:
        s.add(
            ImportRecord(
                id=import_id,
                file_name=f"{dataset}.csv",
                content_hash=f"hash-{import_id}",
                dataset=dataset,
                period=period,
                rows_in=len(rows),
                rows_accepted=len(rows),
                rows_quarantined=0,
                imported_by="test",
                imported_at=at,
            )
        )


def _search(index, text, prefix="520121", **kw):
    items, total = IndexedHouseholds(index).search(region_prefix=prefix, text=text, **kw)
    return [i["household_id"] for i in items], total


def test_search_by_name_substring_exact_ids_and_place_within_scope(world):
    root, store = world
    index = ix.WebIndex(root, store)
    assert _search(index, "张三") == (["H1"], 1)
    assert _search(index, "三") == (["H1", "H6"], 2)  # 张三 and 褚三: a substring, not only a prefix
    assert _search(index, "52012119500101001x") == (["H1"], 1)  # ID numbers: exact, any case of x
    assert _search(index, "520121195001") == ([], 0)  # never by a part of an ID number
    assert _search(index, "H1P1") == (["H1"], 1)  # person id
    assert _search(index, "龙井") == (["H5", "H6"], 2)  # a village by a part of its name
    assert _search(index, "梅铺乡") == (["H1", "H2", "H3", "H4"], 4)  # a township
    assert _search(index, "龙井", prefix=T1[:9]) == ([], 0)  # outside the township's scope
    assert _search(index, None, prefix=V2) == (["H3", "H4"], 2)
    page2 = _search(index, None, limit=4, offset=4)
    assert page2 == (["H5", "H6"], 6)
    assert _search(index, None, limit=4, offset=8) == ([], 6)
    hh = IndexedHouseholds(index).get("H1")
    assert hh["head_name"] == "张三" and hh["village_name_ref"] == "鹿溪村"
    assert [m["name"] for m in hh["members"]] == ["张三", "李四"] and hh["income"][0]["year"] == 2024
    assert not any(k.startswith("_") for k in hh) and IndexedHouseholds(index).get("nope") is None


def test_registry_is_the_snapshots_choice_newest_import_wins(world):
    root, store = world
    # a second extract of February replaces January's; within it, a household sent twice: newest wins
    base = {"village_code": V1, "household_type": "一般农户", "household_size": 1}
    _import(
        store,
        root,
        "household",
        "feb-a",
        "2025-02",
        [base | {"household_id": "H1"}, base | {"household_id": "H7", "monitoring_type": "边缘易致贫户"}],
        dt.datetime(2025, 3, 2),
    )
    _import(
        store, root, "household", "feb-b", "2025-02", [base | {"household_id": "H7"}], dt.datetime(2025, 3, 3)
    )
    # a file of a killed import (not in the ledger) is not read
    stray = root / "datasets" / "household" / "period=2025-02" / "killed.parquet"
    pq.write_table(
        pa.Table.from_pylist([base | {"household_id": "H9", "_import_id": "killed", "_row": 2}]), stray
    )
    cur = ix.WebIndex(root, store).cursor()
    found = dict(cur.execute("SELECT household_id, monitoring_type FROM reg.household").fetchall())
    assert found == {"H1": None, "H7": None}  # H7 from feb-b, no H2..H6 (January), no H9
    assert cur.execute("SELECT households FROM reg.fig_overview WHERE prefix = ''").fetchall() == [(2,)]


def test_index_is_rebuilt_when_a_run_finishes_and_old_files_are_removed(world):
    root, store = world
    index = ix.WebIndex(root, store, recheck_s=0)
    alerts = IndexedAlerts(index)
    before = index.cursor() and index.version
    assert alerts.counts(T1[:9]) == ("2025-02", 1, 2)
    run3 = "2025-03-cccc0003"
    (root / "runs" / run3).mkdir(parents=True)
    pq.write_table(
        pa.Table.from_pylist(
            [
                dict(
                    household_id="H2",
                    village_code=V1,
                    rule_id="trigger.unsafe_house",
                    kind="trigger",
                    status="new",
                    first_period="2025-03",
                    period="2025-03",
                    evidence="{}",
                    explain_zh="危房",
                    explain_en="unsafe",
                )
            ]
        ),
        root / "runs" / run3 / "alerts.parquet",
    )
    with store.session() as s:
        s.add(
            RunRecord(
                id=run3,
                period="2025-03",
                engine="duckdb",
                policy_set_hash="x",
                input_hashes={},
                status="done",
                progress=1.0,
                stages={},
                started_by="cli",
                started_at=dt.datetime(2025, 4, 1),
            )
        )
    assert alerts.counts(T1[:9]) == ("2025-03", 1, 1)
    after = index.version
    assert after.registry == before.registry and after.results != before.results
    assert index.last_build["registry_s"] == 0 and index.last_build["results_s"] > 0  # registry reused
    assert [a["household_id"] for a in alerts.list(region_prefix="520121", period="2025-02")[0]] == [
        "H3",
        "H5",
        "H1",
    ]
    for n in range(4, 7):  # more runs: only the two newest results files stay
        with store.session() as s:
            run = s.get(RunRecord, run3)
            s.add(
                RunRecord(
                    id=f"2025-0{n}-x",
                    period=f"2025-0{n}",
                    engine="duckdb",
                    policy_set_hash="x",
                    input_hashes={},
                    status="done",
                    progress=1.0,
                    stages={},
                    started_by="cli",
                    started_at=run.started_at + dt.timedelta(days=n),
                )
            )
        index.cursor()
    assert len(list((root / "web").glob("results-*.duckdb"))) == ix.KEEP_VERSIONS
    assert list((root / "web").glob(".tmp-*")) == []


def test_a_failed_build_leaves_nothing_and_a_second_reader_reuses_the_files(world, monkeypatch):
    root, store = world

    def broken(*a, **kw):
        raise RuntimeError("disk full")

    monkeypatch.setattr(figures, "build_registry_figures", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        ix.WebIndex(root, store).cursor()
    assert [p.name for p in (root / "web").iterdir() if p.name != ".build.lock"] == []
    monkeypatch.undo()
    first, second = ix.WebIndex(root, store), ix.WebIndex(root, store)
    assert _search(first, "张三") == (["H1"], 1)
    assert _search(second, "张三") == (["H1"], 1)  # both read the same files, read-only
    assert first.last_build["registry_s"] > 0 and second.last_build == {"registry_s": 0.0, "results_s": 0.0}


def test_live_figures_of_another_period_match_the_precomputed_ones(world):
    root, store = world
    cur = ix.WebIndex(root, store).cursor()
    period = figures.precomputed_period(cur)
    assert period == "2025-02"
    for prefix in ("", "520121", T1[:9], V1, V3):
        line = 7200.0 if prefix else 7000.0
        stored = figures.period_figures(cur, prefix, period, line)
        live = figures.period_figures(cur, prefix, period, stored[1]["line"], live=True)
        assert stored == live, prefix
    cov, income = figures.period_figures(cur, V1, period, 0.0)
    assert {c["key"]: c["count"] for c in cov}["medical_insurance"] == 5 and income["households"] == 2


def test_lookups_read_one_row_group_not_the_table(tmp_path):
    """With 40,000 people the tables span several row groups; a household lookup reads one of them."""
    root = tmp_path / "data"
    store = open_store(f"sqlite:///{root / 'ops.sqlite'}")
    n = 40_000
    hh = [f"H{i:06d}" for i in range(n // 4)]
    at = dt.datetime(2025, 2, 1)
    _import(
        store,
        root,
        "household",
        "h",
        "2025-01",
        [{"household_id": h, "village_code": V1, "household_size": 4} for h in hh],
        at,
    )
    rng = np.random.default_rng(1)
    names = ["王" + "伟芳娜敏"[rng.integers(4)] + str(i) for i in range(n)]
    _import(
        store,
        root,
        "member",
        "m",
        "2025-01",
        [
            {
                "person_id": f"P{i}",
                "household_id": hh[i // 4],
                "name": names[i],
                "id_number": f"5201211980{i:08d}",
            }
            for i in range(n)
        ],
        at,
    )
    index = ix.WebIndex(root, store)
    cur = index.cursor()
    plans = {
        "member": (
            "SELECT * FROM reg.member WHERE hk = hash(?::VARCHAR) AND household_id = ?",
            ["H001234"] * 2,
        ),
        "key_idx": (
            "SELECT * FROM reg.key_idx WHERE kh = hash(?::VARCHAR) AND key = ?",
            ["520121198000012345"] * 2,
        ),
        # a name in a region: the entries of its first character (every name here starts with 王, five
        # row groups) narrowed by household number, since they are stored in household order
        "name_idx": (
            "SELECT * FROM reg.name_idx WHERE nk BETWEEN ? AND ? AND hno BETWEEN 5000 AND 5100",
            list(ix.name_key("王伟12")),
        ),
        "hh_place": ("SELECT * FROM reg.hh_place WHERE rowid IN (17, 42)", []),  # a page of results
    }
    for table, (sql, params) in plans.items():
        text = cur.execute("EXPLAIN ANALYZE " + sql, params).fetchall()[0][1]
        scanned, groups = map(int, re.search(r"Row Groups Scanned: (\d+) / (\d+)", text).groups())
        assert groups > 1 and scanned <= 2 and scanned < groups, (table, scanned, groups, text)
    assert _search(index, "520121198000012345") == (["H003086"], 1)
    # 王 is in every name: the first households come in order without reading them all, the total
    # is a lower bound past COUNT_CAP; later pages continue in order
    ids, total = _search(index, "王", limit=3)
    assert ids == ["H000000", "H000001", "H000002"]
    assert isinstance(total, AtLeast) and 3 < total < n // 4
    assert _search(index, "王", limit=2, offset=1500)[0] == ["H001500", "H001501"]
    # a rarer name is counted exactly, every household once, in order
    expected = sorted({hh[i // 4] for i, name in enumerate(names) if "娜12" in name})
    ids, total = _search(index, "娜12", limit=500)
    assert ids == expected and total == len(expected) and not isinstance(total, AtLeast)
    assert 20 < len(expected) < COUNT_CAP
    store.dispose()
