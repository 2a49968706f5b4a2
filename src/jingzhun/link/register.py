"""The register's members as one list, for finding people registered twice (`jingzhun link dedupe
--data DIR`): the latest registry extract up to a period, members joined to their household's village,
in the catalogue's canonical columns (person_id, household_id, name, id_number, sex, birth_date,
village_code), which config/linkage/register_dedupe.yaml maps."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from jingzhun.errors import NotFound
from jingzhun.sqltext import literal


def register_members(data_root: str | Path, period: str | None = None) -> pa.Table:
    """Members of the registry extract in force at ``period`` (default: the latest), one row per person
    (a person sent in two files of the extract: the later import wins), with the village code of their
    household."""
    import duckdb

    from jingzhun.ops import open_store
    from jingzhun.pipeline.snapshot import take_snapshot
    from jingzhun.store import DataFolder

    data = DataFolder(data_root)
    store = open_store(data.ops_url)
    try:
        snapshot = take_snapshot(data, store, period or "9999-12")
    finally:
        store.dispose()
    if not snapshot.has_registry:
        raise NotFound(f"no registry (household and member) imported in {data.root}"
                       + (f" up to {period}" if period else ""))

    def files(dataset: str) -> str:
        # files in the ledger's import order: the later import's row wins
        return "(" + " UNION ALL BY NAME ".join(
            f"SELECT *, {i} AS jz_order FROM read_parquet({literal(str(p))})"
            for i, p in enumerate(snapshot.files(dataset))) + ")"

    con = duckdb.connect()
    try:
        return con.sql(f"""
            WITH m AS (SELECT * FROM {files('member')}
                       QUALIFY row_number() OVER (PARTITION BY person_id ORDER BY jz_order DESC) = 1),
                 h AS (SELECT * FROM {files('household')}
                       QUALIFY row_number() OVER (PARTITION BY household_id ORDER BY jz_order DESC) = 1)
            SELECT m.person_id, m.household_id, m.name, m.id_number, m.sex,
                   CAST(m.birth_date AS VARCHAR) AS birth_date, h.village_code
            FROM m LEFT JOIN h USING (household_id)
            ORDER BY m.person_id""").to_arrow_table()
    finally:
        con.close()
