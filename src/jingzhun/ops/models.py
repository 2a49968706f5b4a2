"""Tables of the operational store. Every schema change comes with an Alembic migration in
``migrations/versions`` (a test checks that models and migrations agree)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


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
