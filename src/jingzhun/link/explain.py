"""What a clerk reads of an any-columns linkage (:mod:`jingzhun.link.anylink`): an Excel workbook with
the links and the review queue (both records' values as typed, side by side with each comparison's level
and match weight), the model's parameters and the run's warnings; a match-weight chart (ECharts, the copy
the web app vendors, inlined: the file opens offline); and decisions typed into the review sheet read back.

Headers are in Simplified Chinese with the English after a slash, so the same file serves both.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from jingzhun.errors import FileLevelError, Location
from jingzhun.store import atomic_file

#: Fixed columns of the links and review sheets: (column, header).
_HEAD = {
    "list": "比对名称 / list",
    "right_id": "记录编号 / record id",
    "left_id": "候选编号 / candidate id",
    "band": "结果 / band",
    "method": "方式 / method",
    "probability": "匹配概率 / probability",
    "match_weight": "匹配权重 / match weight",
    "prior_weight": "先验权重 / prior weight",
    "second_weight": "次优候选权重 / second candidate weight",
    "fingerprint": "记录指纹 / fingerprint",
    "group": "重复组 / duplicate group",
}
BAND_LABELS = {"accepted": "比中 accepted", "review": "待复核 review", "rejected": "未达阈值 rejected",
               "unlinked": "无候选 unlinked"}
DECISION_HEADER = "决定 / decision"
NOTE_HEADER = "备注 / note"
#: What a clerk may type as a decision, and what it means.
DECISION_WORDS = {"accept": "accept", "接受": "accept", "确认": "accept", "是": "accept", "y": "accept",
                  "yes": "accept", "reject": "reject", "否决": "reject", "拒绝": "reject", "否": "reject",
                  "n": "reject", "no": "reject"}
_LEVELS_ZH = {
    "exact": "完全相同", "null": "一方缺失", "else": "不同", "same pinyin": "拼音相同",
    "same pinyin or same words in another order": "拼音相同或词序不同", "one digit or swap": "一位不同或颠倒",
    "within a month": "相差一个月内", "within a year": "相差一年内", "within 10 years": "相差十年内",
    "one character or swap": "一个字符不同或颠倒", "same village": "同村", "same township": "同乡镇",
    "same county": "同县", "two random records match": "两条随机记录为同一人",
}


def level_label(label: str | None) -> str:
    """A comparison level for people: Chinese, then the English after a slash.

    >>> level_label("exact"), level_label("Jaro-Winkler >= 0.92"), level_label("swapped with surname")
    ('完全相同 / exact', '相似度 ≥ 0.92 / Jaro-Winkler >= 0.92', '与 surname 互换 / swapped with surname')
    """
    if not label:
        return ""
    if label in _LEVELS_ZH:
        return f"{_LEVELS_ZH[label]} / {label}"
    if label.startswith("Jaro-Winkler >= "):
        return f"相似度 ≥ {label.split()[-1]} / {label}"
    if label.startswith("swapped with "):
        return f"与 {label[len('swapped with '):]} 互换 / {label}"
    if label.startswith("<= ") and label.endswith(" edits"):
        return f"至多 {label.split()[1]} 处不同 / {label}"
    return label


_SIDE = {"right": "记录 / record", "left": "候选 / candidate", "level": "比较级别 / level",
         "weight": "权重 / weight"}


def fields_of(links: pa.Table) -> list[str]:
    """The fields of a links table (``<field>__level`` columns), in order."""
    return [c[: -len("__level")] for c in links.column_names if c.endswith("__level")]


def header(column: str, titles: dict[str, str] | None = None) -> str:
    """The sheet header of a links column; ``titles``: a field's label (``label:`` in the configuration)
    shown instead of its name.

    >>> header("band"), header("right surname"), header("surname__weight", {"surname": "姓"})
    ('结果 / band', 'surname 记录 / record', '姓 权重 / weight')
    """
    titles = titles or {}
    if column in _HEAD:
        return _HEAD[column]
    for part in ("right", "left"):
        if column.startswith(part + " "):
            field = column[len(part) + 1:]
            return f"{titles.get(field, field)} {_SIDE[part]}"
    for part in ("level", "weight"):
        if column.endswith("__" + part):
            field = column[: -len(part) - 2]
            return f"{titles.get(field, field)} {_SIDE[part]}"
    return column


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:
        return ""
    return value if isinstance(value, int | float) else str(value)


def _sheet(book: Any, name: str, table: pa.Table, *, decision: bool = False,
           titles: dict[str, str] | None = None) -> None:
    sheet = book.add_worksheet(name)
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    columns = table.column_names
    headers = [header(c, titles) for c in columns]
    if decision:
        headers = [DECISION_HEADER, NOTE_HEADER, *headers]
    sheet.write_row(0, 0, headers, bold)
    offset = 2 if decision else 0
    for i, row in enumerate(table.to_pylist(), start=1):
        values = [BAND_LABELS.get(v, v) if c == "band" else level_label(v) if c.endswith("__level") else v
                  for c, v in row.items()]
        sheet.write_row(i, offset, [_cell(v) for v in values])
    sheet.freeze_panes(1, offset + 3)
    sheet.set_column(0, len(headers), 14)
    # weights: red when against the match, green when for it
    n = table.num_rows
    if n:
        for j, c in enumerate(columns):
            if c.endswith("__weight") or c == "match_weight":
                sheet.conditional_format(1, j + offset, n, j + offset, {
                    "type": "3_color_scale", "min_color": "#F8696B", "mid_type": "num", "mid_value": 0,
                    "mid_color": "#FFFFFF", "max_color": "#63BE7B"})
    if decision and n:
        sheet.data_validation(1, 0, n, 0, {"validate": "list", "source": ["接受", "否决", "accept", "reject"],
                                           "ignore_blank": True})


def write_workbook(path: str | Path, links: pa.Table, review: pa.Table, model: pa.Table,
                   summary: dict[str, Any], warnings: list[str], titles: dict[str, str] | None = None) -> Path:
    """Write the workbook atomically: 比对结果 (every row), 待复核 (the review band, with a decision
    column), 模型参数 (m, u and weight of every level) and 说明 (counts, rules and warnings)."""
    import xlsxwriter

    path = Path(path)
    with atomic_file(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp))
        _sheet(book, "待复核 review", review, decision=True, titles=titles)
        _sheet(book, "比对结果 links", links, titles=titles)
        model_sheet = book.add_worksheet("模型参数 model")
        heads = ["字段 / field", "类型 / type", "级别 / level", "m", "u", "概率 / probability",
                 "匹配权重 / match weight (log2 m/u)"]
        model_sheet.write_row(0, 0, heads, book.add_format({"bold": True}))
        for i, row in enumerate(model.to_pylist(), start=1):
            model_sheet.write_row(i, 0, [_cell(level_label(v) if k == "level" else v) for k, v in row.items()])
        model_sheet.set_column(0, 6, 18)
        notes = book.add_worksheet("说明 notes")
        lines: list[tuple[str, Any]] = [
            ("比对名称 / list", summary.get("name")), ("模式 / mode", summary.get("mode")),
            ("左侧记录 / left records", summary.get("records_left")),
            ("右侧记录 / right records", summary.get("records_right")),
            ("打分的候选对 / pairs scored", summary.get("pairs_scored")),
        ]
        lines += [(f"结果 / band: {BAND_LABELS.get(b, b)}", n) for b, n in (summary.get("by_band") or {}).items()]
        lines += [(f"分块规则 / blocking rule: {r['rule']}", r["pairs"] if r["used"] else f"未用 not used: {r['why']}")
                  for r in summary.get("blocking") or []]
        lines += [("警告 / warning", w) for w in warnings]
        for i, (k, v) in enumerate(lines):
            notes.write_row(i, 0, [k, _cell(v)])
        notes.set_column(0, 0, 40)
        notes.set_column(1, 1, 100)
        book.close()
    return path


def read_decisions(path: str | Path) -> list[dict[str, Any]]:
    """Decisions typed into the review sheet of a workbook written by :func:`write_workbook`: rows whose
    decision cell says accept or reject (接受/确认/是 or 否决/拒绝/否). Returns ``{list, fingerprint,
    left_id, right_id, decision, note, probability}`` per decided row; an unknown word is an error naming
    the row."""
    import fastexcel

    path = Path(path)
    if not path.exists():
        raise FileLevelError("file not found", Location(file=str(path)))
    reader = fastexcel.read_excel(str(path))
    sheet_name = next((n for n in reader.sheet_names if n.startswith("待复核")), None)
    if sheet_name is None:
        raise FileLevelError("no review sheet (待复核 review) in this workbook", Location(file=str(path)),
                             hint="give the workbook written by `jingzhun link`")
    table = reader.load_sheet(sheet_name, dtypes="string").to_arrow()
    names = table.column_names
    need = [DECISION_HEADER, _HEAD["fingerprint"], _HEAD["left_id"], _HEAD["list"]]
    missing = [h for h in need if h not in names]
    if missing:
        raise FileLevelError(f"column(s) {missing} missing from the review sheet; its columns: {', '.join(names)}",
                             Location(file=str(path), sheet=sheet_name))
    out = []
    for i, row in enumerate(table.to_pylist(), start=2):
        word = (row.get(DECISION_HEADER) or "").strip()
        if not word:
            continue
        decision = DECISION_WORDS.get(word.lower())
        if decision is None:
            raise FileLevelError(f"unknown decision {word!r}; write one of: {', '.join(DECISION_WORDS)}",
                                 Location(file=str(path), sheet=sheet_name, row=i, field=DECISION_HEADER))
        prob = row.get(_HEAD["probability"])
        out.append({"list": row[_HEAD["list"]], "fingerprint": row[_HEAD["fingerprint"]],
                    "left_id": row[_HEAD["left_id"]], "right_id": row.get(_HEAD["right_id"]),
                    "decision": decision, "note": row.get(NOTE_HEADER),
                    "probability": float(prob) if prob else None})
    return out


def read_review(path: str | Path) -> list[dict[str, Any]]:
    """The pairs of a workbook's review sheet (:func:`write_workbook`), each with its fields side by side:
    ``{list, right_id, left_id, probability, match_weight, prior_weight, fingerprint, fields: [{field,
    record, candidate, level, weight}]}``, for showing them on a page."""
    import fastexcel

    path = Path(path)
    try:
        reader = fastexcel.read_excel(str(path))
        sheet_name = next((n for n in reader.sheet_names if n.startswith("待复核")), None)
        table = reader.load_sheet(sheet_name, dtypes="string").to_arrow() if sheet_name else None
    except Exception as exc:  # fastexcel raises its own errors for files that are not workbooks
        raise FileLevelError(f"not a workbook: {exc}", Location(file=path.name)) from None
    if table is None or _HEAD["fingerprint"] not in table.column_names:
        raise FileLevelError("no review sheet (待复核 review) written by `jingzhun link` in this workbook",
                             Location(file=path.name))
    names = [c[: -len(_SIDE["level"]) - 1] for c in table.column_names if c.endswith(" " + _SIDE["level"])]

    def number(value: Any) -> float | None:
        try:
            return float(value) if value not in (None, "") else None
        except ValueError:
            return None

    pairs = []
    for row in table.to_pylist():
        pairs.append({
            **{key: row.get(head) for key, head in _HEAD.items() if key not in ("probability", "match_weight",
                                                                                "prior_weight", "second_weight")},
            **{key: number(row.get(_HEAD[key])) for key in ("probability", "match_weight", "prior_weight")},
            "fields": [{"field": f, "record": row.get(f"{f} {_SIDE['right']}"),
                        "candidate": row.get(f"{f} {_SIDE['left']}"), "level": row.get(f"{f} {_SIDE['level']}"),
                        "weight": number(row.get(f"{f} {_SIDE['weight']}"))} for f in names],
        })
    return pairs


def chart_options(model: pa.Table, title: str) -> dict[str, Any]:
    """ECharts options of the model's match weights: one horizontal bar per comparison level (and the
    prior), green for levels that speak for a match, red against."""
    rows = [r for r in model.to_pylist() if r["match_weight"] is not None]
    labels = [f"{r['field']}: {level_label(r['level'])}" for r in rows]
    data = [{"value": round(r["match_weight"], 3),
             "itemStyle": {"color": "#3ba272" if r["match_weight"] >= 0 else "#ee6666"}} for r in rows]
    return {
        "title": {"text": title, "subtext": "匹配权重 match weight = log2(m/u)"},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 260, "right": 40, "top": 70, "bottom": 30},
        "xAxis": {"type": "value", "name": "bits"},
        "yAxis": {"type": "category", "data": labels, "inverse": True},
        "series": [{"type": "bar", "data": data}],
    }


def pair_chart_options(pair: dict[str, Any]) -> dict[str, Any]:
    """ECharts options explaining one pair (a :func:`read_review` row): a bar per comparison (its match
    weight, green for, red against; the prior first) and the running total, which ends at the pair's
    match weight.

    >>> o = pair_chart_options({"prior_weight": -10.0, "fields": [
    ...     {"field": "name", "level": "exact", "weight": 9.0}, {"field": "dob", "level": "else", "weight": -2.0}]})
    >>> o["xAxis"]["data"], o["series"][1]["data"]
    (['先验 prior', 'name: 完全相同 / exact', 'dob: 不同 / else'], [-10.0, -1.0, -3.0])
    """
    steps = [("先验 prior", float(pair.get("prior_weight") or 0.0))]
    steps += [(f"{f['field']}: {level_label(f['level'])}", float(f["weight"] or 0.0)) for f in pair["fields"]]
    running, totals = 0.0, []
    for _label, w in steps:
        running += w
        totals.append(round(running, 3))
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 50, "right": 20, "top": 30, "bottom": 90},
        "legend": {"data": ["权重 weight", "累计 running total"]},
        "xAxis": {"type": "category", "data": [label for label, _w in steps], "axisLabel": {"rotate": 30}},
        "yAxis": {"type": "value", "name": "bits"},
        "series": [
            {"name": "权重 weight", "type": "bar",
             "data": [{"value": round(w, 3), "itemStyle": {"color": "#3ba272" if w >= 0 else "#ee6666"}}
                      for _label, w in steps]},
            {"name": "累计 running total", "type": "line", "step": "end", "data": totals},
        ],
    }


def pairs_of(links: pa.Table, limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` rows of a links table as :func:`read_review` gives them (for charts)."""
    fields = fields_of(links)
    out = []
    for row in links.slice(0, limit).to_pylist():
        if row.get("left_id") is None:
            continue
        out.append({**row, "fields": [{"field": f, "record": row.get(f"right {f}"), "candidate": row.get(f"left {f}"),
                                       "level": row.get(f"{f}__level"), "weight": row.get(f"{f}__weight")}
                                      for f in fields]})
    return out


