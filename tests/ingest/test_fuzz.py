"""Property-based fuzzing of the readers, the ID functions and the policy parser (hypothesis).

Whatever bytes a department sends, an import either refuses the file with a :class:`FileLevelError`
or accounts for every row (rows in = accepted + quarantined) and stores only valid ID numbers; the ID
functions never raise on any text; the policy parser raises only its own located error. The number
of examples per property is ``JINGZHUN_FUZZ_EXAMPLES`` (a few in ``make test``; ``make harden`` runs
hundreds, see docs/RELIABILITY.md).
"""

from __future__ import annotations

import contextlib
import os
import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.ingest.hostile import CLAIM_HEADER, FLAVOURS, claim_row, synthetic_ids, write_xlsx

from jingzhun import ids
from jingzhun.errors import FileLevelError, PolicyError
from jingzhun.ingest import import_file

EXAMPLES = int(os.environ.get("JINGZHUN_FUZZ_EXAMPLES", "6"))
FAST = settings(max_examples=EXAMPLES * 20, deadline=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

_IDS = synthetic_ids(random.Random(3), 40)
_ROWS = [claim_row(random.Random(i), i, _IDS[i], i + 2) for i in range(12)]
_CSV = "\r\n".join([",".join(CLAIM_HEADER), *[",".join(str(c).replace(",", "") for c in r.cells) for r in _ROWS]])

# pieces that break readers: quotes, delimiters, line breaks, NUL, BOMs, Excel's damage, odd Unicode
_PIECES = st.sampled_from(
    ['"', '""', ",", ";", "\t", "\n", "\r", "\r\n", "\x00", "\ufeff", "1.10105E+17", "110105194912310000",
     "=\"", "'", "，", "　", "\u2028", "𠀀", "\x1a", "9" * 40, "12,34", "2024", "#N/A", "<c r=\"A1\">"]
)  # fmt: skip


def _accounts_for_every_row(data: Path, path: Path) -> None:
    try:
        result = import_file(data, path, dataset="medical_claim", period="2025-01")
    except FileLevelError:
        return
    assert result.rows_in == result.rows_accepted + result.rows_quarantined
    if result.status == "imported" and result.rows_accepted:
        import duckdb

        own = data / "datasets" / "medical_claim" / "period=2025-01" / f"{result.import_id}.parquet"
        stored = duckdb.sql(f"SELECT id_number FROM read_parquet('{own}') WHERE id_number IS NOT NULL")
        for (value,) in stored.fetchall():
            assert ids.is_valid(value) and not ids.looks_excel_rounded(value), value


@SLOW
@given(
    edits=st.lists(st.tuples(st.integers(0, len(_CSV)), st.integers(0, 3), _PIECES), max_size=8),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]),
)
def test_csv_reader_never_crashes_or_loses_rows(tmp_path_factory, edits, encoding) -> None:
    text = _CSV
    for at, cut, piece in sorted(edits, reverse=True):
        text = text[:at] + piece + text[at + cut :]
    work = tmp_path_factory.mktemp("csv")
    path = work / "claims.csv"
    try:
        path.write_bytes(text.encode(encoding))
    except UnicodeEncodeError:
        return
    _accounts_for_every_row(work / "data", path)


@SLOW
@given(
    flavour=st.sampled_from(FLAVOURS),
    cells=st.lists(
        st.tuples(
            st.integers(1, 12), st.integers(0, 6), st.one_of(st.floats(allow_nan=False), st.text(max_size=20))
        ),
        max_size=10,
    ),
    damage=st.lists(st.tuples(st.integers(0, 4000), st.binary(max_size=6)), max_size=3),
)
def test_xlsx_reader_never_crashes_or_loses_rows(tmp_path_factory, flavour, cells, damage) -> None:
    grid = [list(CLAIM_HEADER)] + [list(r.cells) for r in _ROWS]
    for r, c, value in cells:
        grid[r][c] = value
    work = tmp_path_factory.mktemp("xlsx")
    path = write_xlsx(work / "claims.xlsx", [("Sheet1", grid)], flavour)
    if damage:
        import zipfile

        with zipfile.ZipFile(path) as z:
            parts = {n: z.read(n) for n in z.namelist()}
        xml = parts["xl/worksheets/sheet1.xml"]
        for at, junk in damage:
            at = min(at, len(xml))
            xml = xml[:at] + junk + xml[at:]
        parts["xl/worksheets/sheet1.xml"] = xml
        with zipfile.ZipFile(path, "w") as z:
            for n, b in parts.items():
                z.writestr(n, b)
    _accounts_for_every_row(work / "data", path)


@FAST
@given(st.text(max_size=30) | st.sampled_from(_IDS) | st.from_regex(r"\d{15,18}X?", fullmatch=True))
def test_id_functions_answer_every_text(text: str) -> None:
    result = ids.check(text)
    assert result.valid == (result.reason is None)
    if result.valid:
        assert result.normalised is not None and len(result.normalised) == 18
        assert ids.check_character(result.normalised[:17]) == result.normalised[17]
        assert ids.mask(result.normalised).count("*") == 10
    ids.looks_excel_rounded(text)
    ids.mask(text)


_POLICY_PIECES = st.sampled_from(
    ["sum(", "count(", "any(", "all(", ")", "where", "last", "12", "months", "==", ">=", "and", "or", "not",
     "member.age", "household.size", "'脱贫户'", "param.x", ",", "(", "in", "[", "]", "this year", "1e999",
     "\"", "'", "\x00", "𠀀"]
)  # fmt: skip


@FAST
@given(st.lists(_POLICY_PIECES, max_size=12).map(" ".join) | st.text(max_size=40))
def test_policy_parser_raises_only_its_own_error(text: str) -> None:
    from jingzhun.policy.parser import parse

    with contextlib.suppress(PolicyError):
        parse(text)
