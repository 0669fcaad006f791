"""What people do to notifications: acknowledge an item with a deviation cause, mute a project or indicator
for a while, and manage the contacts who receive digests. Used by the portal and the CLI alike."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from monitor.store.models import Contact, Department, Indicator, IndicatorState, Project
from monitor.store.models.core import CONTACT_ROLES
from monitor.store.models.notify import Acknowledgement, Waiver
from monitor.store.types import now
from rules.terms import DEVIATION_CAUSES


class ActionError(ValueError):
    """A request that cannot be carried out; the message says why, in Chinese."""


def acknowledge(session: Session, *, indicator_id: int, occurrence: str, cause: str, text: str, by: str,
                channel: str = "portal", expected_status: str | None = None,
                whole_item: bool = False) -> Acknowledgement:
    """Record the explanation against the item's current status: it stays silent until the status changes.
    `whole_item` also covers the indicator's other occurrences in that status: a digest folds a monthly task
    overdue for six months into one item with one link, and one explanation answers all six."""
    if cause not in DEVIATION_CAUSES:
        raise ActionError(f"偏差原因必须是：{'、'.join(DEVIATION_CAUSES)}")
    if not text.strip():
        raise ActionError("请填写具体说明")
    state = session.exec(select(IndicatorState).where(IndicatorState.indicator_id == indicator_id,
                                                      IndicatorState.occurrence == occurrence)).first()
    if state is None:
        raise ActionError("该指标尚无评估结果")
    if expected_status is not None and state.status != expected_status:
        raise ActionError("该指标的状态已经变化，此链接不再适用；请登录门户查看最新情况")
    states = [state]
    if whole_item:
        states += session.exec(select(IndicatorState).where(IndicatorState.indicator_id == indicator_id,
                                                            IndicatorState.occurrence != occurrence,
                                                            IndicatorState.status == state.status)).all()
    acks = [Acknowledgement(indicator_id=indicator_id, occurrence=s.occurrence, status=s.status, since=s.since,
                            cause=cause, text=text.strip()[:4000], by=by[:254], channel=channel, created_at=now())
            for s in states]
    session.add_all(acks)
    session.commit()
    return acks[0]


def add_waiver(session: Session, *, until: date, reason: str, by: str, project_id: int | None = None,
               indicator_id: int | None = None) -> Waiver:
    if (project_id is None) == (indicator_id is None):
        raise ActionError("豁免须指定一个项目或一个指标（二选一）")
    if not reason.strip():
        raise ActionError("请填写豁免原因")
    if project_id is not None and session.get(Project, project_id) is None:
        raise ActionError(f"项目 {project_id} 不存在")
    if indicator_id is not None and session.get(Indicator, indicator_id) is None:
        raise ActionError(f"指标 {indicator_id} 不存在")
    waiver = Waiver(project_id=project_id, indicator_id=indicator_id, until=until, reason=reason.strip()[:2000],
                    created_by=by[:100], created_at=now())
    session.add(waiver)
    session.commit()
    return waiver


def revoke_waiver(session: Session, waiver_id: int) -> Waiver:
    waiver = session.get(Waiver, waiver_id)
    if waiver is None:
        raise ActionError(f"豁免 {waiver_id} 不存在")
    waiver.revoked_at = now()
    session.add(waiver)
    session.commit()
    return waiver


def add_contact(session: Session, *, department_code: str, name: str, email: str, role: str) -> Contact:
    department = session.exec(select(Department).where(Department.code == department_code)).first()
    if department is None:
        raise ActionError(f"部门代码 {department_code} 不存在")
    if role not in CONTACT_ROLES:
        raise ActionError(f"角色必须是：{'、'.join(CONTACT_ROLES)}")
    email = email.strip()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or any(c in email for c in " \r\n,;<>"):
        raise ActionError(f"邮箱地址无效：{email!r}")
    assert department.id is not None  # read from the database
    contact = Contact(department_id=department.id, name=name.strip(), email=email, role=role, active=True)
    session.add(contact)
    session.commit()
    return contact


def remove_contact(session: Session, contact_id: int) -> Contact:
    """Deactivate rather than delete, so past messages still name who received them."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise ActionError(f"联系人 {contact_id} 不存在")
    contact.active = False
    session.add(contact)
    session.commit()
    return contact
