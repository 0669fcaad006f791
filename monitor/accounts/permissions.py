"""Department scope, shared by every channel (portal, API, upload, CLI) so they cannot drift apart.

A department user sees their own department and the budget units under it; the finance bureau's staff
(admin, auditor) see every department. Auditors read but never write.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, select

from monitor.store.models import Department, Indicator, Project, User

BUREAU_ROLES = ("admin", "auditor")
WRITER_ROLES = ("clerk", "head", "admin")


class NotVisible(LookupError):
    """The object does not exist for this user; callers say 'not found' so existence never leaks."""


class NotAllowed(PermissionError):
    """The user can see the object but their role may not do this."""


def is_bureau(user: User) -> bool:
    return user.role in BUREAU_ROLES


def can_write(user: User) -> bool:
    return user.role in WRITER_ROLES and not user.disabled


def visible_department_ids(session: Session, user: User) -> set[int] | None:
    """The ids of departments `user` may see; None means all of them."""
    if is_bureau(user):
        return None
    if user.department_id is None:
        return set()
    children: dict[int | None, list[int]] = {}
    for dep_id, parent_id in session.exec(select(Department.id, Department.parent_id)).all():
        assert dep_id is not None  # read from the table, so it has its primary key
        children.setdefault(parent_id, []).append(dep_id)
    seen: set[int] = set()
    todo = [user.department_id]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(children.get(current, []))
    return seen


def visible_among(session: Session, user: User, department_ids: Iterable[int]) -> set[int]:
    """Which of `department_ids` the user may see.

    A clerk's own department needs no query; the department tree is read only for another one (a child
    department is visible, a sibling not). This keeps the per-request cost of the API flat.
    """
    wanted = set(department_ids)
    if is_bureau(user):
        return wanted
    if wanted <= {user.department_id}:
        return wanted if user.department_id is not None else set()
    visible = visible_department_ids(session, user)
    return wanted if visible is None else wanted & visible


def may_see_department(session: Session, user: User, department_id: int | None) -> bool:
    visible = visible_department_ids(session, user)
    return visible is None or department_id in visible


def department_for(session: Session, user: User, department_id: int) -> Department:
    department = session.get(Department, department_id)
    if department is None or not may_see_department(session, user, department.id):
        raise NotVisible(f"部门 {department_id} 不存在 (no such department)")
    return department


def project_for(session: Session, user: User, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None or not may_see_department(session, user, project.department_id):
        raise NotVisible(f"项目 {project_id} 不存在 (no such project)")
    return project


def indicator_for(session: Session, user: User, indicator_id: int) -> tuple[Indicator, Project]:
    indicator = session.get(Indicator, indicator_id)
    project = session.get(Project, indicator.project_id) if indicator is not None else None
    if indicator is None or project is None or not may_see_department(session, user, project.department_id):
        raise NotVisible(f"指标 {indicator_id} 不存在 (no such indicator)")
    return indicator, project


def require_writer(user: User) -> None:
    if not can_write(user):
        raise NotAllowed("当前账号只读，不能填报 (this account is read-only)")


def require_bureau_writer(user: User) -> None:
    """The finance bureau's own decisions (a budget adjustment): its admins make them, no department does, not even
    for itself, and the bureau's auditors only read."""
    if not (is_bureau(user) and can_write(user)):
        raise NotAllowed("只有财政局管理员可以调整预算 (only the finance bureau's admins may adjust a budget)")
