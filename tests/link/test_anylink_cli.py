"""`jingzhun link` with a fields configuration, `jingzhun link dedupe` and `jingzhun link review import`,
run as a data officer would: files in, workbook and chart out, decisions typed in the workbook read back."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from test_anylink import _febrl4, _register_with_duplicates, _review_workbook
from typer.testing import CliRunner

from jingzhun.cli.main import app
from jingzhun.errors import FileLevelError
from jingzhun.link.anylink import DuplicateGuardError
from jingzhun.link.review import load_decisions

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config" / "linkage"
runner = CliRunner()


def _csv(table: pa.Table, path: Path) -> Path:
    pacsv.write_csv(table, path)
    return path


def _config(tmp: Path, name: str, extra: str = "") -> Path:
    text = (CONFIG_DIR / name).read_text(encoding="utf-8") + "\ntraining: {u_max_pairs: 100000}\n" + extra
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("anycli")
    left, right = _febrl4(300)
    a, b = _csv(left, tmp / "dataset4a.csv"), _csv(right, tmp / "dataset4b.csv")
    out = tmp / "febrl4.xlsx"
    result = runner.invoke(app, ["link", "--config", str(_config(tmp, "febrl4.yaml")), "--left", str(a),
                                 "--right", str(b), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    return tmp, out, json.loads(result.stdout[result.stdout.index("{"):])


def test_link_with_fields_writes_workbook_and_chart(linked):
    import fastexcel

    _tmp, out, summary = linked
    assert summary["mode"] == "link" and summary["by_band"]["accepted"] >= 290
    assert Path(summary["files"]["workbook"]) == out and out.exists()
    assert Path(summary["files"]["chart"]).name == "febrl4.chart.html"
    links = fastexcel.read_excel(str(out)).load_sheet("比对结果 links", dtypes="string").to_arrow()
    row = links.to_pylist()[0]
    assert row["given_name 记录 / record"] is not None and row["given_name 权重 / weight"] is not None


def test_csv_output_keeps_the_workbook_beside_it(linked):
    tmp, _out, _summary = linked
    out = tmp / "links.csv"
    result = runner.invoke(app, ["link", "--config", str(_config(tmp, "febrl4.yaml")), "--left",
                                 str(tmp / "dataset4a.csv"), "--right", str(tmp / "dataset4b.csv"),
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and (tmp / "links.review.xlsx").exists()
    assert "比中 accepted" in result.stdout


def test_review_import_stores_decisions(linked):
    tmp, _out, _summary = linked
    path = tmp / "decided.xlsx"
    _review_workbook(path, [{"list": "febrl4", "right_id": "rec-1-dup-0", "left_id": "rec-1-org",
                             "probability": 0.7, "fingerprint": "f" * 64, "decision": "接受"}])
    db = f"sqlite:///{tmp / 'ops.sqlite'}"
    result = runner.invoke(app, ["link", "review", "import", str(path), "--user", "clerk1", "--db", db])
    assert result.exit_code == 0, result.output
    assert "1 decision(s) imported (1 accepted, 0 rejected)" in result.stdout
    from jingzhun.ops import open_store

    stored = load_decisions(open_store(db), "febrl4").to_pylist()
    assert stored == [{"record_fingerprint": "f" * 64, "person_id": "rec-1-org", "decision": "accept"}]


def test_a_missing_column_names_the_file_and_lists_its_columns(tmp_path):
    left, right = _febrl4(20)
    a = _csv(left, tmp_path / "a.csv")
    b = _csv(right.drop_columns(["postcode"]), tmp_path / "b.csv")
    result = runner.invoke(app, ["link", "--config", str(_config(tmp_path, "febrl4.yaml")), "--left", str(a),
                                 "--right", str(b), "--out", str(tmp_path / "x.xlsx")])
    assert isinstance(result.exception, FileLevelError) and result.exception.exit_code == 2
    text = str(result.exception)
    assert "b.csv" in text and "['postcode']" in text and "the file's columns: rec_id" in text
    assert not (tmp_path / "x.xlsx").exists()


def test_register_feed_config_errors_name_the_file_not_internal_tables(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text((CONFIG_DIR / "adhoc_example.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    left = _csv(pa.table({"人编号": ["1"], "户编号": ["1"], "姓名": ["张三"], "证件号码": [None], "性别": ["男"],
                          "出生日期": ["19800101"], "行政村代码": ["520322100201"]}), tmp_path / "l.csv")
    right = _csv(pa.table({"结算单号": ["R1"], "姓名": ["张三"]}), tmp_path / "r.csv")
    result = runner.invoke(app, ["link", "--config", str(cfg), "--left", str(left), "--right", str(right),
                                 "--out", str(tmp_path / "o.xlsx")])
    assert isinstance(result.exception, FileLevelError)
    text = str(result.exception)
    assert "r.csv" in text and "jz_right" not in text and "the file's columns: 结算单号, 姓名" in text


def test_dedupe_finds_duplicates_and_the_guard_stops_an_implausible_run(tmp_path):
    table, _planted = _register_with_duplicates()
    table = table.set_column(table.schema.get_field_index("birth_date"), "birth_date",
                             pa.array([d.isoformat() for d in table.column("birth_date").to_pylist()]))
    file = _csv(table, tmp_path / "member.csv")
    out = tmp_path / "dups.xlsx"
    ok = runner.invoke(app, ["link", "dedupe", "--config",
                             str(_config(tmp_path, "register_dedupe.yaml").with_name("register_dedupe.yaml")),
                             "--file", str(file), "--out", str(out), "--json"])
    # the shipped guard (2 %) is for real registers; this tiny one holds 1.5 % planted duplicates
    assert isinstance(ok.exception, DuplicateGuardError) and not out.exists()
    assert "would be flagged as duplicates" in str(ok.exception)
    cfg = tmp_path / "loose.yaml"
    cfg.write_text((CONFIG_DIR / "register_dedupe.yaml").read_text(encoding="utf-8").replace(
        "max_duplicate_share: 0.02", "max_duplicate_share: 0.05"), encoding="utf-8")
    ok = runner.invoke(app, ["link", "dedupe", "--config", str(cfg), "--file", str(file), "--out", str(out),
                             "--json"])
    assert ok.exit_code == 0, ok.output
    summary = json.loads(ok.stdout[ok.stdout.index("{"):])
    assert summary["mode"] == "dedupe" and 0 < summary["duplicate_share"] < 0.05 and out.exists()


def test_register_roles_link_says_which_rules_could_not_apply(tmp_path, synthetic):
    reg, records, _truth = synthetic
    left = _csv(reg.select(["person_id", "household_id", "name", "id_number", "sex", "birth_date",
                            "village_code"]).rename_columns(
        ["人编号", "户编号", "姓名", "证件号码", "性别", "出生日期", "行政村代码"]), tmp_path / "l.csv")
    # a list without place or phone: the township rules of the defaults cannot apply
    right = _csv(records.select(["record_id", "name", "sex", "birth_date"]).rename_columns(
        ["结算单号", "姓名", "性别", "出生日期"]), tmp_path / "r.csv")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("""name: noplace
