"""整改 (corrective action), every step for every channel: the bureau issues one from a review or from a light, the
department's clerk or head answers with its 整改结果和结论, the bureau accepts it or reopens it.

As in `service`, each step checks who may take it and whether the item allows it before anything is written; a
refusal raises (`NotAllowed` for the role, `NotVisible` for another department's item, `RoundError` for the
state) and leaves the store as it was. Each step is audited in the same transaction; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from monitor.accounts.permissions import NotAllowed, NotVisible, may_see_department, visible_department_ids
from monitor.rounds.documents import task_projects
from monitor.rounds.service import FILLERS, RoundError, get_round, task_for, versions
from monitor.store import audit
from monitor.store.models import ANSWERABLE_CORRECTIVE_STATUSES, CorrectiveAction, Indicator, Project, User
from monitor.store.rows import stored_id
from monitor.store.types import now
from rules.terms import CORRECTIVE_STATUS_NAMES

MAX_TEXT = 4000
ANSWERABLE = ANSWERABLE_CORRECTIVE_STATUSES  # waiting for the department's 整改结果
UNFINISHED = ("open", "answered", "reopened")  # not yet accepted by the bureau
ENTITY = "corrective"


@dataclass(frozen=True)
class Origin:
    """Where a 整改 comes from: a reviewed task of a round, or (task None) a light on a project or indicator."""

    project_id: int
    indicator_id: int | None = None
    task_id: int | None = None


def _require_admin(user: User, what: str) -> None:
    if user.role != "admin" or user.disabled:
        raise NotAllowed(f"只有财政局管理员可以{what} (only the finance bureau's administrators may do this)")


def _text(value: str | None, what: str, *, required: bool = True) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise RoundError(f"请填写{what} ({what} is required)")
        return None
    if len(text) > MAX_TEXT:
        raise RoundError(f"{what}过长（{len(text)} 字，最多 {MAX_TEXT}）(text too long)")
    if "\x00" in text:
        raise RoundError(f"{what}含有不可见的 NUL 字符 (NUL character)")
    return text


def _snapshot(action: CorrectiveAction) -> dict:
    return {"status": action.status, "due": action.due.isoformat(), "project_id": action.project_id,
            "indicator_id": action.indicator_id, "round_id": action.round_id}


def action_for(session: Session, user: User, action_id: int) -> CorrectiveAction:
    """The item, or `NotVisible` when it does not exist or belongs to another department (existence never leaks)."""
    action = session.get(CorrectiveAction, action_id)
    if action is None or not may_see_department(session, user, action.department_id):
        raise NotVisible(f"整改事项 {action_id} 不存在或不属于本部门 (no such corrective action)")
    return action


def visible_actions(session: Session, user: User, *, statuses: tuple[str, ...] | None = None,
                    department_id: int | None = None) -> list[CorrectiveAction]:
    """The items `user` may see (the bureau: all; a department: its own and its units'), by due date."""
    query = select(CorrectiveAction)
    visible = visible_department_ids(session, user)
    if visible is not None:
        query = query.where(col(CorrectiveAction.department_id).in_(visible or {-1}))
    if department_id is not None:
        query = query.where(CorrectiveAction.department_id == department_id)
    if statuses:
        query = query.where(col(CorrectiveAction.status).in_(statuses))
    return list(session.exec(query.order_by(col(CorrectiveAction.due), col(CorrectiveAction.id))))


def unfinished_for_department(session: Session, department_id: int) -> list[CorrectiveAction]:
    """What a department still owes or awaits acceptance on: the next round's task page lists these."""
    return list(session.exec(select(CorrectiveAction).where(
        CorrectiveAction.department_id == department_id, col(CorrectiveAction.status).in_(UNFINISHED))
        .order_by(col(CorrectiveAction.due), col(CorrectiveAction.id))))


def issue(session: Session, user: User, origin: Origin, *, requirement: str, due: date, today: date,
          channel: str = "portal") -> CorrectiveAction:
    """The bureau requires a 整改 with its 整改要求和建议 and a due date, on a project (or one of its indicators);
    from a review the task must have a reviewed version and the project must be part of it."""
    _require_admin(user, "发起整改")
    text = _text(requirement, "整改要求和建议")
    project = session.get(Project, origin.project_id)
    if project is None:
        raise NotVisible(f"项目 {origin.project_id} 不存在 (no such project)")
    if origin.indicator_id is not None:
        indicator = session.get(Indicator, origin.indicator_id)
        if indicator is None or indicator.project_id != project.id:
            raise RoundError(f"指标 {origin.indicator_id} 不属于项目“{project.name}”(the indicator is not of this "
                             "project)")
    if due < today:
        raise RoundError(f"整改期限 {due.isoformat()} 早于今天 {today.isoformat()} (the due date is in the past)")
    round_id = submission_id = None
    if origin.task_id is not None:
        task = task_for(session, user, origin.task_id)
        if project.id not in task_projects(task):
            raise RoundError(f"项目“{project.name}”不在任务 {task.id} 中 (the project is not part of this task)")
        reviewed = [v for v in versions(session, stored_id(task)) if v.verdict is not None]
        if not reviewed:
            raise RoundError(f"任务 {task.id} 还没有审核过的版本，请先审核再发起整改 (review the task first)")
        round_id, submission_id = get_round(session, task.round_id).id, reviewed[-1].id
    action = CorrectiveAction(round_id=round_id, submission_id=submission_id, department_id=project.department_id,
                              project_id=stored_id(project), indicator_id=origin.indicator_id, requirement=text or "",
                              due=due, status="open", issued_by=user.id, issued_at=now())
    session.add(action)
    session.flush()
    audit.record(session, actor=user, channel=channel, action="issue", entity=ENTITY, entity_id=action.id,
                 department_id=action.department_id, after=_snapshot(action) | {"requirement": action.requirement})
    return action


def answer(session: Session, user: User, action_id: int, text: str, *, channel: str = "portal") -> CorrectiveAction:
    """The department's clerk or head writes its 整改结果和结论; an item already answered waits for the bureau,
    an accepted one is finished."""
    action = action_for(session, user, action_id)
    if user.role not in FILLERS or user.disabled:
        raise NotAllowed("只有本部门经办人或负责人可以答复整改 (only the department's clerk or head may answer)")
    if action.status not in ANSWERABLE:
        state = CORRECTIVE_STATUS_NAMES[action.status]
        raise RoundError(f"整改事项 {action_id} {state}，不能再答复"
                         + ("，请等待财政局验收 (already answered; awaiting the bureau)" if action.status == "answered"
                            else " (the item is closed)"))
    result = _text(text, "整改结果和结论")
    before = _snapshot(action)
    action.status, action.answer, action.answered_by, action.answered_at = "answered", result, user.id, now()
    session.add(action)
    audit.record(session, actor=user, channel=channel, action="answer", entity=ENTITY, entity_id=action.id,
                 department_id=action.department_id, before=before, after=_snapshot(action) | {"answer": result})
    return action


def _decide(session: Session, user: User, action_id: int, verdict: str, note: str | None, new_due: date | None,
            today: date, channel: str) -> CorrectiveAction:
    _require_admin(user, "验收整改")
    action = action_for(session, user, action_id)
    if action.status != "answered":
        raise RoundError(f"整改事项 {action_id} {CORRECTIVE_STATUS_NAMES[action.status]}，没有待验收的整改结果 "
                         "(nothing answered to accept or reopen)")
    reason = _text(note, "重新整改的原因", required=verdict == "reopened")
    if new_due is not None and new_due < today:
        raise RoundError(f"新的整改期限 {new_due.isoformat()} 早于今天 {today.isoformat()} "
                         "(the due date is in the past)")
    before = _snapshot(action)
    action.status, action.decided_by, action.decided_at, action.decision_note = verdict, user.id, now(), reason
    if new_due is not None:
        action.due = new_due
    session.add(action)
    audit.record(session, actor=user, channel=channel, action="accept" if verdict == "accepted" else "reopen",
                 entity=ENTITY, entity_id=action.id, department_id=action.department_id, before=before,
                 after=_snapshot(action), note=reason)
    return action


def accept(session: Session, user: User, action_id: int, *, today: date, note: str | None = None,
           channel: str = "portal") -> CorrectiveAction:
    """The bureau accepts the answer: the 整改 is finished and leaves digests and task pages."""
    return _decide(session, user, action_id, "accepted", note, None, today, channel)


def reopen(session: Session, user: User, action_id: int, *, today: date, note: str, due: date | None = None,
           channel: str = "portal") -> CorrectiveAction:
    """The bureau sends the answer back with the reason (and, if given, a new due date); the department answers
    again."""
    return _decide(session, user, action_id, "reopened", note, due, today, channel)
