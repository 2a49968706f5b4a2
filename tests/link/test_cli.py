"""The `jingzhun link`, `jingzhun link review` and `jingzhun hash-ids` commands on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from jingzhun.cli.main import app
from jingzhun.link.io import read_table, write_table

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config" / "linkage"
runner = CliRunner()


def _files(tmp_path: Path, synthetic) -> tuple[Path, Path]:
    reg, records, _truth = synthetic
    left = reg.rename_columns(
        ["人编号", "户编号", "姓名", "证件号码", "性别", "出生日期", "行政村代码", "联系电话"]
    )
    left = left.set_column(
        5, "出生日期", pa.array([d.strftime("%Y%m%d") for d in reg.column("birth_date").to_pylist()])
    )
    right = records.select(["record_id", "id_number", "name", "sex", "birth_date", "region_code", "phone"])
    right = right.rename_columns(
        ["结算单号", "证件号码", "姓名", "性别", "出生日期", "住址区划代码", "联系电话"]
    )
    left_path, right_path = tmp_path / "花名册.csv", tmp_path / "医保.xlsx"
    buf = pa.BufferOutputStream()  # written in GB18030, as many departments export
    pacsv.write_csv(left, buf)
    left_path.write_bytes(buf.getvalue().to_pybytes().decode("utf-8").encode("gb18030"))
    write_table(right, right_path)
    return left_path, right_path


def _config(tmp_path: Path) -> Path:
    text = (CONFIG_DIR / "adhoc_example.yaml").read_text(encoding="utf-8")
    path = tmp_path / "cfg.yaml"
    path.write_text(
        text.replace("probabilistic:\n", "probabilistic:\n  training: {u_max_pairs: 100000}\n").replace(
            "thresholds: {accept: 0.95, review: 0.5}", "thresholds: {accept: 0.999999999, review: 0.2}"
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def linked(tmp_path_factory, synthetic):
    tmp = tmp_path_factory.mktemp("cli")
    left, right = _files(tmp, synthetic)
    out = tmp / "结果.xlsx"
    result = runner.invoke(
        app,
        [
            "link",
            "--config",
            str(_config(tmp)),
            "--left",
            str(left),
            "--right",
            str(right),
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    return tmp, out, json.loads(result.stdout[result.stdout.index("{") :])


def test_link_writes_masked_links_and_a_summary(linked, synthetic):
    _tmp, out, summary = linked
    assert summary["records"] == synthetic[1].num_rows
    assert summary["linked_exact"] >= 70
    assert (
        summary["linked_exact"] + summary["linked_probabilistic"] + summary["in_review"] + summary["unlinked"]
        == summary["records"]
    )
    table = read_table(out)
    assert {"record_id", "left_id", "method", "score", "band", "right_name", "right_id_number"} <= set(
        table.column_names
    )
    ids = [v for v in table.column("right_id_number").to_pylist() if v]
    assert ids and all("*" in v for v in ids)
    assert Path(summary["review_file"]).exists()


def test_review_list_accept_and_not_listed_again(linked):
    tmp, _out, summary = linked
    review_file = summary["review_file"]
    db = f"sqlite:///{tmp / 'ops.sqlite'}"
    listed = runner.invoke(
        app, ["link", "review", "list", "--review", review_file, "--db", db, "--json", "--limit", "1000"]
    )
    assert listed.exit_code == 0, listed.output
    items = json.loads(listed.stdout)
    assert items
    first = items[0]
    accepted = runner.invoke(
        app,
        [
            "link",
            "review",
            "accept",
            first["fingerprint"][:12],
            first["person_id"],
            "--user",
            "clerk1",
            "--note",
            "同一人",
            "--review",
            review_file,
            "--db",
            db,
        ],
    )
    assert accepted.exit_code == 0, accepted.output
    again = json.loads(
        runner.invoke(
            app, ["link", "review", "list", "--review", review_file, "--db", db, "--json", "--limit", "1000"]
        ).stdout
    )
    assert (first["fingerprint"], first["person_id"]) not in {
        (i["fingerprint"], i["person_id"]) for i in again
    }
    assert len(again) == len(items) - 1


def test_link_without_required_options_shows_help():
    result = runner.invoke(app, ["link", "--config", "x.yaml"])
    assert result.exit_code != 0


def test_hash_ids_round_trip(tmp_path):
    key = tmp_path / "shared.key"
    made = runner.invoke(app, ["hash-ids", "--new-key", str(key)])
    assert made.exit_code == 0 and key.exists()
    src = tmp_path / "feed.csv"
    src.write_text(
        "记录编号,身份证号,姓名\nA1,11010519491231002x,张三\nA2,110105491231002,张三\n", encoding="utf-8"
    )
    dst = tmp_path / "feed_hashed.parquet"
    result = runner.invoke(app, ["hash-ids", "--key-file", str(key), str(src), str(dst), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["rows"] == 2 and info["distinct_hashed"] == 1
    table = pq.read_table(dst)
    digests = table.column("身份证号").to_pylist()
    assert digests[0] == digests[1] and len(digests[0]) == 64
    assert "11010519491231002" not in dst.read_bytes().decode("latin-1")


def test_review_list_reads_the_latest_run_of_a_data_folder(linked):
    tmp, _out, summary = linked
    folder = tmp / "data2"
    (folder / "runs" / "r1").mkdir(parents=True)
    (folder / "runs" / "r1" / "review.parquet").write_bytes(Path(summary["review_file"]).read_bytes())
    listed = runner.invoke(
        app, ["link", "review", "list", "--data", str(folder), "--json", "--limit", "1000"]
    )
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.stdout)) == pq.read_table(summary["review_file"]).num_rows
    empty = runner.invoke(app, ["link", "review", "list", "--data", str(tmp / "nothing")])
    assert empty.exit_code != 0
