"""Alerts: this run's household-level risk results compared with the previous period's run.

An alert is one (household, rule) pair fired by a risk rule (kind ``trigger`` or ``monitor``). Against
the previous period's run each alert is **new** (not there before), **persisting** (there before; its
first period is carried over) or **cleared** (there before, not now). Cleared alerts are kept in this
run's alert table with status ``cleared`` so that the history of a household reads month by month.

The SQL is written once in DuckDB's dialect; engines that speak another dialect transpile it.
"""

from __future__ import annotations

ALERT_KINDS = ("trigger", "monitor")

ALERT_COLUMNS = (
    "household_id", "village_code", "rule_id", "kind", "status", "first_period", "period",
    "evidence", "explain_zh", "explain_en",
)


def alerts_sql(current_flags: str, previous_alerts: str | None, period: str) -> str:
    """SQL that builds the alert table from ``current_flags`` and the previous run's alerts (or none).

    >>> "cleared" in alerts_sql("flag", "prev", "2025-03")
    True
    """
    kinds = ", ".join(f"'{k}'" for k in ALERT_KINDS)
    current = f"""
        SELECT household_id, any_value(village_code) AS village_code, rule_id, any_value(kind) AS kind,
               string_agg(evidence, ' | ' ORDER BY entity_id) AS evidence,
               string_agg(explain_zh, '；' ORDER BY entity_id) AS explain_zh,
               string_agg(explain_en, '; ' ORDER BY entity_id) AS explain_en
        FROM {current_flags}
        WHERE kind IN ({kinds}) AND household_id IS NOT NULL
        GROUP BY household_id, rule_id
    """
    if previous_alerts is None:
        return f"""
            SELECT household_id, village_code, rule_id, kind, 'new' AS status, '{period}' AS first_period,
                   '{period}' AS period, evidence, explain_zh, explain_en
            FROM ({current}) c
            ORDER BY household_id, rule_id
        """
    return f"""
        WITH c AS ({current}),
             p AS (SELECT * FROM {previous_alerts} WHERE status <> 'cleared')
        SELECT coalesce(c.household_id, p.household_id) AS household_id,
               coalesce(c.village_code, p.village_code) AS village_code,
               coalesce(c.rule_id, p.rule_id) AS rule_id,
               coalesce(c.kind, p.kind) AS kind,
               CASE WHEN p.household_id IS NULL THEN 'new'
                    WHEN c.household_id IS NULL THEN 'cleared'
                    ELSE 'persisting' END AS status,
               coalesce(p.first_period, '{period}') AS first_period,
               '{period}' AS period,
               coalesce(c.evidence, p.evidence) AS evidence,
               coalesce(c.explain_zh, p.explain_zh) AS explain_zh,
               coalesce(c.explain_en, p.explain_en) AS explain_en
        FROM c FULL OUTER JOIN p ON c.household_id = p.household_id AND c.rule_id = p.rule_id
        ORDER BY household_id, rule_id
    """
