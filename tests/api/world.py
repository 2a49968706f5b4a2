"""The API test world: regions, users, households and alerts (synthetic)."""

from __future__ import annotations

COUNTY, COUNTY_B = "520102000000", "520103000000"
TOWNSHIP, TOWNSHIP_B = "520102001000", "520102002000"
V1, V2, V3, V_OTHER = "520102001001", "520102001002", "520102002001", "520103001001"
PASSWORD = "s3cret-pw"

USERS = {
    "v1": ("village", V1),
    "v2": ("village", V2),
    "v3": ("village", V3),
    "vo": ("village", V_OTHER),
    "t1": ("township", TOWNSHIP),
    "t2": ("township", TOWNSHIP_B),
    "c1": ("county", COUNTY),
    "c2": ("county", COUNTY_B),
    "prov": ("province", "520000000000"),
    "dept": ("department", "medical_claim"),
    "admin": ("admin", "*"),
}


def member(pid: str, name: str, id_number: str, relation: str, health: str) -> dict:
    return {
        "person_id": pid,
        "name": name,
        "id_number": id_number,
        "relation": relation,
        "health": health,
        "phone": "139" + id_number[-8:-1],
    }


HOUSEHOLDS = [
    {
        "household_id": "H1",
        "village_code": V1,
        "head_name": "张三",
        "household_type": "脱贫户",
        "bank_account": "6222021234567890123",
        "members": [
            member("P1", "张三", "52010219800101001X", "户主", "大病"),
            member("P2", "王芳", "520102198203040026", "配偶", "健康"),
        ],
    },
    {
        "household_id": "H2",
        "village_code": V2,
        "head_name": "李四",
        "household_type": "一般农户",
        "members": [member("P3", "李四", "520102197507070033", "户主", "健康")],
    },
    {
        "household_id": "H3",
        "village_code": V3,
        "head_name": "赵六",
        "household_type": "一般农户",
        "members": [member("P4", "赵六", "520102196611110041", "户主", "残疾")],
    },
    {
        "household_id": "HO",
        "village_code": V_OTHER,
        "head_name": "钱七",
        "household_type": "脱贫户",
        "members": [member("P5", "钱七", "520103195512120058", "户主", "健康")],
    },
]

ALERTS = [
    {
        "alert_id": f"run-2026-02:{h['household_id']}",
        "run_id": "run-2026-02",
        "period": "2026-02",
        "household_id": h["household_id"],
        "village_code": h["village_code"],
        "head_name": h["head_name"],
        "rule_ids": ["monitor.medical_oop_registered"],
        "risk_type": "因病",
        "evidence": {"out_of_pocket": 23000, "threshold": 5000},
        "explanation": "近12个月住院自付 23000 元，超过 5000 元",
    }
    for h in HOUSEHOLDS
]
