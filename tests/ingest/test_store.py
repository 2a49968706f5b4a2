"""Storage, ledger, re-import semantics, atomicity, file-level errors and rejects."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import openpyxl
import pytest
from tests.ingest.helpers import (
    CLAIM_HEADER,
    MEMBER_HEADER,
    bad_check_digit,
    claim_rows,
    member_rows,
    write_csv,
)

from jingzhun.errors import FileLevelError, NotFound
from jingzhun.ingest import (
    current_files,
    export_rejects,
    import_file,
    import_files,
    ledger,
    list_imports,
    sweep_orphans,
)

ROOT = Path(__file__).resolve().parents[2]


def _files(data: Path) -> list[Path]:
    return sorted(p for sub in ("datasets", "quarantine") for p in (data / sub).rglob("*") if p.is_file())


def test_ledger_row_and_layout(tmp_path: Path, data: Path) -> None:
    f = write_csv(
        tmp_path / "2025-01" / "claims.csv", [CLAIM_HEADER, *claim_rows(3), ["x", "", "", "", "", "", ""]]
    )
    r = import_file(data, f, user="clerk")
    assert r.period == "2025-01"  # from the folder name
    (rec,) = list_imports(data)
    assert (rec.id, rec.file_name, rec.dataset, rec.period, rec.imported_by) == (
        r.import_id,
        "claims.csv",
        "medical_claim",
        "2025-01",
        "clerk",
    )
    assert (rec.rows_in, rec.rows_accepted, rec.rows_quarantined) == (4, 3, 1)
    assert len(rec.content_hash) == 64 and rec.status == "done"
    assert _files(data) == [
        data / "datasets" / "medical_claim" / "period=2025-01" / f"{r.import_id}.parquet",
        data / "quarantine" / f"{r.import_id}.parquet",
    ]


def test_reimport_same_content_is_a_no_op(tmp_path: Path, data: Path) -> None:
    f = write_csv(tmp_path / "claims.csv", [CLAIM_HEADER, *claim_rows(3)])
    first = import_file(data, f, period="2025-01")
    before = _files(data)
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(f.read_bytes())
    for again in (
        import_file(data, f, period="2025-01"),
        import_file(data, copy, period="2025-01"),
        import_file(data, f, period="2025-01", dataset="medical_claim"),
    ):
        assert again.status == "already_imported" and again.import_id == first.import_id
        assert again.rows_accepted == 3
    assert _files(data) == before and len(list_imports(data)) == 1
    # the same content for another period is another import
    assert import_file(data, f, period="2025-02").status == "imported"


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"\n\n  \n", "empty"),
        ("notes.txt", "这不是表格，只是一段说明文字。\n第二行。\n".encode(), "unknown dataset"),
        ("binary.csv", b"\x00\x01\x02\x03" * 100, "binary"),
        ("fake.xlsx", b"PK not really a zip", "not a valid"),
        ("picture.png", b"\x89PNG\r\n", "not a spreadsheet"),
    ],
)
def test_file_level_errors_store_nothing(
    tmp_path: Path, data: Path, name: str, content: bytes, message: str
) -> None:
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(FileLevelError, match=message) as err:
        import_file(data, f, period="2025-01")
    assert name in str(err.value)
    assert list_imports(data) == [] and _files(data) == []


def test_missing_required_column_and_wrong_dataset(tmp_path: Path, data: Path) -> None:
    header = [h for h in CLAIM_HEADER if h != "个人自付金额"]
    f = write_csv(tmp_path / "c.csv", [header, *[r[:-1] for r in claim_rows(2)]])
    with pytest.raises(FileLevelError, match="个人自付金额"):
        import_file(data, f, period="2025-01")
    g = write_csv(tmp_path / "g.csv", [CLAIM_HEADER, *claim_rows(2)])
    with pytest.raises(FileLevelError, match="missing required column") as err:
        import_file(data, g, period="2025-01", dataset="member")
    assert "人编号" in str(err.value)
    assert list_imports(data) == [] and _files(data) == []


def test_period_missing_or_malformed(tmp_path: Path, data: Path) -> None:
    f = write_csv(tmp_path / "claims.csv", [CLAIM_HEADER, *claim_rows(1)])
    with pytest.raises(FileLevelError, match="period missing"):
        import_file(data, f)
    with pytest.raises(FileLevelError, match="YYYY-MM"):
        import_file(data, f, period="2025-1")
    named = write_csv(tmp_path / "XX县2025年3月医保结算明细.csv", [CLAIM_HEADER, *claim_rows(1)])
    assert import_file(data, named).period == "2025-03"


def test_folder_import_skips_generator_extras(tmp_path: Path, data: Path) -> None:
    src = tmp_path / "synth"
    write_csv(src / "2025-01" / "member.csv", [MEMBER_HEADER, *member_rows(3)])
    write_csv(src / "2025-01" / "medical_claim.csv", [CLAIM_HEADER, *claim_rows(2)])
    write_csv(src / "2025-02" / "medical_claim.csv", [CLAIM_HEADER, *claim_rows(2, start=10)])
    write_csv(
        src / "regions.csv",
        [["code", "name", "level", "parent_code"], ["520000000000", "省", "province", ""]],
    )
    (src / "manifest.json").write_text("{}")
    write_csv(src / "truth" / "x.csv", [CLAIM_HEADER, *claim_rows(1)])
    (src / "README.txt").write_text("notes")
    results = import_files(data, [src])
    assert sorted((Path(r.file).parent.name, r.dataset, r.status) for r in results) == [
        ("2025-01", "medical_claim", "imported"),
        ("2025-01", "member", "imported"),
        ("2025-02", "medical_claim", "imported"),
    ]


def test_registry_extract_replaces_feed_accumulates(tmp_path: Path, data: Path) -> None:
    jan = import_file(
        data, write_csv(tmp_path / "m1.csv", [MEMBER_HEADER, *member_rows(3)]), period="2025-01"
    )
    mar = import_file(
        data, write_csv(tmp_path / "m3.csv", [MEMBER_HEADER, *member_rows(4)]), period="2025-03"
    )
    assert current_files(data, "member", "2024-12") == []
    assert [p.stem for p in current_files(data, "member", "2025-02")] == [jan.import_id]
    assert [p.stem for p in current_files(data, "member", "2025-06")] == [mar.import_id]
    # a corrected extract for the same period: the newest import wins, both files are kept
    again = import_file(
        data, write_csv(tmp_path / "m3b.csv", [MEMBER_HEADER, *member_rows(5)]), period="2025-03"
    )
    assert [p.stem for p in current_files(data, "member", "2025-03")] == [again.import_id]
    assert len(list(ledger.current_imports(data, "member", "2025-03"))) == 1
    # an extract whose rows were all rejected does not replace a good one
    bad = [MEMBER_HEADER, ["P1", "H1", "甲", bad_check_digit(1), "男", "1949-12-31", "户主"]]
    rejected = import_file(data, write_csv(tmp_path / "m4.csv", bad), period="2025-04")
    assert rejected.rows_accepted == 0
    assert [p.stem for p in current_files(data, "member", "2025-04")] == [again.import_id]
    # feeds: every increment up to the period, oldest first
    c1 = import_file(data, write_csv(tmp_path / "c1.csv", [CLAIM_HEADER, *claim_rows(2)]), period="2025-01")
    c2 = import_file(
        data, write_csv(tmp_path / "c2.csv", [CLAIM_HEADER, *claim_rows(2, 5)]), period="2025-02"
    )
    assert [p.stem for p in current_files(data, "medical_claim", "2025-01")] == [c1.import_id]
    assert [p.stem for p in current_files(data, "medical_claim", "2025-02")] == [c1.import_id, c2.import_id]


def test_failed_ledger_commit_leaves_nothing(tmp_path: Path, data: Path, monkeypatch) -> None:
    f = write_csv(tmp_path / "claims.csv", [CLAIM_HEADER, *claim_rows(3), ["bad", "", "", "", "", "", ""]])

    def boom(*_a, **_k):
        raise RuntimeError("database went away")

    monkeypatch.setattr(ledger, "record_import", boom)
    with pytest.raises(RuntimeError, match="went away"):
        import_file(data, f, period="2025-01")
    assert _files(data) == [] and list_imports(data) == []
    monkeypatch.undo()
    assert import_file(data, f, period="2025-01").status == "imported"


@pytest.mark.parametrize("where", ["record_import", "copy"])
def test_killed_import_leaves_nothing_visible(tmp_path: Path, data: Path, where: str) -> None:
    """A process killed (SIGKILL) in the middle of an import leaves the ledger and current files as they
    were; what it left on disk is invisible and swept."""
    earlier = import_file(
        data, write_csv(tmp_path / "c0.csv", [CLAIM_HEADER, *claim_rows(2)]), period="2025-01"
    )
    f = write_csv(tmp_path / "claims.csv", [CLAIM_HEADER, *claim_rows(50, 100)])
    script = textwrap.dedent(f"""
        import os, signal
        from jingzhun.ingest import api, ledger
        def die(*a, **k):
            os.kill(os.getpid(), signal.SIGKILL)
        if {where!r} == "record_import":
            ledger.record_import = die
        else:
            real = api.atomic_file
            import contextlib
            @contextlib.contextmanager
            def dying(target):
                with real(target) as tmp:
                    tmp.write_bytes(b"PAR1 half a file")
                    die()
                    yield tmp
            api.atomic_file = dying
        api.import_file({str(data)!r}, {str(f)!r}, period="2025-01")
    """)
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert proc.returncode == -9, proc.stderr.decode()
    assert [r.id for r in list_imports(data)] == [earlier.import_id]
    assert [p.stem for p in current_files(data, "medical_claim", "2025-01")] == [earlier.import_id]
    sweep_orphans(data, min_age_s=0)
    assert [p.stem for p in _files(data)] == [earlier.import_id]
    # and the same file imports cleanly afterwards
    assert import_file(data, f, period="2025-01").status == "imported"


def test_rejects_workbook_for_the_sender(tmp_path: Path, data: Path) -> None:
    rows = [
        ["XX县2025年1月医保结算明细"],
        [*CLAIM_HEADER, "备注"],
        ["1", "甲", bad_check_digit(1), "2025-01-05", "住院", "1", "1", "ok"],
        ["2", "乙", "4.52123E+17", "2025-01-05", "住院", "1", "1", "科学计数"],
        ["3", "丙", "", "不是日期", "急诊", "1", "1", ""],
    ]
    r = import_file(data, write_csv(tmp_path / "c.csv", rows), period="2025-01")
    assert r.rows_quarantined == 2
    out = tmp_path / "退回" / "rejects.xlsx"
    assert export_rejects(data, r.import_id, out) == 2
    ws = openpyxl.load_workbook(out).active
    got = [[c.value for c in row] for row in ws.iter_rows()]
    assert got[0] == [*CLAIM_HEADER, "备注", "错误原因"]
    assert got[1][2] == "4.52123E+17" and got[1][7] == "科学计数"
    assert got[1][8].startswith("第 4 行") and "无法恢复" in got[1][8]
    assert "结算日期「不是日期」" in got[2][8] and "就诊类型「急诊」" in got[2][8]
    with pytest.raises(NotFound):
        export_rejects(data, "imp-nope", out)
