"""A small data folder written directly as Parquet (with its rows in the import ledger, as an import
leaves them): one county, two townships, three villages, six households, two finished runs with alerts,
flags, links, conflicts and a review queue; users of every role."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from jingzhun.auth import create_user
from jingzhun.catalog import DATASETS
from jingzhun.ops import open_store
from jingzhun.ops.models import ImportRecord, RunRecord
from jingzhun.settings import Settings

PASSWORD = "pw-123456"
COUNTY, T1, T2 = "520121000000", "520121201000", "520121202000"
V1, V2, V3 = "520121201201", "520121201202", "520121202201"
RUN1, RUN2 = "2025-01-aaaa0001", "2025-02-bbbb0002"
# dataset → (import id, period) of the files written below, entered in the import ledger by setup()
IMPORTS = {
    "household": ("imp-household", "2025-01"),
    "member": ("imp-member", "2025-01"),
    "income": ("imp-income", "2025-01"),
    "medical_claim": ("imp-medical", "2025-02"),
}
USERS = {
    "cun": ("village", V1),
    "cun2": ("village", V2),
    "xiang": ("township", T1),
    "xian": ("county", COUNTY),
    "sheng": ("province", "520000000000"),
    "yibao": ("department", "medical_claim"),
    "root": ("admin", "*"),
}
REGIONS = [
    ("520000000000", "云黔省", "province", None),
    ("520121000000", "红冲县", "county", "520000000000"),
    (T1, "梅铺乡", "township", COUNTY),
    (T2, "石桥镇", "township", COUNTY),
    (V1, "鹿溪村", "village", T1),
    (V2, "桥屯村", "village", T1),
    (V3, "龙井村", "village", T2),
]
# household_id, village, type, monitoring_type, risk_type, size, income per person
HOUSEHOLDS = [
    ("H1", V1, "脱贫户", "脱贫不稳定户", "因病", 2, 5000.0),
    ("H2", V1, "一般农户", None, None, 3, 20000.0),
    ("H3", V2, "脱贫户", "边缘易致贫户", "因残", 1, 6800.0),
    ("H4", V2, "一般农户", None, None, 2, 9000.0),
    ("H5", V3, "脱贫户", "突发严重困难户", "因灾", 2, 3000.0),
    ("H6", V3, "一般农户", None, None, 1, 15000.0),
]
NAMES = {
    "H1": ("张三", "李四"),
    "H2": ("王五", "赵六", "孙七"),
    "H3": ("周八",),
    "H4": ("吴九", "郑十"),
    "H5": ("冯一", "陈二"),
    "H6": ("褚三",),
}
ID_OF = {"张三": "52012119500101001X", "周八": "520121196001010022", "冯一": "520121197001010031"}


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def write_data(root: Path) -> None:
    _write(
        root / "reference" / "region.parquet",
        [dict(code=c, name=n, level=lv, parent_code=p) for c, n, lv, p in REGIONS],
    )
    households, members, income = [], [], []
    for hid, village, htype, mtype, risk, size, pc in HOUSEHOLDS:
        households.append(
            dict(
                household_id=hid,
                village_code=village,
                household_type=htype,
                monitoring_type=mtype,
                risk_type=risk,
                poverty_cause=None,
                household_size=size,
            )
        )
        for i, name in enumerate(NAMES[hid]):
            members.append(
                dict(
                    person_id=f"{hid}P{i}",
                    household_id=hid,
                    name=name,
                    id_number=ID_OF.get(name, f"5201211980010{i}{hid[-1]}00"[:17] + "9"),
                    relation="户主" if i == 0 else "之子",
                    sex="男",
                    birth_date=dt.date(2015 if i == 2 else 1960, 1, 1),
                    school_status="小学" if i == 2 else "非在校生",
                    health="大病" if hid == "H1" and i == 0 else "健康",
                    disability_grade="二级" if hid == "H3" else None,
                    medical_insurance=hid != "H4",
                    labour_capacity="普通劳动力",
                )
            )
        income.append(
            dict(
                household_id=hid,
                year=2024,
                wage_income=pc * size,
                business_income=0.0,
                property_income=0.0,
                transfer_income=0.0,
                minimum_living_allowance=1200.0 if hid in ("H1", "H5") else 0.0,
                extreme_poverty_allowance=800.0 if hid == "H3" else 0.0,
                business_costs=0.0,
            )
        )
    for name, table in (("household", households), ("member", members), ("income", income)):
        rows = [
            r | {"_import_id": IMPORTS[name][0], "_row": i + 2, "_period": "2025-01"}
            for i, r in enumerate(table)
        ]
        _write(root / "datasets" / name / "period=2025-01" / f"{IMPORTS[name][0]}.parquet", rows)

    def alert(hid, village, rule, status, period, first):
        return dict(
            household_id=hid,
            village_code=village,
            rule_id=rule,
            kind="trigger",
            status=status,
            first_period=first,
            period=period,
            evidence='{"values": {"oop": 23000}}',
            explain_zh=f"{hid} 医疗自付费用高",
            explain_en=f"{hid} high medical costs",
        )

    _write(
        root / "runs" / RUN1 / "alerts.parquet",
        [
            alert("H1", V1, "trigger.serious_illness", "new", "2025-01", "2025-01"),
            alert("H4", V2, "trigger.unsafe_house", "new", "2025-01", "2025-01"),
        ],
    )
    _write(
        root / "runs" / RUN2 / "alerts.parquet",
        [
            alert("H1", V1, "trigger.serious_illness", "persisting", "2025-02", "2025-01"),
            alert("H3", V2, "trigger.serious_illness", "new", "2025-02", "2025-02"),
            alert("H4", V2, "trigger.unsafe_house", "cleared", "2025-02", "2025-01"),
            alert("H5", V3, "trigger.disaster_loss", "new", "2025-02", "2025-02"),
        ],
    )
    _write(
        root / "runs" / RUN2 / "flags.parquet",
        [
            dict(
                rule_id="trigger.serious_illness",
                kind="trigger",
                entity="household",
                entity_id="H1",
                household_id="H1",
                village_code=V1,
                # a claim of January delivered with February's file
                evidence='{"records": {"claims": ["JS1"]}, '
                '"received": {"claims": ["JS1|2025-01-20|2025-02|imp-medical"]}}',
                explain_zh="住院自付2.3万元",
                explain_en="Out-of-pocket 23,000",
            ),
            dict(
                rule_id="tag.dibao_candidate",
                kind="tag",
                entity="household",
                entity_id="H1",
                household_id="H1",
                village_code=V1,
                evidence="{}",
                explain_zh="符合低保条件",
                explain_en="eligible",
            ),
        ],
    )
    _write(
        root / "runs" / RUN2 / "links.parquet",
        [
            dict(
                record_id="JS1",
                person_id="H1P0",
                household_id="H1",
                method="exact",
                score=1.0,
                band="accepted",
                candidate_person_id="H1P0",
                fingerprint="f1",
                feed="medical_claim",
            ),
        ],
    )
    _write(
        root / "datasets" / "medical_claim" / "period=2025-02" / "imp-medical.parquet",
        [
            dict(
                _import_id="imp-medical",
                _row=2,
                _period="2025-02",
                record_id="JS1",
                name="张三",
                id_number="52012119500101001X",
                total_cost=30000.0,
                out_of_pocket=23000.0,
            ),
        ],
    )
    _write(
        root / "runs" / RUN2 / "conflicts.parquet",
        [
            dict(
                conflict_type="dead_still_listed",
                person_id="H1P1",
                household_id="H1",
                source_a="公安",
                value_a="死亡",
                source_b="建档立卡",
                value_b="在册",
                detail_zh="李四已死亡但仍在家庭成员名单中",
            ),
        ],
    )
    review = dict(
        feed="medical_claim",
        fingerprint="fp-1",
        record_id="JS9",
        person_id="H1P0",
        household_id="H1",
        score=0.8,
        method="probabilistic",
        record_name="张叁",
        person_name="张三",
        record_id_number="5201**********001X",
        person_id_number="5201**********001X",
        record_sex="男",
        person_sex="男",
        record_birth_date="1950-01-01",
        person_birth_date="1950-01-01",
        record_region=V1,
        person_region=V1,
        record_phone=None,
        person_phone=None,
    )
    _write(
        root / "runs" / RUN2 / "review.parquet",
        [
            review,
            review
            | {
                "fingerprint": "fp-3",
                "person_id": "H5P0",
                "household_id": "H5",
                "record_name": "冯壹",
                "person_name": "冯一",
                "record_region": V3,
                "person_region": V3,
            },
        ],
    )


def setup(root: Path):
    """Write the data, create the store with users and the two finished runs; returns (settings, store)."""
    write_data(root)
    settings = Settings(data=root, secret_key="test-key")
    store = open_store(settings.database_url)
    with store.session() as s:
        for name, (import_id, period) in IMPORTS.items():
            n = pq.read_metadata(
                root / "datasets" / name / f"period={period}" / f"{import_id}.parquet"
            ).num_rows
            s.add(
                ImportRecord(
                    id=import_id,
                    file_name=f"{DATASETS[name].zh}2025.csv",  # as departments name them
                    content_hash=f"hash-{name}",
                    dataset=name,
                    period=period,
                    rows_in=n,
                    rows_accepted=n,
                    rows_quarantined=0,
                    imported_by="setup",
                    imported_at=dt.datetime(2025, 2, 1, 8, 0),
                )
            )
        for name, (role, scope) in USERS.items():
            create_user(s, name, PASSWORD, role, scope)
        for i, (run_id, period) in enumerate(((RUN1, "2025-01"), (RUN2, "2025-02"))):
            s.add(
                RunRecord(
                    id=run_id,
                    period=period,
                    engine="duckdb",
                    policy_set_hash="x",
                    input_hashes={},
                    status="done",
                    progress=1.0,
                    stages={},
                    started_by="cli",
                    started_at=dt.datetime(2025, 3, 1, 8, i),
                    summary={"alerts": {}},
                )
            )
    return settings, store
