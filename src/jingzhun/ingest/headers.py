"""Header detection: find the header row(s) under any title rows, map columns to catalogue fields, and
recognise the dataset from its headers.

Rules
- Header texts are compared after :func:`normalise_header` (spaces, line breaks, required-field stars
  removed; full-width brackets made ASCII; lower case) against every ``Field.headers()`` text.
- The header row is the row of the first :data:`HEAD_ROWS` whose cells match the most known headers;
  rows above it (titles such as "XX县2025年1月医保结算明细") are ignored.
- Two-row headers with merged cells ("收入情况" over "工资性收入 | 生产经营性收入"): the row above or below
  the best row joins it when that matches more columns; each column takes the lower cell's text when
  it is a known header, else the upper one's (a vertically merged cell only has text in the upper row).
- Columns may come in any order; the first column mapped to a field wins, later duplicates and unknown
  columns are *extra* columns (kept in ``_extra``).
- Without ``--dataset`` the dataset is the one whose required fields are all present and which matches
  the most columns; a tie is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from jingzhun.catalog import DATASETS, Dataset
from jingzhun.errors import FileLevelError, Location

_DROP = re.compile(r"[\s\u3000*★※:：]+")
_TRANSLATE = str.maketrans("（）【】［］", "()[][]")


def normalise_header(text: object) -> str:
    """Canonical form of a header cell for matching.

    >>> normalise_header(" 务工时间 （月）\\n")
    '务工时间(月)'
    >>> normalise_header("*证件号码"), normalise_header("ID Number")
    ('证件号码', 'idnumber')
    """
    if text is None:
        return ""
    return _DROP.sub("", str(text).translate(_TRANSLATE)).lower()


def header_lookup(ds: Dataset) -> dict[str, str]:
    """Normalised header text → field name; the Chinese header wins over an alias of another field."""
    out: dict[str, str] = {}
    for f in ds.fields:
        out.setdefault(normalise_header(f.zh), f.name)
    for f in ds.fields:
        for h in f.headers():
            out.setdefault(normalise_header(h), f.name)
    return out


@dataclass
class HeaderMatch:
    """Where the header is and what each column means, for one dataset."""

    dataset: Dataset
    header_rows: list[int]  # user row numbers of the header row(s)
    labels: list[str]  # per column: the header text as in the file
    columns: dict[str, int]  # field name → column index
    extras: list[int] = field(default_factory=list)

    @property
    def last_header_row(self) -> int:
        return self.header_rows[-1]

    def label_of(self, field_name: str) -> str:
        return self.labels[self.columns[field_name]]


def _cells(row: list[str | None]) -> list[str]:
    return [normalise_header(c) for c in row]


def _row_score(row: list[str], known: set[str]) -> int:
    return sum(1 for c in row if c and c in known)


def _combine(top: list[str | None], bottom: list[str | None], known: set[str]) -> list[str | None]:
    out = []
    for t, b in zip(top, bottom, strict=True):
        nb, nt = normalise_header(b), normalise_header(t)
        if nb and nb in known:
            out.append(b)
        elif nt and nt in known:
            out.append(t)
        else:
            out.append(b if nb else t)
    return out


def find_header(
    head: list[list[str | None]], head_rows: list[int], candidates: list[Dataset]
) -> tuple[list[int], list[str | None]] | None:
    """(user rows of the header, column labels) or None when no row looks like a header."""
    known: set[str] = set()
    for ds in candidates:
        known.update(header_lookup(ds))
    if not head:
        return None
    scores = [_row_score(_cells(r), known) for r in head]
    best = max(range(len(head)), key=lambda i: (scores[i], -i))
    if scores[best] < 2 and not (scores[best] == 1 and len([c for c in head[best] if c]) == 1):
        return None
    rows, labels = [best], list(head[best])
    best_score = scores[best]
    for top, bottom in ((best - 1, best), (best, best + 1)):
        if top < 0 or bottom >= len(head):
            continue
        combined = _combine(head[top], head[bottom], known)
        score = _row_score(_cells(combined), known)
        if score > best_score:
            rows, labels, best_score = [top, bottom], combined, score
    return [head_rows[i] for i in rows], labels


def match_dataset(ds: Dataset, labels: list[str | None]) -> tuple[dict[str, int], list[int]]:
    """Field name → column index, and the extra column indexes."""
    lookup = header_lookup(ds)
    columns: dict[str, int] = {}
    extras: list[int] = []
    for i, label in enumerate(labels):
        name = lookup.get(normalise_header(label))
        if name and name not in columns:
            columns[name] = i
        else:
            extras.append(i)
    return columns, extras


def _label_text(labels: list[str | None]) -> list[str]:
    out = []
    for i, label in enumerate(labels):
        text = str(label).strip() if label is not None and str(label).strip() else f"第{i + 1}列"
        out.append(text)
    return out


def detect(
    head: list[list[str | None]],
    head_rows: list[int],
    file: str,
    sheet: str | None,
    dataset: str | None = None,
) -> HeaderMatch:
    """Find the header and the dataset of a sheet; raise :class:`FileLevelError` when it cannot."""
    where = Location(file=file, sheet=sheet)
    candidates = [DATASETS[dataset]] if dataset else list(DATASETS.values())
    found = find_header(head, head_rows, candidates)
    if found is None:
        if dataset:
            ds = DATASETS[dataset]
            raise FileLevelError(
                f"找不到表头行，缺少必填列 {'、'.join(f.zh for f in ds.required)} "
                f"(no header row found: none of the columns of dataset {dataset!r})",
                where,
            )
        raise FileLevelError(
            "无法识别数据集：找不到已知表头 (unknown dataset: no known header row found)",
            where,
            hint="use the template headers (jingzhun template) or pass --dataset",
        )
    rows, raw_labels = found
    labels = _label_text(raw_labels)
    scored = []
    for ds in candidates:
        columns, extras = match_dataset(ds, raw_labels)
        missing = [f for f in ds.required if f.name not in columns]
        scored.append((ds, columns, extras, missing))
    complete = [s for s in scored if not s[3]]
    if not complete:
        ds, columns, _extras, missing = max(scored, key=lambda s: (len(s[0].required) - len(s[3]), len(s[1])))
        names = "、".join(f.zh for f in missing)
        names_en = ", ".join(f.name for f in missing)
        if dataset:
            raise FileLevelError(
                f"缺少必填列：{names} (missing required column(s): {names_en})",
                Location(file=file, sheet=sheet, row=rows[-1]),
                hint=f"dataset {ds.name} ({ds.zh})",
            )
        raise FileLevelError(
            f"无法识别数据集：最接近的是 {ds.name}（{ds.zh}），但缺少必填列 {names} "
            f"(unknown dataset: closest is {ds.name}, missing required column(s) {names_en})",
            Location(file=file, sheet=sheet, row=rows[-1]),
            hint="pass --dataset or fix the headers",
        )
    complete.sort(key=lambda s: len(s[1]), reverse=True)
    if len(complete) > 1 and len(complete[0][1]) == len(complete[1][1]):
        tied = [s[0].name for s in complete if len(s[1]) == len(complete[0][1])]
        raise FileLevelError(
            f"数据集不明确：表头同样符合 {'、'.join(tied)} (ambiguous dataset: the headers fit "
            f"{', '.join(tied)} equally)",
            Location(file=file, sheet=sheet, row=rows[-1]),
            hint="pass --dataset",
        )
    ds, columns, extras, _ = complete[0]
    extras = [
        i for i in extras if (raw_labels[i] is not None and str(raw_labels[i]).strip()) or i < len(raw_labels)
    ]
    return HeaderMatch(ds, rows, labels, columns, extras)
