"""The clerk review queue: decisions on candidate pairs, stored in the operational store
(:class:`jingzhun.ops.models.LinkDecision`) and reused in later months.

A decision is keyed by the feed, the record's *fingerprint* (sha256 of its normalised name, ID text,
birth date, sex and region; see :mod:`jingzhun.link.frames`) and the candidate ``person_id``; the same
person appearing again with the same details is therefore never asked about twice.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from jingzhun.errors import JingzhunError

if TYPE_CHECKING:
    from jingzhun.ops.models import LinkDecision

DECISIONS = ("accept", "reject")
DECISION_SCHEMA = pa.schema(
    [("record_fingerprint", pa.string()), ("person_id", pa.string()), ("decision", pa.string())]
)


def decide(
    store: Any,
    feed: str,
    fingerprint: str,
    person_id: str,
    decision: str,
    user: str,
    note: str | None = None,
    score: float | None = None,
) -> LinkDecision:
    """Record (or overwrite) the decision on one pair; returns the stored row."""
    from sqlalchemy import select

    from jingzhun.ops.models import LinkDecision

    if decision not in DECISIONS:
        raise JingzhunError(f"decision must be 'accept' or 'reject', not {decision!r}")
    if not fingerprint or not person_id or not user:
        raise JingzhunError("a decision needs a record fingerprint, a person_id and the deciding user")
    with store.session() as session:
        row = session.scalars(
            select(LinkDecision).where(
                LinkDecision.feed == feed,
                LinkDecision.record_fingerprint == fingerprint,
                LinkDecision.person_id == person_id,
            )
        ).one_or_none()
        if row is None:
            row = LinkDecision(feed=feed, record_fingerprint=fingerprint, person_id=person_id)
            session.add(row)
        row.decision = decision
        row.decided_by = user
        row.decided_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        row.note = note
        row.score = score
        session.flush()
        session.expunge(row)
    return row


def load_decisions(store: Any, feed: str) -> pa.Table:
    """All decisions for a feed as an Arrow table (record_fingerprint, person_id, decision)."""
    from sqlalchemy import select

    from jingzhun.ops.models import LinkDecision

    with store.session() as session:
        rows = session.execute(
            select(LinkDecision.record_fingerprint, LinkDecision.person_id, LinkDecision.decision).where(
                LinkDecision.feed == feed
            )
        ).all()
    return pa.table(
        {
            "record_fingerprint": [r[0] for r in rows],
            "person_id": [r[1] for r in rows],
            "decision": [r[2] for r in rows],
        },
        schema=DECISION_SCHEMA,
    )


def as_decision_table(decisions: Any, feed: str) -> pa.Table:
    """Accept an ops store, an Arrow table, a list of dicts or None; return an Arrow decision table."""
    if decisions is None:
        return DECISION_SCHEMA.empty_table()
    if hasattr(decisions, "session"):
        return load_decisions(decisions, feed)
    if isinstance(decisions, pa.Table):
        return decisions.select(list(DECISION_SCHEMA.names)).cast(DECISION_SCHEMA)
    return pa.Table.from_pylist(list(decisions), schema=DECISION_SCHEMA)


REVIEW_COLUMNS = (
    "feed",
    "fingerprint",
    "record_id",
    "person_id",
    "household_id",
    "score",
    "method",
    "record_name",
    "person_name",
    "record_id_number",
    "person_id_number",
    "record_sex",
    "person_sex",
    "record_birth_date",
    "person_birth_date",
    "record_region",
    "person_region",
    "record_phone",
    "person_phone",
)


def review_pairs_sql(left: str, right: str, links: str, feed: str, unmask: bool = False) -> str:
    """SQL listing the review band side by side (prepared frames ``left``/``right``, links table).

    ID numbers and phones are masked (:func:`jingzhun.link.sql.mask`) unless ``unmask``.
    """
    from jingzhun.link.sql import literal, mask

    m = (lambda e: e) if unmask else mask
    return f"""
        SELECT {literal(feed)} AS feed, r.fingerprint, k.record_id, k.candidate_person_id AS person_id,
               l.household_id, k.score, k.method,
               r.name_norm AS record_name, l.name_norm AS person_name,
               {m("coalesce(r.id_text, r.id_number)")} AS record_id_number,
               {m("l.id_number")} AS person_id_number,
               r.sex AS record_sex, l.sex AS person_sex,
               r.birth_date AS record_birth_date, l.birth_date AS person_birth_date,
               r.region_code AS record_region, l.region_code AS person_region,
               {m("r.phone")} AS record_phone, {m("l.phone")} AS person_phone
        FROM {links} k
        JOIN {right} r ON r.uid = k.record_id
        LEFT JOIN {left} l ON l.uid = k.candidate_person_id
        WHERE k.band = 'review'
        ORDER BY k.score DESC NULLS LAST, k.record_id
    """
