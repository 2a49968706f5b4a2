"""The permission matrix: for every role and action, over which scope the role may act.

This table is the one definition of who may do what; pages, the API and the case service ask it through
:func:`allows` / :func:`require` (and :mod:`jingzhun.auth.scope`, which adds the region of one object).
docs/WORKFLOW.md shows it as printed by ``python -m jingzhun.auth.permissions``; a test checks that the
page shows it as it is, and a generated test sweeps every role × region × endpoint against it.

Scopes:

- ``region``: objects whose village code lies inside the user's region (village, township, county,
  province code prefix);
- ``own_feed``: imports (and their rejected rows) of the department's own feed;
- ``all``: everything of the installation (the audit log for an admin);
- ``none``: refused (HTTP 403, audited).

>>> scope_for("village", "run"), scope_for("county", "run"), scope_for("department", "rejects")
(<Scope.NONE: 'none'>, <Scope.REGION: 'region'>, <Scope.OWN_FEED: 'own_feed'>)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from jingzhun.errors import PermissionDenied


class Scope(StrEnum):
    NONE = "none"
    REGION = "region"
    OWN_FEED = "own_feed"
    ALL = "all"


SCOPE_ZH = {
    Scope.NONE: "—",
    Scope.REGION: "本辖区",
    Scope.OWN_FEED: "本部门数据",
    Scope.ALL: "全部",
}


@dataclass(frozen=True)
class Action:
    name: str
    zh: str
    en: str


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("read", "查看农户、预警、案件", "read households, alerts and cases (ID numbers masked)"),
        Action("export", "导出名单 (xlsx)", "export lists of households, alerts, cases, reports (masked)"),
        Action("unmask", "查看完整证件号码", "see full ID numbers on request (audited)"),
        Action("case_write", "立案、办理案件步骤、帮扶与回访", "open cases, take workflow steps, record measures and follow-ups"),
        Action("review", "比对复核", "accept or reject linkage pairs waiting for review"),
        Action("import", "上传部门数据", "upload department files and extracts"),
        Action("run", "启动月度运行", "start the monthly run"),
        Action("rejects", "查看、下载退回数据", "read and download rejected rows (ID numbers masked)"),
        Action("ledgers", "查看导入与运行台账", "read the import and run ledgers (no personal data)"),
        Action("audit", "查看审计日志", "read the audit log"),
        Action("users", "管理用户", "create and disable users (command line)"),
    )
}

_N, _R, _F, _A = Scope.NONE, Scope.REGION, Scope.OWN_FEED, Scope.ALL

#: role → action → scope. Roles: see :data:`jingzhun.auth.roles.ROLES`.
MATRIX: dict[str, dict[str, Scope]] = {
    #              read export unmask case_write review import run rejects ledgers audit users
    "village": dict(zip(ACTIONS, (_R, _R, _R, _R, _R, _N, _N, _N, _R, _N, _N), strict=True)),
    "township": dict(zip(ACTIONS, (_R, _R, _R, _R, _R, _N, _N, _N, _R, _N, _N), strict=True)),
    "county": dict(zip(ACTIONS, (_R, _R, _R, _R, _R, _R, _R, _R, _R, _R, _N), strict=True)),
    "province": dict(zip(ACTIONS, (_R, _R, _N, _N, _N, _N, _N, _N, _R, _N, _N), strict=True)),
    "department": dict(zip(ACTIONS, (_N, _N, _N, _N, _N, _F, _N, _F, _F, _N, _N), strict=True)),
    "admin": dict(zip(ACTIONS, (_N, _N, _N, _N, _N, _N, _N, _N, _A, _A, _A), strict=True)),
}

#: Notes printed under the table (what a scope means for an action where it is not obvious).
NOTES = (
    "`region` for `audit` (county): the entries written by users whose own scope lies inside the county.",
    "`region` for `import`, `run`, `rejects` (county): an installation serves one county; the county office "
    "imports every department's files and starts the month's run. A department uploads its own feed only "
    "(the dataset is forced to its feed) and reads the rejected rows of its own feed's imports.",
    "`case_write`: which workflow step a role may take is in the transition table above (column *who*).",
    "Rejected rows are personal data: ID numbers, phones and bank accounts in them are masked on screen "
    "and in the xlsx for every role; every download is audited.",
    "Every refusal answers 403 (pages: the error page) and writes a `denied` row to the audit log.",
)


def scope_for(role: str, action: str) -> Scope:
    """The scope of ``action`` for ``role`` (``none`` for an unknown role)."""
    if action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    return MATRIX.get(role, {}).get(action, Scope.NONE)


def allows(role: str, action: str) -> bool:
    """True when ``role`` may do ``action`` somewhere (its scope is not ``none``).

    >>> allows("township", "import"), allows("admin", "audit"), allows("province", "case_write")
    (False, True, False)
    """
    return scope_for(role, action) is not Scope.NONE


def require(role: str, action: str, *, username: str = "", feed: str | None = None, own: str = "") -> Scope:
    """Refuse (:class:`PermissionDenied`) unless ``role`` may do ``action``; returns the scope.

    For ``own_feed`` actions with a ``feed``, the feed must be the user's own (``own``: their scope).
    The region of one object is checked by :func:`jingzhun.auth.scope.check_region`.
    """
    found = scope_for(role, action)
    act = ACTIONS[action]
    if found is Scope.NONE:
        raise PermissionDenied(
            f"角色无权{act.zh} / role {role} may not {act.en.split(' (')[0]}" + (f" ({username})" if username else "")
        )
    if found is Scope.OWN_FEED and feed is not None and feed != own:
        raise PermissionDenied(
            f"只能{act.zh}（本部门 {own}）/ department {own} may only do this for its own feed, not {feed}"
        )
    return found


def markdown() -> str:
    """The matrix as a Markdown table (roles as columns), with its notes."""
    roles = list(MATRIX)
    lines = [
        "| action | " + " | ".join(roles) + " |",
        "| --- | " + " | ".join("---" for _ in roles) + " |",
    ]
    for act in ACTIONS.values():
        cells = [str(MATRIX[r][act.name]) if MATRIX[r][act.name] is not Scope.NONE else "—" for r in roles]
        lines.append(f"| `{act.name}` {act.zh}: {act.en} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {n}" for n in NOTES) + "\n"


if __name__ == "__main__":  # pragma: no cover - prints the docs table
    import sys

    sys.stdout.write(markdown())
