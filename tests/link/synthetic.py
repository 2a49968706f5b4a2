"""Small realistic synthetic registry and noisy feed copies for linkage tests (no real data)."""

from __future__ import annotations

import datetime as dt
import random

import pyarrow as pa

from jingzhun.ids import check_character

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华飞玉萍红燕鹏辉建国志文斌宇浩凯丹玲亮婷雪梅春"
)
# simplified → traditional and homophones used to plant realistic errors
TRAD = {
    "张": "張",
    "陈": "陳",
    "刘": "劉",
    "黄": "黃",
    "赵": "趙",
    "吴": "吳",
    "杨": "楊",
    "郑": "鄭",
    "丽": "麗",
    "军": "軍",
    "华": "華",
    "国": "國",
    "红": "紅",
    "飞": "飛",
    "兰": "蘭",
    "伟": "偉",
    "强": "強",
    "静": "靜",
}
HOMOPHONE = {
    "明": "铭",
    "伟": "炜",
    "丽": "莉",
    "军": "君",
    "华": "桦",
    "静": "婧",
    "杰": "洁",
    "敏": "珉",
    "芳": "方",
    "涛": "韬",
    "玲": "灵",
    "婷": "亭",
    "平": "萍",
    "红": "虹",
    "勇": "永",
    "洋": "阳",
}
COUNTY = "520322"


def make_id(area: str, birth: dt.date, seq: int) -> str:
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + check_character(first17)


def registry(n: int = 300, seed: int = 7) -> pa.Table:
    """``n`` registered people in households of 1–5 across 3 townships × 4 villages of one county."""
    rng = random.Random(seed)
    rows = []
    hh = 0
    while len(rows) < n:
        hh += 1
        village = f"{COUNTY}{rng.randint(100, 102):03d}{rng.randint(201, 204):03d}"
        surname = rng.choice(SURNAMES)
        for _ in range(rng.randint(1, 5)):
            if len(rows) >= n:
                break
            birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 70))
            sex = rng.choice("男女")
            seq = rng.randrange(0, 999)
            seq = seq - seq % 2 + (1 if sex == "男" else 0)
            name = surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
            pid = f"P{len(rows) + 1:05d}"
            rows.append(
                {
                    "person_id": pid,
                    "household_id": f"H{hh:05d}",
                    "name": name,
                    "id_number": make_id(COUNTY, birth, seq % 1000),
                    "sex": sex,
                    "birth_date": birth,
                    "village_code": village,
                    "phone": f"138{rng.randint(0, 99999999):08d}",
                }
            )
    return pa.Table.from_pylist(rows)


def _typo_name(name: str, rng: random.Random) -> str:
    kind = rng.choice(("trad", "homophone", "space", "fullwidth"))
    if kind == "trad" and any(c in TRAD for c in name):
        return "".join(TRAD.get(c, c) for c in name)
    if kind == "homophone" and any(c in HOMOPHONE for c in name[1:]):
        return name[0] + "".join(HOMOPHONE.get(c, c) for c in name[1:])
    if kind == "space":
        return name[0] + " " + name[1:]
    return name + "\u3000"


def _typo_date(d: dt.date, rng: random.Random) -> dt.date:
    if d.day <= 12 and d.month != d.day and rng.random() < 0.5:
        return dt.date(d.year, d.day, d.month)
    return d + dt.timedelta(days=rng.choice((-10, -1, 1, 10)))


def feed(
    reg: pa.Table, n_with_id: int = 80, n_without: int = 120, n_strangers: int = 30, seed: int = 11
) -> tuple[pa.Table, pa.Table]:
    """A feed of registered people (some with ID numbers in odd forms, some without an ID and with
    noise) and strangers; returns (feed, truth(record_id, person_id))."""
    rng = random.Random(seed)
    people = reg.to_pylist()
    chosen = rng.sample(people, n_with_id + n_without)
    records, truth = [], []
    for i, p in enumerate(chosen):
        rid = f"R{i + 1:05d}"
        rec = {
            "record_id": rid,
            "name": p["name"],
            "sex": p["sex"],
            "birth_date": p["birth_date"],
            "region_code": p["village_code"],
            "phone": None,
            "id_number": None,
            "id_number_raw": None,
        }
        if i < n_with_id:
            form = i % 4
            raw = p["id_number"]
            if form == 1 and raw[17] == "X":
                raw = raw[:17] + "x"
            elif form == 1:
                raw = raw.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
            elif form == 2 and raw[6:8] == "19":
                raw = raw[:6] + raw[8:17]  # old 15-digit form (people born in the 1900s)
            rec["id_number"] = raw
            rec["id_number_raw"] = raw
        else:
            errors = rng.sample(("name", "date", "region", "idtypo", "none"), 2)
            if "name" in errors:
                rec["name"] = _typo_name(p["name"], rng)
            if "date" in errors:
                rec["birth_date"] = _typo_date(p["birth_date"], rng)
            if "region" in errors:
                rec["region_code"] = p["village_code"][:9] + "000"
            if "idtypo" in errors:
                raw = p["id_number"]
                pos = rng.randrange(6, 17)
                rec["id_number_raw"] = raw[:pos] + str((int(raw[pos]) + 1) % 10) + raw[pos + 1 :]
            if rng.random() < 0.3:
                rec["sex"] = None
        records.append(rec)
        truth.append({"record_id": rid, "person_id": p["person_id"]})
    for j in range(n_strangers):
        rid = f"S{j + 1:05d}"
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 60))
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        records.append(
            {
                "record_id": rid,
                "name": name,
                "sex": rng.choice("男女"),
                "birth_date": birth,
                "region_code": f"{COUNTY}{rng.randint(100, 102):03d}{rng.randint(201, 204):03d}",
                "phone": None,
                "id_number": None,
                "id_number_raw": None,
            }
        )
        truth.append({"record_id": rid, "person_id": None})
    schema = pa.schema(
        [
            ("record_id", pa.string()),
            ("id_number", pa.string()),
            ("id_number_raw", pa.string()),
            ("name", pa.string()),
            ("sex", pa.string()),
            ("birth_date", pa.date32()),
            ("region_code", pa.string()),
            ("phone", pa.string()),
        ]
    )
    return (
        pa.Table.from_pylist(records, schema=schema),
        pa.Table.from_pylist(
            truth, schema=pa.schema([("record_id", pa.string()), ("person_id", pa.string())])
        ),
    )