left: {id: 人编号, household_id: 户编号, columns: {id_number: 证件号码, name: 姓名, sex: 性别, birth_date: 出生日期,
       region_code: 行政村代码}}
right: {id: 结算单号, columns: {name: 姓名, sex: 性别, birth_date: 出生日期}}
probabilistic: {training: {u_max_pairs: 50000}}
""", encoding="utf-8")
    result = runner.invoke(app, ["link", "--config", str(cfg), "--left", str(left), "--right", str(right),
                                 "--out", str(tmp_path / "o.csv"), "--lang", "en"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "warning: blocking rule 'l.name_py = r.name_py AND l.township = r.township' not used" in text
    assert "comparison 'region' not used" in text
    assert (tmp_path / "o.review.xlsx").exists()


def test_dedupe_of_the_register_in_a_data_folder(tmp_path):
    """A synthetic county imported as a county office would; one member registered again in another
    household under another (valid) ID number is found, explained, and the output masks ID numbers."""
    import pyarrow.parquet as pq

    from county_data import import_county
    from jingzhun.ids import check_character
    from jingzhun.synth import generate

    county = tmp_path / "county"
    generate(county, persons=300, months=1, fmt="parquet")
    members = pq.read_table(county / "2025-01" / "member.parquet")
    first = members.slice(0, 1).to_pylist()[0]
    number = first["证件号码"][:14] + ("999" if first["证件号码"][14:17] != "999" else "997")
    twin = {**first, "人编号": first["人编号"] + "9", "证件号码": number + check_character(number),
            "户编号": members.column("户编号")[-1].as_py()}
    pq.write_table(pa.concat_tables([members, pa.Table.from_pylist([twin], schema=members.schema)]),
                   county / "2025-01" / "member.parquet")
    data = import_county(county, tmp_path / "data", ["2025-01"])
    cfg = tmp_path / "dedupe.yaml"
    cfg.write_text((CONFIG_DIR / "register_dedupe.yaml").read_text(encoding="utf-8").replace(
        "max_duplicate_share: 0.02", "max_duplicate_share: 0.05") + "training: {u_max_pairs: 100000}\n",
        encoding="utf-8")
    out = tmp_path / "dups.xlsx"
    result = runner.invoke(app, ["link", "dedupe", "--config", str(cfg), "--data", str(data), "--out", str(out),
                                 "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    assert summary["records_left"] == members.num_rows + 1 and out.exists()
    import fastexcel

    rows = fastexcel.read_excel(str(out)).load_sheet("比对结果 links", dtypes="string").to_arrow().to_pylist()
    pair = next(r for r in rows if {r["记录编号 / record id"], r["候选编号 / candidate id"]}
                == {first["人编号"], twin["人编号"]})
    assert pair["结果 / band"] in ("比中 accepted", "待复核 review")
    assert "*" in (pair["证件号码 候选 / candidate"] or pair["证件号码 记录 / record"])
