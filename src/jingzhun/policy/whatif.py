"""What-if: evaluate changed parameters beside the current ones on the same relations, and report what
changes by rule, by region (village, township, county) and by household.

A household's status is the set of monitor/trigger/exit/tag rules fired for it (or for its members).
Everything is computed with vectorised Arrow operations (no Python loop over households).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.policy.evaluate import evaluate
from jingzhun.policy.model import PolicySet


@dataclass
class WhatIfResult:
    period: str
    overrides: dict[str, Any]
    base: pa.Table  # flags with the current parameters
    changed: pa.Table  # flags with the overrides
    by_rule: pa.Table  # rule_id, kind, base, changed, delta
    by_region: pa.Table  # level, code, base_monitored, changed_monitored, delta
    households: pa.Table  # household_id, village_code, rule_id, change ('added' | 'removed')

    def monitored(self, which: str = "changed") -> int:
        """Number of households with at least one monitor rule fired."""
        return len(_monitored(self.base if which == "base" else self.changed))

    def changed_households(self) -> list[str]:
        """Ids of the households whose status changes."""
        return sorted(set(self.households["household_id"].to_pylist()))


def _monitored(flags: pa.Table) -> pa.Table:
    m = flags.filter(pc.equal(flags["kind"], "monitor")).select(["household_id", "village_code"])
    m = m.filter(pc.is_valid(m["household_id"]))
    return m.group_by(["household_id", "village_code"]).aggregate([])


def _by_rule(base: pa.Table, new: pa.Table) -> pa.Table:
    b = (
        base.group_by(["rule_id", "kind"])
        .aggregate([("entity_id", "count")])
        .rename_columns(["rule_id", "kind", "base"])
    )
    n = (
        new.group_by(["rule_id", "kind"])
        .aggregate([("entity_id", "count")])
        .rename_columns(["rule_id", "kind", "changed"])
    )
    j = b.join(n, ["rule_id", "kind"], join_type="full outer")
    j = j.set_column(j.schema.get_field_index("base"), "base", pc.fill_null(j["base"], 0))
    j = j.set_column(j.schema.get_field_index("changed"), "changed", pc.fill_null(j["changed"], 0))
    j = j.append_column("delta", pc.subtract(j["changed"], j["base"]))
    return j.sort_by([("rule_id", "ascending")])


def _region_codes(t: pa.Table) -> dict[str, pa.Array]:
    v = t["village_code"]
    return {
        "village": v,
        "township": pc.binary_join_element_wise(pc.utf8_slice_codeunits(v, 0, 9), "000", ""),
        "county": pc.binary_join_element_wise(pc.utf8_slice_codeunits(v, 0, 6), "000000", ""),
    }


def _by_region(base: pa.Table, new: pa.Table) -> pa.Table:
    parts = []
    for level in ("county", "township", "village"):
        counts = []
        for name, t in (("base_monitored", _monitored(base)), ("changed_monitored", _monitored(new))):
            codes = _region_codes(t)[level]
            c = pa.table({"code": codes}).group_by("code").aggregate([("code", "count")])
            counts.append(c.rename_columns(["code", name]))
        j = counts[0].join(counts[1], "code", join_type="full outer")
        for col in ("base_monitored", "changed_monitored"):
            j = j.set_column(j.schema.get_field_index(col), col, pc.fill_null(j[col], 0))
        j = j.append_column("delta", pc.subtract(j["changed_monitored"], j["base_monitored"]))
        parts.append(j.add_column(0, "level", pa.array([level] * j.num_rows, pa.string())))
    out = pa.concat_tables(parts) if parts else pa.table({})
    return out.select(["level", "code", "base_monitored", "changed_monitored", "delta"]).sort_by(
        [("level", "ascending"), ("code", "ascending")]
    )


def _pairs(flags: pa.Table) -> pa.Table:
    f = flags.filter(
        pc.and_(pc.is_valid(flags["household_id"]), pc.invert(pc.equal(flags["kind"], "conflict")))
    )
    return (
        f.select(["household_id", "village_code", "rule_id"])
        .group_by(["household_id", "village_code", "rule_id"])
        .aggregate([])
    )


def _households(base: pa.Table, new: pa.Table) -> pa.Table:
    """One row per (household, rule) that starts or stops firing: change is 'added' or 'removed'."""
    b, n = _pairs(base), _pairs(new)
    keys = ["household_id", "village_code", "rule_id"]
    added = n.join(b, keys, join_type="left anti")
    removed = b.join(n, keys, join_type="left anti")
    added = added.append_column("change", pa.array(["added"] * added.num_rows, pa.string()))
    removed = removed.append_column("change", pa.array(["removed"] * removed.num_rows, pa.string()))
    out = pa.concat_tables([added, removed])
    return out.sort_by([("household_id", "ascending"), ("rule_id", "ascending"), ("change", "ascending")])


def compare(period: str, overrides: dict[str, Any], base: pa.Table, new: pa.Table) -> WhatIfResult:
    """Differences between two flag tables of the same relations."""
    return WhatIfResult(
        period, dict(overrides), base, new, _by_rule(base, new), _by_region(base, new), _households(base, new)
    )


def whatif(engine: Any, ps: PolicySet, period: str, overrides: dict[str, Any]) -> WhatIfResult:
    """Evaluate ``ps`` for ``period`` with and without ``overrides`` over the relations registered on
    ``engine`` and report the differences."""
    base = evaluate(engine, ps, period)
    new = evaluate(engine, ps, period, overrides=overrides)
    return compare(period, overrides, base, new)
