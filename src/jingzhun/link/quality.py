"""Quality of a linkage: counts per band and method, and precision/recall against a truth table.

>>> import pyarrow as pa
>>> links = pa.table({"record_id": ["a", "b", "c"], "person_id": ["P1", None, "P9"],
...                   "method": ["exact", None, "probabilistic"],
...                   "band": ["accepted", "unlinked", "accepted"]})
>>> quality_report(links)["by_band"]
{'accepted': 2, 'unlinked': 1}
>>> truth = pa.table({"record_id": ["a", "b", "c"], "person_id": ["P1", None, "P3"]})
>>> precision_recall(links, truth)
{'true_positive': 1, 'false_positive': 1, 'false_negative': 1, 'precision': 0.5, 'recall': 0.5}
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa


def band_method_counts(links: pa.Table) -> list[dict[str, Any]]:
    """Rows ``{band, method, n}``: how many links have each band and method (vectorised, Arrow)."""
    if not links.num_rows:
        return []
    grouped = links.select(["band", "method"]).group_by(["band", "method"], use_threads=False).aggregate(
        [([], "count_all")])
    return [{"band": r["band"], "method": r["method"], "n": r["count_all"]} for r in grouped.to_pylist()]


def quality_report(links: pa.Table) -> dict[str, Any]:
    """Counts per band, per method among accepted links, and the summary used by the CLI:
    linked exactly / probabilistically (incl. clerk-accepted) / in review / unlinked (incl. rejected).
    Vectorised (Arrow), so it costs nothing next to the linkage of millions of records."""
    return quality_from_counts(band_method_counts(links))


def quality_from_counts(counts: list[dict[str, Any]]) -> dict[str, Any]:
    """:func:`quality_report` from the links' counts per band and method (rows ``{band, method, n}``, as
    :func:`band_method_counts` gives them or an engine's GROUP BY over links it keeps)."""
    bands: dict[str, int] = {}
    methods: dict[str, int] = {}
    for row in counts:
        if row["band"] is None:
            continue
        bands[row["band"]] = bands.get(row["band"], 0) + int(row["n"])
        if row["band"] == "accepted" and row["method"] is not None:
            methods[row["method"]] = methods.get(row["method"], 0) + int(row["n"])
    return {
        "by_band": dict(sorted(bands.items())),
        "by_method": dict(sorted(methods.items())),
        "linked_exact": methods.get("exact", 0),
        "linked_probabilistic": methods.get("probabilistic", 0) + methods.get("review_accepted", 0),
        "in_review": bands.get("review", 0),
        "unlinked": bands.get("unlinked", 0) + bands.get("rejected", 0),
    }


def precision_recall(links: pa.Table, truth: pa.Table, dataset: str | None = None) -> dict[str, Any]:
    """Precision and recall of accepted links against ``truth`` (record_id, person_id; person_id NULL for
    records of people not registered; optional ``dataset`` column filtered by ``dataset``)."""
    import duckdb

    con = duckdb.connect()
    con.register("links", links)
    con.register("truth", truth)
    where = ""
    if dataset is not None and "dataset" in truth.column_names:
        where = "WHERE dataset = $ds"
    row = con.execute(
        f"""
        WITH t AS (SELECT CAST(record_id AS VARCHAR) AS record_id, CAST(person_id AS VARCHAR) AS person_id
                   FROM truth {where}),
        k AS (SELECT CAST(record_id AS VARCHAR) AS record_id, CAST(person_id AS VARCHAR) AS person_id
              FROM links WHERE band = 'accepted' AND person_id IS NOT NULL)
        SELECT count(*) FILTER (WHERE k.person_id = t.person_id),
               count(*) FILTER (WHERE k.person_id IS NOT NULL AND (t.person_id IS NULL
                                OR k.person_id <> t.person_id)),
               (SELECT count(*) FROM t WHERE person_id IS NOT NULL)
        FROM k JOIN t USING (record_id)
    """,
        {"ds": dataset} if where else None,
    ).fetchall()[0]
    con.close()
    tp, fp, positives = int(row[0]), int(row[1]), int(row[2])
    return {
        "true_positive": tp,
        "false_positive": fp,
        "false_negative": positives - tp,
        "precision": round(tp / (tp + fp), 6) if tp + fp else 1.0,
        "recall": round(tp / positives, 6) if positives else 1.0,
    }