def write_chart(path: str | Path, model: pa.Table, title: str, review: pa.Table | None = None,
                limit: int = 30) -> Path:
    """A self-contained HTML page (the vendored ECharts inlined): the model's match weights per level, then
    for the first ``limit`` pairs of ``review`` their weight per comparison and running total."""
    vendored = Path(__file__).resolve().parents[1] / "web" / "static" / "vendor" / "echarts.min.js"
    script = vendored.read_text(encoding="utf-8")
    charts = [("model", chart_options(model, title), max(400, 22 * model.num_rows + 120), title)]
    for i, pair in enumerate(pairs_of(review, limit) if review is not None else []):
        heading = f"{pair['right_id']} → {pair['left_id']} ({(pair.get('probability') or 0):.3f})"
        charts.append((f"pair{i}", pair_chart_options(pair), 300, heading))
    blocks, calls = [], []
    for ident, options, height, heading in charts:
        blocks.append(f'<h2>{html.escape(heading)}</h2><div id="{ident}" style="width: 100%; height: {height}px">'
                      "</div>")
        data = json.dumps(options, ensure_ascii=False).replace("</", "<\\/")
        calls.append(f'echarts.init(document.getElementById("{ident}")).setOption({data});')
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>
<body>{"".join(blocks)}
<script>{script}</script>
<script>{"".join(calls)}</script>
</body></html>"""
    path = Path(path)
    with atomic_file(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path
