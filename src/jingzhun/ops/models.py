"""Tables of the operational store. Every schema change comes with an Alembic migration in
``migrations/versions`` (a test checks that models and migrations agree)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


#: SQL condition of a case that is still open (neither eliminated nor closed; see cases.workflow)
OPEN_CASE_CONDITION = "state NOT IN ('eliminated', 'closed')"


class Base(DeclarativeBase):
    pass


class ImportRecord(Base):
    """The import ledger: one row per file imported (or refused as a duplicate is not stored)."""

    __tablename__ = "import_ledger"
    __table_args__ = (
        UniqueConstraint("content_hash", "dataset", "period", name="uq_import_content"),
        Index("ix_import_dataset_period", "dataset", "period"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    file_name: Mapped[str] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64))
    dataset: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(7))
    sheet: Mapped[str | None] = mapped_column(String(200), nullable=True)
    rows_in: Mapped[int] = mapped_column(BigInteger)
    rows_accepted: Mapped[int] = mapped_column(BigInteger)
    rows_quarantined: Mapped[int] = mapped_column(BigInteger)
    imported_by: Mapped[str] = mapped_column(String(100))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="done")
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class RunRecord(Base):
    """The run ledger: one row per monthly run, with its inputs, stages and result hash."""

    __tablename__ = "run_ledger"
    __table_args__ = (Index("ix_run_period", "period"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    engine: Mapped[str] = mapped_column(String(20))
    policy_set_hash: Mapped[str] = mapped_column(String(64))
    input_hashes: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="running")
    stage: Mapped[str | None] = mapped_column(String(40), nullable=True)
    progress: Mapped[float] = mapped_column(default=0.0)
    stages: Mapped[dict] = mapped_column(JSON, default=dict)
    result_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    summary: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_by: Mapped[str] = mapped_column(String(100), default="cli")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # handing the run's new and cleared alerts to the case workflow (migration 0003):
    # NULL (run made before the handoff existed) | pending | done | failed | skipped | superseded
    handoff_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    handoff: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # counts, error, when


class LinkDecision(Base):
    """A clerk's decision on a candidate pair from probabilistic linkage, reused in later months.

    ``record_fingerprint`` is a hash of the feed record's identifying fields (normalised name, raw ID
    number, birth date, sex, region), so the same person appearing again in next month's feed with the
    same details reuses the decision instead of asking again.
    """

    __tablename__ = "link_decision"
    __table_args__ = (UniqueConstraint("feed", "record_fingerprint", "person_id", name="uq_link_decision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    feed: Mapped[str] = mapped_column(String(40))
    record_fingerprint: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[str] = mapped_column(String(40))
    decision: Mapped[str] = mapped_column(String(10))  # accept | reject
    score: Mapped[float | None] = mapped_column(nullable=True)
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


# --- users, cases and audit (auth/, cases/, audit/) -------------------------------------------------


class User(Base):
    """A person who signs in: one role, scoped to a region code (or, for a department, a feed name)."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str] = mapped_column(String(40))
    display_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class AuthToken(Base):
    """A bearer token or page session; only the SHA-256 of the secret is stored."""

    __tablename__ = "auth_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # api | session
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class MonitoringCase(Base):
    """A monitoring case (监测对象识别/风险消除) of one household; never deleted, closed at most.

    ``version`` is the optimistic lock: every change is ``UPDATE ... WHERE version = :read_version``.
    """

    __tablename__ = "monitoring_case"
    __table_args__ = (
        Index("ix_case_village", "village_code"),
        Index("ix_case_household", "household_id"),
        Index("ix_case_state", "state"),
        # at most one open (not final) case per household, whoever opens it (migration 0003)
        Index(
            "uq_case_open_household",
            "household_id",
            unique=True,
            sqlite_where=text(OPEN_CASE_CONDITION),
            postgresql_where=text(OPEN_CASE_CONDITION),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    household_id: Mapped[str] = mapped_column(String(40))
    village_code: Mapped[str] = mapped_column(String(12))
    head_name: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))  # self_report | cadre_screening | dept_alert
    state: Mapped[str] = mapped_column(String(30))
    risk_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    monitoring_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    alert_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    rule_ids: Mapped[list | None] = mapped_column(JSON, nullable=True)
    evidence: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    opened_by: Mapped[str] = mapped_column(String(100))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    due_at: Mapped[dt.datetime] = mapped_column(DateTime)
    authorisation_signed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    authorisation_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    visit_findings: Mapped[str | None] = mapped_column(Text, nullable=True)
    notice_start: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    notice_end: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    eliminated_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    closed_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    risk_check_details: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class CaseAlert(Base):
    """An alert of a run handed to a case (部门筛查预警): which case holds which alert.

    One row per (period, household, rule, status) at most, so a period handed off twice (a re-run, a
    retry) never opens a case or records an alert twice. ``action``: ``opened`` (the alert opened the
    case) or ``noted`` (recorded as an event on the household's open case); ``status``: the alert's
    status in the run (``new`` or ``cleared``).
    """

    __tablename__ = "case_alert"
    __table_args__ = (
        UniqueConstraint("period", "household_id", "rule_id", "status", name="uq_case_alert"),
        Index("ix_case_alert_run", "run_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("monitoring_case.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    run_id: Mapped[str] = mapped_column(String(40))
    household_id: Mapped[str] = mapped_column(String(40))
    rule_id: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(10))  # new | cleared
    action: Mapped[str] = mapped_column(String(10))  # opened | noted
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CaseEvent(Base):
    """One step in a case's history (opened, each transition, edits, measures, follow-ups)."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("monitoring_case.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(30), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(30), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    payload: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class AssistanceMeasure(Base):
    """An assistance measure (帮扶措施) of a case, with its named helper (帮扶责任人)."""

    __tablename__ = "assistance_measure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("monitoring_case.id"), index=True)
    measure_type: Mapped[str] = mapped_column(String(20))
    helper: Mapped[str] = mapped_column(String(100))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class FollowUp(Base):
    """A follow-up visit (跟踪回访) of a case under monitoring."""

    __tablename__ = "follow_up"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("monitoring_case.id"), index=True)
    visit_date: Mapped[dt.date] = mapped_column(Date)
    visitor: Mapped[str] = mapped_column(String(100))
    findings: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AuditEntry(Base):
    """The audit log: append-only (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_object", "object_type", "object_id"), Index("ix_audit_at", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(20), nullable=True)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    old_values: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    new_values: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)
