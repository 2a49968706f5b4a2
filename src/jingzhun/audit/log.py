"""Append rows to the audit log and read them back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jingzhun.ops.models import AuditEntry, User, utcnow


@dataclass(frozen=True)
class Actor:
    """Who acts and from where: the user name, their role and the client address."""

    username: str
    role: str | None = None
    ip: str | None = None


def jsonable(value: Any) -> Any:
    """Values made safe for a JSON column (dates as ISO text, decimals as strings).

    >>> jsonable({"d": dt.date(2026, 1, 2), "n": [Decimal("1.50")]})
    {'d': '2026-01-02', 'n': ['1.50']}
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        return clean_text(value)
    return value


def clean_text(value: str) -> str:
    r"""Text as the audit log can hold it on every database: NUL characters (which PostgreSQL refuses in
    text, and which only hostile input carries) become U+FFFD.

    >>> clean_text("a\x00b") == "a\ufffdb", clean_text("张三")
    (True, '张三')
    """
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int | None = None,
    *,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditEntry:
    """Append one audit row (in the caller's transaction) and return it."""
    entry = AuditEntry(
        at=at or utcnow(),
        actor=clean_text(actor.username)[:100],
        role=actor.role,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else clean_text(str(object_id))[:80],
        ip=None if actor.ip is None else clean_text(actor.ip)[:64],
        old_values=jsonable(old) if old is not None else None,
        new_values=jsonable(new) if new is not None else None,
        details=jsonable(details) if details is not None else None,
    )
    session.add(entry)
    session.flush()
    return entry


def query(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    actors_in_region: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """Audit rows, newest first, with the total count matching the filters: ``since``/``until`` are
    days (inclusive); ``actors_in_region`` (a region code prefix) keeps the rows written by users whose
    own scope lies inside that region."""
    stmt = select(AuditEntry)
    if actors_in_region is not None:
        users = select(User.username).where(User.scope.like(actors_in_region + "%"))
        stmt = stmt.where(AuditEntry.actor.in_(users))
    if since:
        stmt = stmt.where(AuditEntry.at >= dt.datetime.combine(since, dt.time()))
    if until:
        stmt = stmt.where(AuditEntry.at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time()))
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEntry.object_id == str(object_id))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), int(total)
