"""Every error Jingzhun raises on purpose, each saying what was wrong, where, and what to do.

All inherit from :class:`JingzhunError`, so the CLI can print them cleanly and exit non-zero
instead of showing a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class JingzhunError(Exception):
    """Base class: a problem the user can act on (bad input, bad configuration, refused action)."""

    exit_code = 2


@dataclass
class Location:
    """Where a problem is: a file, and optionally a sheet, row (as the user sees it), field, line, column."""

    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    field: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(f"sheet {self.sheet!r}")
        if self.line is not None:
            parts.append(f"line {self.line}" + (f", column {self.column}" if self.column is not None else ""))
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field:
            parts.append(f"field {self.field!r}")
        return ", ".join(parts)


class LocatedError(JingzhunError):
    """An error that points at a place in an input file."""

    def __init__(self, message: str, location: Location | None = None, hint: str | None = None):
        self.message = message
        self.location = location or Location()
        self.hint = hint
        text = f"{self.location}: {message}" if str(self.location) else message
        if hint:
            text += f" ({hint})"
        super().__init__(text)


class InvalidIdNumber(JingzhunError):
    """An ID number that fails GB 11643 validation."""


class InvalidRegionCode(JingzhunError):
    """A statistical division code that is not 12 well-formed digits."""


class FileLevelError(LocatedError):
    """A whole input file is unusable (not a spreadsheet, empty, missing a required column, wrong dataset)."""


class PolicyError(LocatedError):
    """A policy file is invalid: points at the file, line and column of the mistake."""


class ConfigError(LocatedError):
    """A configuration file (linkage, settings) is invalid."""


class NotFound(JingzhunError):
    """A thing the user named does not exist (run, household, case, user)."""

    exit_code = 3


class PermissionDenied(JingzhunError):
    """The user's role or region does not allow this action."""

    exit_code = 4


class WorkflowError(JingzhunError):
    """A case transition that the workflow does not allow now."""


class ConcurrentModification(JingzhunError):
    """Someone else changed the record since it was read (optimistic locking)."""


class AuthenticationFailed(JingzhunError):
    """Wrong user name or password, a disabled account, or a missing/expired token."""

    exit_code = 4


class LoginThrottled(AuthenticationFailed):
    """Too many failed logins for this user name from this client address: wait ``retry_after`` seconds.

    The same answer for existing and unknown user names, and only for that client address, so it neither
    tells which accounts exist nor lets a stranger lock a user out."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(
            f"登录失败次数过多，请 {retry_after} 秒后再试 / too many failed logins from this address: "
            f"try again in {retry_after} seconds"
        )
