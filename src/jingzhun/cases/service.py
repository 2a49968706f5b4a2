"""The case service: open cases, take workflow steps, record measures and follow-ups, list and read.

Every method takes the acting :class:`~jingzhun.auth.Principal` and the client address, checks the
region scope (:mod:`jingzhun.auth.scope`), the workflow table (:mod:`jingzhun.cases.workflow`), and
writes the change, its ``case_event`` and its audit row in one transaction. Changes to a case use
optimistic locking: ``UPDATE ... WHERE id = :id AND version = :version``; a stale version raises
:class:`~jingzhun.errors.ConcurrentModification`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jingzhun import vocab
from jingzhun.audit import Actor, jsonable, record
from jingzhun.auth import permissions, scope
from jingzhun.auth.users import Principal
from jingzhun.cases import deadlines, workflow
from jingzhun.cases.ports import RiskChecks, no_risk_checks
from jingzhun.catalog import ENUMS
from jingzhun.errors import ConcurrentModification, JingzhunError, NotFound, PermissionDenied, WorkflowError
from jingzhun.ops.db import OpsStore
from jingzhun.ops.models import AssistanceMeasure, CaseEvent, FollowUp, MonitoringCase, utcnow
from jingzhun.regions import level_of, normalise_code, prefix_of
from jingzhun.settings import Settings

OPENING_ROLES = ("village", "township", "county")
EDITABLE = ("head_name", "risk_type", "reason", "monitoring_type")
_CASE_COLUMNS = [c.key for c in MonitoringCase.__table__.columns]


class CaseInputError(JingzhunError):
    """A request about a case carries a missing or invalid field."""


def _actor(principal: Principal, ip: str | None) -> Actor:
    return Actor(principal.username, principal.role, ip)


def _check_enum(name: str, value: str | None, field: str) -> None:
    if value is not None and value not in ENUMS[name]:
        raise CaseInputError(
            f"{field} 取值无效 / invalid {field} {value!r}; allowed: {', '.join(ENUMS[name])}"
        )


def case_dict(case: MonitoringCase, flags: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {key: getattr(case, key) for key in _CASE_COLUMNS}
    out["state_zh"] = workflow.STATES.get(case.state, case.state)
    out["channel_zh"] = workflow.CHANNELS.get(case.channel, case.channel)
    if flags:
        out.update(flags)
    return out


def measure_dict(m: AssistanceMeasure) -> dict[str, Any]:
    return {key: getattr(m, key) for key in (c.key for c in AssistanceMeasure.__table__.columns)}


def follow_up_dict(f: FollowUp) -> dict[str, Any]:
    return {key: getattr(f, key) for key in (c.key for c in FollowUp.__table__.columns)}


def event_dict(e: CaseEvent) -> dict[str, Any]:
    return {key: getattr(e, key) for key in (c.key for c in CaseEvent.__table__.columns)}


def describe_risk_checks(details: Any) -> tuple[str, str]:
    """The risk-elimination checks of a run in words (zh, en): the checks met and those still open, by
    rule title, instead of the port's dict.

    >>> zh, en = describe_risk_checks({"period": "2025-02", "passed_checks": {"exit.income_above_line": ""}})
    >>> en[:71], "not yet met: Compulsory education secured" in en
    ('run of 2025-02: met: Income stably above the monitoring line; not yet m', True)
    """
    if not isinstance(details, dict):
        return str(details), str(details)
    if "passed_checks" not in details:
        text = "; ".join(f"{k}: {v}" for k, v in details.items())
        return text, text
    passed = details.get("passed_checks") or {}
    checks = [r for r in vocab.rule_titles() if r.endswith("_secured") or r == "exit.income_above_line"]
    met = [r for r in checks if r in passed]
    missing = [r for r in checks if r not in passed]
    if "exit.no_labour_keep_assistance" in passed:  # fires when the household must stay assisted
        missing.append("exit.no_labour_keep_assistance")
    period = details.get("period") or ""

    def words(rules: list[str], lang: str) -> str:
        return ("、" if lang == "zh" else ", ").join(vocab.rule_title(r, lang) for r in rules) or "—"

    zh = f"{period} 监测结果：已满足 {words(met, 'zh')}；尚未满足 {words(missing, 'zh')}"
    en = f"run of {period}: met: {words(met, 'en')}; not yet met: {words(missing, 'en')}"
    return zh, en


class CaseService:
    """Cases in one operational store. ``risk_checks`` is the pipeline's port for 风险消除 checks;
    ``clock`` returns naive UTC datetimes (tests move it)."""

    def __init__(
        self,
        store: OpsStore,
        settings: Settings,
        risk_checks: RiskChecks = no_risk_checks,
        clock: Callable[[], dt.datetime] = utcnow,
    ):
        self.store = store
        self.settings = settings
        self.risk_checks = risk_checks
        self.clock = clock

    # --- queries -----------------------------------------------------------------------------------

    def _flagged(self, now: dt.datetime) -> Select[Any]:
        return select(
            MonitoringCase,
            deadlines.overdue(now).label("overdue"),
            deadlines.follow_up_due(now, self.settings.followup_months).label("follow_up_due"),
            deadlines.last_follow_up().label("last_follow_up"),
        )

    @staticmethod
    def _flags(row: Any) -> dict[str, Any]:
        return {
            "overdue": bool(row.overdue),
            "follow_up_due": bool(row.follow_up_due),
            "last_follow_up": row.last_follow_up,
        }

    def list_cases(
        self,
        principal: Principal,
        ip: str | None = None,
        *,
        state: Sequence[str] | None = None,
        region: str | None = None,
        channel: str | None = None,
        household_id: str | None = None,
        overdue: bool | None = None,
        follow_up_due: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of the cases the principal may see, newest first, with the total count; overdue and
        follow-up flags come from SQL. Roles that may read no personal data are refused (403)."""
        permissions.require(principal.role, "read", username=principal.username)
        now = self.clock()
        stmt = scope.scoped_select(self._flagged(now), MonitoringCase.village_code, principal)
        if state:
            stmt = stmt.where(MonitoringCase.state.in_(list(state)))
        if region:
            code = normalise_code(region)
            stmt = stmt.where(MonitoringCase.village_code.like(prefix_of(code, level_of(code)) + "%"))
        if channel:
            stmt = stmt.where(MonitoringCase.channel == channel)
        if household_id:
            stmt = stmt.where(MonitoringCase.household_id == household_id)
        if overdue is not None:
            cond = deadlines.overdue(now)
            stmt = stmt.where(cond if overdue else ~cond)
        if follow_up_due is not None:
            cond = deadlines.follow_up_due(now, self.settings.followup_months)
            stmt = stmt.where(cond if follow_up_due else ~cond)
        with self.store.session() as session:
            total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = session.execute(stmt.order_by(MonitoringCase.id.desc()).limit(limit).offset(offset)).all()
            items = [case_dict(r.MonitoringCase, self._flags(r)) for r in rows]
            record(
                session,
                _actor(principal, ip),
                "list",
                "case",
                None,
                at=now,
                details={
                    "filters": {
                        "state": list(state or []),
                        "region": region,
                        "channel": channel,
                        "household_id": household_id,
                        "overdue": overdue,
                        "follow_up_due": follow_up_due,
                    },
                    "case_ids": [i["id"] for i in items],
                    "total": int(total),
                },
            )
        return items, int(total)

    def _load(self, session: Session, principal: Principal, case_id: int, *, write: bool) -> MonitoringCase:
        case = session.get(MonitoringCase, case_id)
        if case is None:
            raise NotFound(f"案件 {case_id} 不存在 / no case {case_id}")
        scope.check_region(principal, case.village_code, write=write)
        return case

    def get_case(self, principal: Principal, ip: str | None, case_id: int) -> dict[str, Any]:
        """A case with its measures, follow-ups, history and the steps the principal may take now."""
        now = self.clock()
        with self.store.session() as session:
            case = self._load(session, principal, case_id, write=False)
            row = session.execute(self._flagged(now).where(MonitoringCase.id == case_id)).one()
            out = case_dict(case, self._flags(row))
            out["measures"] = [
                measure_dict(m)
                for m in session.scalars(
                    select(AssistanceMeasure)
                    .where(AssistanceMeasure.case_id == case_id)
                    .order_by(AssistanceMeasure.id)
                )
            ]
            out["follow_ups"] = [
                follow_up_dict(f)
                for f in session.scalars(
                    select(FollowUp)
                    .where(FollowUp.case_id == case_id)
                    .order_by(FollowUp.visit_date, FollowUp.id)
                )
            ]
            out["events"] = [
                event_dict(e)
                for e in session.scalars(
                    select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
                )
            ]
            writes = scope.ROLES[principal.role].writes
            out["allowed_actions"] = (
                [t.action for t in workflow.available(case.state, principal.role)] if writes else []
            )
            record(session, _actor(principal, ip), "view", "case", case_id, at=now)
        return out

    # --- changes -----------------------------------------------------------------------------------

    def open_case(
        self,
        principal: Principal,
        ip: str | None,
        *,
        household_id: str,
        village_code: str,
        head_name: str,
        channel: str,
        risk_type: str | None = None,
        reason: str | None = None,
        monitoring_type: str | None = None,
        run_id: str | None = None,
        alert_id: str | None = None,
        rule_ids: list[str] | None = None,
        evidence: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Open a case (state 线索) through one of the three channels. A household has at most one case
        that is neither eliminated nor closed."""
        scope.require_role(principal, *OPENING_ROLES)
        if channel not in workflow.CHANNELS:
            raise CaseInputError(
                f"渠道无效 / channel must be one of {', '.join(workflow.CHANNELS)}, got {channel!r}"
            )
        if level_of(village_code) != "village":
            raise CaseInputError(f"village_code {village_code} 不是行政村代码 / is not a village code")
        scope.check_region(principal, village_code, write=True)
        if not household_id or not head_name:
            raise CaseInputError("household_id 与 head_name 必填 / household_id and head_name are required")
        if channel == "dept_alert" and not (run_id and rule_ids):
            raise CaseInputError(
                "部门筛查预警需提供 run_id 与 rule_ids / a department alert needs run_id and rule_ids"
            )
        _check_enum("risk_type", risk_type, "risk_type")
        _check_enum("monitoring_type", monitoring_type, "monitoring_type")
        now = self.clock()
        with self.store.session() as session:
            active = session.scalar(
                select(MonitoringCase.id).where(
                    MonitoringCase.household_id == household_id,
                    MonitoringCase.state.not_in(workflow.FINAL_STATES),
                )
            )
            if active is not None:
                raise WorkflowError(
                    f"该户已有在办案件 {active} / household {household_id} already has open case {active}"
                )
            case = MonitoringCase(
                household_id=household_id,
                village_code=village_code,
                head_name=head_name,
                channel=channel,
                state="clue",
                risk_type=risk_type,
                reason=reason,
                monitoring_type=monitoring_type,
                run_id=run_id,
                alert_id=alert_id,
                rule_ids=rule_ids,
                evidence=jsonable(evidence) if evidence is not None else None,
                opened_by=principal.username,
                opened_at=now,
                due_at=deadlines.due_at(now, self.settings.time_limit_days(village_code)),
                updated_at=now,
                version=1,
            )
            session.add(case)
            try:
                session.flush()
            except IntegrityError:  # opened by someone else (or the alert handoff) in the meantime
                raise WorkflowError(
                    f"该户已有在办案件 / household {household_id} already has an open case"
                ) from None
            session.add(
                CaseEvent(
                    case_id=case.id,
                    at=now,
                    actor=principal.username,
                    action="open",
                    to_state="clue",
                    payload=jsonable({"channel": channel, "run_id": run_id, "rule_ids": rule_ids}),
                )
            )
            out = case_dict(case)
            record(session, _actor(principal, ip), "create", "case", case.id, at=now, new=out)
        return out

    def transition(
        self, principal: Principal, ip: str | None, case_id: int, action: str, version: int, **fields: Any
    ) -> dict[str, Any]:
        """Take workflow step ``action`` on a case read at ``version``.

        ``fields`` may carry ``reason``, ``findings``, ``authorisation_ref``, ``monitoring_type``.
        """
        now = self.clock()
        with self.store.session() as session:
            case = self._load(session, principal, case_id, write=True)
            step = workflow.find(case.state, action)
            if step is None:
                allowed = ", ".join(t.action for t in workflow.TRANSITIONS if t.source == case.state) or "—"
                raise WorkflowError(
                    f"当前状态「{workflow.STATES[case.state]}」不能执行 {action} / action {action!r} is not "
                    f"possible in state {case.state}; possible: {allowed}"
                )
            if principal.role not in step.roles:
                raise PermissionDenied(
                    f"「{workflow.ACTIONS[action]}」需由 {'/'.join(step.roles)} 办理 / {action} needs role "
                    f"{' or '.join(step.roles)}, {principal.username} is {principal.role}"
                )
            if case.version != version:
                raise self._stale(case_id, version, case.version)
            fields = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in fields.items()}
            for name in step.requires:
                present = fields.get(name) or (getattr(case, name) if name == "monitoring_type" else None)
                if not present:
                    raise CaseInputError(
                        f"「{workflow.ACTIONS[action]}」需填写 {name} / {action} requires {name}"
                    )
            _check_enum("monitoring_type", fields.get("monitoring_type"), "monitoring_type")
            changes: dict[str, Any] = {"state": step.target}
            details: Any = None
            for guard in step.guards:
                details = self._guard(session, case, guard, now)
                if guard == "risk_checks_pass":
                    changes["risk_check_details"] = jsonable(details)
            for effect in step.effects:
                changes.update(self._effect(effect, fields, now))
            if fields.get("monitoring_type"):
                changes["monitoring_type"] = fields["monitoring_type"]
            old = {key: getattr(case, key) for key in changes} | {"version": case.version}
            self._update(session, case_id, version, changes, now)
            session.add(
                CaseEvent(
                    case_id=case_id,
                    at=now,
                    actor=principal.username,
                    action=action,
                    from_state=old["state"],
                    to_state=step.target,
                    reason=fields.get("reason"),
                    payload=jsonable({k: v for k, v in fields.items() if v is not None}),
                )
            )
            session.refresh(case)
            out = case_dict(case)
            record(
                session,
                _actor(principal, ip),
                "transition:" + action,
                "case",
                case_id,
                at=now,
                old=old,
                new={key: out[key] for key in changes} | {"version": case.version},
            )
        return out

    def edit(
        self, principal: Principal, ip: str | None, case_id: int, version: int, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """Change descriptive fields (head_name, risk_type, reason, monitoring_type) of a case."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise CaseInputError(f"不可修改的字段 / fields cannot be edited: {', '.join(sorted(unknown))}")
        if not changes:
            raise CaseInputError("没有要修改的字段 / nothing to change")
        if "head_name" in changes and not (changes["head_name"] or "").strip():
            raise CaseInputError("户主姓名不能为空 / head_name must not be empty")
        _check_enum("risk_type", changes.get("risk_type"), "risk_type")
        _check_enum("monitoring_type", changes.get("monitoring_type"), "monitoring_type")
        now = self.clock()
        with self.store.session() as session:
            case = self._load(session, principal, case_id, write=True)
            scope.require_role(principal, *OPENING_ROLES)
            if case.state in workflow.FINAL_STATES:
                raise WorkflowError(f"案件已办结 / case {case_id} is {case.state} and cannot change")
            if case.version != version:
                raise self._stale(case_id, version, case.version)
            old = {key: getattr(case, key) for key in changes} | {"version": case.version}
            self._update(session, case_id, version, dict(changes), now)
            session.add(
                CaseEvent(
                    case_id=case_id,
                    at=now,
                    actor=principal.username,
                    action="edit",
                    from_state=case.state,
                    to_state=case.state,
                    payload=jsonable(changes),
                )
            )
            session.refresh(case)
            out = case_dict(case)
            record(
                session,
                _actor(principal, ip),
                "update",
                "case",
                case_id,
                at=now,
                old=old,
                new=dict(changes) | {"version": case.version},
            )
        return out

    def add_measure(
        self,
        principal: Principal,
        ip: str | None,
        case_id: int,
        *,
        measure_type: str,
        helper: str,
        start_date: dt.date,
        amount: Decimal | float | str | None = None,
        end_date: dt.date | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Record an assistance measure on a confirmed monitoring object."""
        if measure_type not in workflow.MEASURE_TYPES:
            raise CaseInputError(
                f"帮扶措施类型无效 / measure_type must be one of {', '.join(workflow.MEASURE_TYPES)}"
            )
        if not helper:
            raise CaseInputError("帮扶责任人必填 / helper is required")
        if end_date is not None and end_date < start_date:
            raise CaseInputError("结束日期早于开始日期 / end_date is before start_date")
        try:
            value = None if amount is None else Decimal(str(amount)).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise CaseInputError(f"金额无效 / invalid amount {amount!r}") from None
        now = self.clock()
        with self.store.session() as session:
            case = self._load(session, principal, case_id, write=True)
            scope.require_role(principal, *OPENING_ROLES)
            if case.state not in workflow.MONITORED_STATES:
                raise WorkflowError(
                    f"只有监测对象才能录入帮扶措施 / measures need a confirmed case; case is {case.state}"
                )
            measure = AssistanceMeasure(
                case_id=case_id,
                measure_type=measure_type,
                helper=helper,
                amount=value,
                start_date=start_date,
                end_date=end_date,
                description=description,
                created_by=principal.username,
                created_at=now,
            )
            return self._add_case_item(
                session, principal, ip, case, measure, measure_dict, "add_measure", "assistance_measure", now
            )

    def add_follow_up(
        self,
        principal: Principal,
        ip: str | None,
        case_id: int,
        *,
        visit_date: dt.date,
        visitor: str,
        findings: str,
    ) -> dict[str, Any]:
        """Record a follow-up visit (at least every ``followup_months`` months)."""
        if not findings or not visitor:
            raise CaseInputError("走访人和走访情况必填 / visitor and findings are required")
        now = self.clock()
        if visit_date > now.date():
            raise CaseInputError("走访日期不能晚于今天 / visit_date is in the future")
        with self.store.session() as session:
            case = self._load(session, principal, case_id, write=True)
            scope.require_role(principal, *OPENING_ROLES)
            if case.state not in workflow.MONITORED_STATES:
                raise WorkflowError(
                    f"只有监测对象才能录入回访 / follow-ups need a confirmed case; case is {case.state}"
                )
            item = FollowUp(
                case_id=case_id,
                visit_date=visit_date,
                visitor=visitor,
                findings=findings,
                created_by=principal.username,
                created_at=now,
            )
            return self._add_case_item(
                session, principal, ip, case, item, follow_up_dict, "add_follow_up", "follow_up", now
            )

    @staticmethod
    def _add_case_item(
        session: Session,
        principal: Principal,
        ip: str | None,
        case: MonitoringCase,
        item: AssistanceMeasure | FollowUp,
        as_dict: Callable[[Any], dict[str, Any]],
        action: str,
        entity: str,
        now: dt.datetime,
    ) -> dict[str, Any]:
        """Store a measure or follow-up of ``case`` with its case event and audit row (one transaction)."""
        session.add(item)
        session.flush()
        out = as_dict(item)
        session.add(
            CaseEvent(
                case_id=case.id,
                at=now,
                actor=principal.username,
                action=action,
                from_state=case.state,
                to_state=case.state,
                payload=jsonable(out),
            )
        )
        record(session, _actor(principal, ip), "create", entity, item.id, at=now, new=out)
        return out

    def notice_cases(self, principal: Principal, ip: str | None, village_code: str) -> list[MonitoringCase]:
        """Cases of one village in notice (公示) now; the export is audited."""
        scope.check_region(principal, village_code)
        now = self.clock()
        with self.store.session() as session:
            stmt = scope.scoped_select(select(MonitoringCase), MonitoringCase.village_code, principal).where(
                MonitoringCase.village_code == village_code, MonitoringCase.state.in_(workflow.NOTICE_STATES)
            )
            cases = list(session.scalars(stmt.order_by(MonitoringCase.id)))
            record(
                session,
                _actor(principal, ip),
                "export",
                "notice",
                village_code,
                at=now,
                details={"case_ids": [c.id for c in cases]},
            )
        return cases

    # --- internals ---------------------------------------------------------------------------------

    @staticmethod
    def _stale(case_id: int, version: int, current: int) -> ConcurrentModification:
        return ConcurrentModification(
            f"案件 {case_id} 已被他人修改，请刷新后重试 / case {case_id} was changed by someone else "
            f"(you read version {version}, it is now {current}); reload and try again"
        )

    def _update(
        self, session: Session, case_id: int, version: int, changes: dict[str, Any], now: dt.datetime
    ) -> None:
        result = session.execute(
            update(MonitoringCase)
            .where(MonitoringCase.id == case_id, MonitoringCase.version == version)
            .values(**changes, version=version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            current = (
                session.scalar(select(MonitoringCase.version).where(MonitoringCase.id == case_id)) or version
            )
            raise self._stale(case_id, version, current)

    def _guard(self, session: Session, case: MonitoringCase, guard: str, now: dt.datetime) -> Any:
        if guard == "notice_elapsed":
            if case.notice_end is None or now < case.notice_end:
                end = f"{case.notice_end:%Y-%m-%d %H:%M}" if case.notice_end else "?"
                raise WorkflowError(
                    f"公示期未满（至 {end}）/ the notice runs until {end} UTC "
                    f"(at least {self.settings.notice_days} days)"
                )
            return None
        if guard == "has_measure":
            count = session.scalar(select(func.count()).where(AssistanceMeasure.case_id == case.id)) or 0
            if not count:
                raise WorkflowError("请先录入至少一项帮扶措施 / record at least one assistance measure first")
            return None
        if guard == "followed_up":
            since = case.confirmed_at.date() if case.confirmed_at else None
            query = select(func.count()).where(FollowUp.case_id == case.id)
            if since is not None:
                query = query.where(FollowUp.visit_date >= since)
            if not (session.scalar(query) or 0):
                day = f"{since:%Y-%m-%d}" if since else "?"
                raise WorkflowError(
                    f"县级审定（{day}）后尚无跟踪回访记录，请先入户回访 / record a follow-up visit made after "
                    f"the county's confirmation ({day}) first"
                )
            return None
        if guard == "risk_checks_pass":
            passed, details = self.risk_checks(case.household_id)
            if not passed:
                zh, en = describe_risk_checks(details)
                raise WorkflowError(
                    f"风险消除条件未满足（{case.household_id}）：{zh} / the risk-elimination checks of the "
                    f"latest run do not pass for household {case.household_id}: {en}"
                )
            return details
        raise AssertionError(f"unknown guard {guard}")

    def _effect(self, effect: str, fields: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        if effect == "visit":
            out = {"visit_findings": fields.get("findings")}
            if fields.get("authorisation_ref"):
                out |= {"authorisation_ref": fields["authorisation_ref"], "authorisation_signed_at": now}
            return out
        if effect == "notice":
            return {"notice_start": now, "notice_end": now + dt.timedelta(days=self.settings.notice_days)}
        if effect == "confirm":
            return {"confirmed_at": now}
        if effect == "eliminate":
            return {"eliminated_at": now}
        if effect == "close":
            return {"closed_at": now, "closed_reason": fields.get("reason")}
        raise AssertionError(f"unknown effect {effect}")
