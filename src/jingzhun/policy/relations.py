"""Arrow schemas of the relations a policy evaluation reads, and typed tables built from plain rows
(YAML tests, small fixtures). Engine-neutral: only pyarrow.

>>> t = rows_to_table("medical_claim", [{"record_id": "C1", "person_id": "P1", "claim_date": "2025-03-01",
...                                      "out_of_pocket": 6000}])
>>> t.schema.field("claim_date").type, t.schema.field("out_of_pocket").type, t.num_rows
(DataType(date32[day]), Decimal128Type(decimal128(18, 2)), 1)
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from jingzhun.catalog import DATASETS
from jingzhun.errors import LocatedError, Location
from jingzhun.policy import schema

_ARROW = {
    "string": pa.string(),
    "enum": pa.string(),
    "id_number": pa.string(),
    "region_code": pa.string(),
    "month": pa.string(),
    "int": pa.int64(),
    "decimal": pa.decimal128(18, 2),
    "date": pa.date32(),
    "bool": pa.bool_(),
}


def arrow_schema(name: str) -> pa.Schema:
    """Canonical columns of a dataset (person-level feeds with the linkage columns added), and the
    bookkeeping of time: ``_period`` (the period of the import a registry row came from) on registry
    datasets, ``_arrived`` (the period of the first import that brought the record) on feeds."""
    ds = DATASETS[name]
    fields = [pa.field(f.name, _ARROW[f.type]) for f in ds.fields]
    if name in schema.PERSON_FEEDS:
        fields += [pa.field(k, pa.string()) for k in schema.LINK_FIELDS]
    if ds.kind == "feed":
        fields += [pa.field(schema.ARRIVED, pa.string()), pa.field("_import_id", pa.string())]
    elif ds.kind == "registry":
        fields.append(pa.field(schema.EXTRACT_PERIOD, pa.string()))
    return pa.schema(fields)


def empty_table(name: str) -> pa.Table:
    """No rows, every column (built without Python objects, so pyarrow never loads pandas)."""
    sch = arrow_schema(name)
    return pa.Table.from_arrays([pa.nulls(0, f.type) for f in sch], schema=sch)


def _convert(value: Any, typ: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_date32(typ):
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        return date.fromisoformat(str(value))
    if pa.types.is_decimal(typ):
        return Decimal(str(value)).quantize(Decimal("0.01"))
    if pa.types.is_integer(typ):
        return int(value)
    if pa.types.is_boolean(typ):
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "是", "y", "yes")
        return bool(value)
    return str(value)


def rows_to_table(
    name: str, rows: list[dict[str, Any]], where: Location | None = None, period: str | None = None
) -> pa.Table:
    """A typed table of ``rows`` (missing columns are NULL); an unknown column or a bad value is an error.

    Time bookkeeping has defaults, so that plain rows describe data delivered on time: a feed record's
    arrival (``received``, stored as ``_arrived``) is the month of its own date; a registry row's extract
    period (``_period``) is ``period``.

    >>> t = rows_to_table("disability_cert", [{"record_id": "D1", "issue_date": "2025-02-20"},
    ...     {"record_id": "D2", "issue_date": "2025-02-20", "received": "2025-03"}])
    >>> t.column("_arrived").to_pylist()
    ['2025-02', '2025-03']
    """
    sch = arrow_schema(name)
    names = set(sch.names)
    cols: dict[str, list[Any]] = {f.name: [] for f in sch}
    ds = DATASETS[name]
    date_field = ds.date_field if ds.kind == "feed" else None
    rows = [dict(r) for r in rows]
    for row in rows:
        if ds.kind == "feed":
            if schema.RECEIVED in row:
                row[schema.ARRIVED] = row.pop(schema.RECEIVED)
            if row.get(schema.ARRIVED) is None and date_field and row.get(date_field) is not None:
                row[schema.ARRIVED] = str(row[date_field])[:7]
        elif ds.kind == "registry" and row.get(schema.EXTRACT_PERIOD) is None and period is not None:
            row[schema.EXTRACT_PERIOD] = period
    for i, row in enumerate(rows, start=1):
        for k in row:
            if k not in names:
                close = schema.suggest(k, sch.names)
                raise LocatedError(
                    f"{name} row {i}: unknown column {k!r}",
                    where,
                    f"did you mean {close!r}?" if close else None,
                )
        for f in sch:
            try:
                cols[f.name].append(_convert(row.get(f.name), f.type))
            except (ValueError, ArithmeticError) as exc:
                raise LocatedError(
                    f"{name} row {i}: bad value {row.get(f.name)!r} for {f.name} ({exc})", where
                ) from None
    return pa.table({f.name: pa.array(cols[f.name], f.type) for f in sch}, schema=sch)
