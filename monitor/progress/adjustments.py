"""Target adjustments (目标调整), the same for the portal, the API, the CLI and a re-import: request, approve, reject.

A department (its clerk or head) asks for a new 指标值 for one of its own indicators, with a reason and the day it
should take effect; only the finance bureau's administrators decide, once, to approve or reject it. An approved
adjustment is the target in force from its effective day (`monitor.store.target_versions`); the target as
imported stays on the indicator, so the tables can show 原目标 → 调整后目标. A text the grammar cannot read is kept
verbatim and flagged, as the importer keeps such a 指标值. Every refusal raises before anything is written
(`NotAllowed` for the role, `NotVisible` for another department's indicator, `AdjustmentRefused` for the
request's state or content); every step is audited in the caller's transaction, which the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from monitor.accounts.permissions import NotAllowed, NotVisible, indicator_for, visible_department_ids
from monitor.store import audit
from monitor.store.models import BudgetYear, Department, Indicator, Project, TargetAdjustment, User
from monitor.store.rows import stored_id
from monitor.store.target_versions import target_in_force
from monitor.store.types import now
from rules.targets import NOTES, Target, note_en, parse_target
from rules.terms import ADJUSTMENT_STATUS_NAMES, ADJUSTMENT_STATUSES, UNPARSED

REQUESTERS = ("clerk", "head")  # a department's own staff; the bureau decides and never asks itself
MAX_TEXT = 500
MAX_NOTE = 2000
AUDIT_FIELDS = ("indicator_id", "value_text", "previous_text", "reason", "effective_on", "status", "channel",
                "decision_note")


class AdjustmentRefused(ValueError):
    """A request or decision its content or state does not allow; the message says what, in Chinese first."""


@dataclass(frozen=True)
class AdjustmentView:
    """One adjustment as every channel shows it: the row with its indicator's and project's names."""

    id: int
    indicator_id: int
    indicator: str
    project_id: int
    project: str
    department_id: int
    department_code: str
    original_text: str  # 原目标: the target as imported
    previous_text: str | None  # the target in force when it was asked for
    value_text: str  # 调整后目标, as asked for
    kind: str
    flag: str | None  # why the grammar could not read it, or why the value looks mistyped
    flag_en: str | None  # the same in English
    reason: str
    effective_on: date
    status: str
    status_name: str
    channel: str
    requested_by: str | None
    requested_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


# What the portal says of a proposed 指标值 the grammar could not read; the note is the grammar's, in each language.
UNPARSED_FLAG = {"zh": "指标值无法解析，已原样保存：{note}",
                 "en": "The target cannot be read and is kept as written: {note}"}


def flag_of(target: Target, lang: str = "zh") -> str | None:
    """What a person should check in a proposed target, as the import report flags it (None: nothing), in `lang`."""
    if target.kind == UNPARSED:
        return flag_in(lang, UNPARSED_FLAG["zh"].format(note=target.reason or NOTES["unreadable"]["zh"]))
    return flag_in(lang, target.suspicious)


def flag_in(lang: str, flag: str | None) -> str | None:
    """A flag as `flag_of` wrote it in Chinese (an audit event keeps it so), in `lang`; a flag in words this grammar
    no longer writes stays as stored."""
    if flag is None or lang == "zh":
        return flag
    head = UNPARSED_FLAG["zh"].split("{note}")[0]
    if flag.startswith(head):
        return UNPARSED_FLAG["en"].format(note=note_en(flag[len(head):]) or NOTES["unreadable"]["en"])
    return note_en(flag) or flag


def read_target(indicator: Indicator, year: int, text: str) -> Target:
    """The grammar's reading of a proposed 指标值, with the indicator's own hints (二级指标, name), as an import
    reads it."""
    return parse_target(text, year=year, level2=indicator.level2, name=indicator.name)


def project_year(session: Session, project: Project) -> int:
    return session.exec(select(col(BudgetYear.year)).where(BudgetYear.id == project.budget_year_id)).one()


def pending_for(session: Session, indicator_id: int) -> TargetAdjustment | None:
    return session.exec(select(TargetAdjustment).where(TargetAdjustment.indicator_id == indicator_id,
                                                       TargetAdjustment.status == "proposed")).first()


def request_adjustment(session: Session, user: User, indicator_id: int, *, text: str, reason: str,
                       effective_on: date | None, channel: str, today: date) -> TargetAdjustment:
    """A department asks for a new 指标值 from `effective_on` (today when not given); audited, not yet in force."""
    if user.disabled or user.role not in REQUESTERS:
        raise NotAllowed("只有部门的经办人或负责人可以申请目标调整 "
                         "(only a department's clerk or head may request a target adjustment)")
    indicator, project = indicator_for(session, user, indicator_id)
    year = project_year(session, project)
    text, reason = (text or "").strip(), (reason or "").strip()
    when = effective_on or today
    if not text:
        raise AdjustmentRefused("请填写调整后的指标值 (the new target is empty)")
    if len(text) > MAX_TEXT:
        raise AdjustmentRefused(f"指标值超过 {MAX_TEXT} 个字符 (the target is too long)")
    if not reason:
        raise AdjustmentRefused("请说明调整理由 (a reason is required)")
    if len(reason) > MAX_NOTE:
        raise AdjustmentRefused(f"调整理由超过 {MAX_NOTE} 个字符 (the reason is too long)")
    if when.year != year:
        raise AdjustmentRefused(f"生效日期 {when.isoformat()} 不在 {year} 预算年度内 "
                                f"(the effective day must fall in budget year {year})")
    if pending_for(session, stored_id(indicator)) is not None:
        raise AdjustmentRefused(f"指标「{indicator.name}」已有待审核的调整申请，请等待财政局审批 "
                                "(this indicator already has a pending adjustment)")
    current = target_in_force(session, indicator, when)
    if current.text == text:
        raise AdjustmentRefused(f"调整后的指标值与 {when.isoformat()} 现行的指标值「{text}」相同 "
                                "(the new target equals the one in force)")
    return propose(session, indicator, read_target(indicator, year, text), reason=reason, effective_on=when,
                   previous_text=current.text, channel=channel, actor=user)


def propose(session: Session, indicator: Indicator, target: Target, *, reason: str, effective_on: date,
            previous_text: str, channel: str, actor: User | str | None) -> TargetAdjustment:
    """Store a proposal for `indicator` (checked by the caller: a department's request, or a re-import that may not
    overwrite a target once a round has opened) with its audit event."""
    row = TargetAdjustment(indicator_id=stored_id(indicator), value_text=target.text, target_json=target.to_json(),
                           previous_text=previous_text, reason=reason, effective_on=effective_on, status="proposed",
                           channel=channel, requested_by=actor.id if isinstance(actor, User) else None,
                           requested_at=now())
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, channel=channel, action="request", entity="target_adjustment",
                 entity_id=row.id, department_id=_department_of(session, indicator),
                 after=audit.snapshot(row, AUDIT_FIELDS), note=flag_of(target))
    return row


def _department_of(session: Session, indicator: Indicator) -> int | None:
    project = session.get(Project, indicator.project_id)
    return project.department_id if project is not None else None


def _require_bureau_admin(user: User) -> None:
    if user.disabled or user.role != "admin":
        raise NotAllowed("只有财政局管理员可以审批目标调整，部门不能审批本部门的申请 "
                         "(only the finance bureau's admins approve or reject target adjustments)")


def adjustment_for(session: Session, user: User, adjustment_id: int) -> TargetAdjustment:
    """The adjustment, or `NotVisible` when it does not exist or belongs to another department."""
    row = session.get(TargetAdjustment, adjustment_id)
    if row is not None:
        try:
            indicator_for(session, user, row.indicator_id)
        except NotVisible:
            row = None
    if row is None:
        raise NotVisible(f"目标调整 {adjustment_id} 不存在 (no such target adjustment)")
    return row


def _decide(session: Session, user: User, adjustment_id: int, verdict: str, note: str | None, channel: str,
            effective_on: date | None = None) -> TargetAdjustment:
    _require_bureau_admin(user)
    row = adjustment_for(session, user, adjustment_id)
    if row.status != "proposed":
        raise AdjustmentRefused(f"目标调整 {adjustment_id} 已{ADJUSTMENT_STATUS_NAMES[row.status]}，不能再次审批 "
                                f"(already {row.status})")
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise AdjustmentRefused(f"审批意见超过 {MAX_NOTE} 个字符 (the note is too long)")
    if verdict == "rejected" and note is None:
        raise AdjustmentRefused("驳回时请填写审批意见 (a rejection needs a note saying why)")
    indicator, project = indicator_for(session, user, row.indicator_id)
    if effective_on is not None:
        year = project_year(session, project)
        if effective_on.year != year:
            raise AdjustmentRefused(f"生效日期 {effective_on.isoformat()} 不在 {year} 预算年度内 "
                                    f"(the effective day must fall in budget year {year})")
    before = audit.snapshot(row, AUDIT_FIELDS)
    row.status, row.decided_by, row.decided_at, row.decision_note = verdict, user.id, now(), note
    if effective_on is not None:
        row.effective_on = effective_on
    session.add(row)
    session.flush()
    audit.record(session, actor=user, channel=channel, action="approve" if verdict == "approved" else "reject",
                 entity="target_adjustment", entity_id=row.id, department_id=project.department_id,
                 before=before, after=audit.snapshot(row, AUDIT_FIELDS))
    return row


def approve_adjustment(session: Session, user: User, adjustment_id: int, *, note: str | None = None,
                       effective_on: date | None = None, channel: str) -> TargetAdjustment:
    """The bureau approves: the new target is in force from the effective day (the requested one unless the bureau
    sets another)."""
    return _decide(session, user, adjustment_id, "approved", note, channel, effective_on)


def reject_adjustment(session: Session, user: User, adjustment_id: int, *, note: str, channel: str
                      ) -> TargetAdjustment:
    """The bureau rejects, saying why; the target in force stays as it was."""
    return _decide(session, user, adjustment_id, "rejected", note, channel)


def list_adjustments(session: Session, user: User, *, status: str | None = None, indicator_id: int | None = None,
                     project_id: int | None = None) -> list[AdjustmentView]:
    """The adjustments `user` may see (the bureau: all; a department: its own), newest first."""
    if status is not None and status not in ADJUSTMENT_STATUSES:
        raise AdjustmentRefused(f"未知状态 {status!r}（可选：{', '.join(ADJUSTMENT_STATUSES)}）")
    query = (select(TargetAdjustment, Indicator, Project, Department)
             .join(Indicator, col(Indicator.id) == TargetAdjustment.indicator_id)
             .join(Project, col(Project.id) == Indicator.project_id)
             .join(Department, col(Department.id) == Project.department_id))
    visible = visible_department_ids(session, user)
    if visible is not None:
        query = query.where(col(Project.department_id).in_(visible or {-1}))
    if status is not None:
        query = query.where(TargetAdjustment.status == status)
    if indicator_id is not None:
        query = query.where(TargetAdjustment.indicator_id == indicator_id)
    if project_id is not None:
        query = query.where(col(Indicator.project_id) == project_id)
    rows = session.exec(query.order_by(col(TargetAdjustment.id).desc())).all()
    return describe(session, [(a, i, p, d) for a, i, p, d in rows])


def describe(session: Session, rows: Sequence[tuple[TargetAdjustment, Indicator, Project, Department]]
             ) -> list[AdjustmentView]:
    user_ids = {u for a, *_ in rows for u in (a.requested_by, a.decided_by) if u is not None}
    names = dict(session.exec(select(User.id, User.username).where(col(User.id).in_(user_ids or {-1}))).all())
    return [AdjustmentView(
        id=stored_id(a), indicator_id=a.indicator_id, indicator=i.name, project_id=stored_id(p), project=p.name,
        department_id=stored_id(d), department_code=d.code, original_text=i.value_text,
        previous_text=a.previous_text, value_text=a.value_text, kind=a.target.kind, flag=flag_of(a.target),
        flag_en=flag_of(a.target, "en"),
        reason=a.reason, effective_on=a.effective_on, status=a.status, status_name=ADJUSTMENT_STATUS_NAMES[a.status],
        channel=a.channel, requested_by=names.get(a.requested_by) if a.requested_by else None,
        requested_at=a.requested_at, decided_by=names.get(a.decided_by) if a.decided_by else None,
        decided_at=a.decided_at, decision_note=a.decision_note) for a, i, p, d in rows]


def view_of(session: Session, row: TargetAdjustment) -> AdjustmentView:
    indicator = session.get(Indicator, row.indicator_id)
    assert indicator is not None
    project = session.get(Project, indicator.project_id)
    assert project is not None
    department = session.get(Department, project.department_id)
    assert department is not None
    return describe(session, [(row, indicator, project, department)])[0]


__all__ = ["AdjustmentRefused", "AdjustmentView", "adjustment_for", "approve_adjustment", "flag_in", "flag_of",
           "list_adjustments", "propose", "reject_adjustment", "request_adjustment", "view_of"]
