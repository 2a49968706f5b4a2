"""Login throttling per (user name, client address), read from the audit log.

Every sign-in writes ``login`` or ``login_failed`` to the audit log (object ``user``/<name>, with the
client address). Before a password is checked, the failures in a row for this name from this address
(since its last success, within ``login_window_hours``) decide whether the try must wait: the first
``login_free_attempts`` are free, then each further try waits ``login_delay_seconds`` × 2^(n − free),
at most ``login_max_delay_seconds``, after the last failure. A try that must wait is refused with 429 and
``Retry-After`` without looking at the password (so guessing gets no faster), and is not counted.

Unknown names are throttled exactly like existing ones (the audit log holds their failures too), and a
stranger elsewhere cannot make a user wait: no account is ever locked.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import select
from sqlalchemy.orm import Session

from jingzhun.errors import LoginThrottled
from jingzhun.ops.models import AuditEntry
from jingzhun.settings import Settings

#: what the audit log calls a successful and a failed sign-in (written by ``api.routes_auth.sign_in``)
SUCCESS, FAILURE = "login", "login_failed"
_KEY_LENGTH = 80  # the audit log's object_id


def throttle_key(username: str) -> str:
    return username[:_KEY_LENGTH]


def failures_in_a_row(
    session: Session, username: str, client: str | None, now: dt.datetime, settings: Settings
) -> tuple[int, dt.datetime | None]:
    """(failed sign-ins of ``username`` from ``client`` since its last success, time of the last one)."""
    since = now - dt.timedelta(hours=settings.login_window_hours)
    cap = settings.login_free_attempts + 32  # beyond this the wait is at its maximum anyway
    rows = session.execute(
        select(AuditEntry.action, AuditEntry.at)
        .where(
            AuditEntry.object_type == "user",
            AuditEntry.object_id == throttle_key(username),
            AuditEntry.action.in_((SUCCESS, FAILURE)),
            AuditEntry.ip.is_(None) if client is None else AuditEntry.ip == client,
            AuditEntry.at > since,
        )
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(cap)
    ).all()
    count, last = 0, None
    for action, at in rows:
        if action == SUCCESS:
            break
        count += 1
        last = last or at
    return count, last


def wait_seconds(failures: int, settings: Settings) -> float:
    """How long after the last failure the next try must wait.

    >>> s = Settings(login_free_attempts=5, login_delay_seconds=1, login_max_delay_seconds=900)
    >>> [wait_seconds(n, s) for n in (4, 5, 6, 7, 30)]
    [0.0, 1.0, 2.0, 4.0, 900.0]
    """
    extra = failures - settings.login_free_attempts
    if extra < 0:
        return 0.0
    return float(min(settings.login_delay_seconds * 2 ** min(extra, 40), settings.login_max_delay_seconds))


def check(session: Session, username: str, client: str | None, now: dt.datetime, settings: Settings) -> None:
    """Refuse with :class:`LoginThrottled` when this (name, address) must still wait."""
    failures, last = failures_in_a_row(session, username, client, now, settings)
    if last is None:
        return
    ready = last + dt.timedelta(seconds=wait_seconds(failures, settings))
    if now < ready:
        raise LoginThrottled(max(1, math.ceil((ready - now).total_seconds())))
