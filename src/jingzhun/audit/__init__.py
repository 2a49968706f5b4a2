"""The audit log: every view, export and change of personal data, append-only.

Write with :func:`record` inside the same transaction as the change it describes, so a change and its
audit row commit (or roll back) together. There is no update or delete function, and database triggers
(migration 0002) refuse UPDATE and DELETE on ``audit_log`` for every client.
"""

from jingzhun.audit.log import Actor, jsonable, query, record

__all__ = ["Actor", "jsonable", "query", "record"]
